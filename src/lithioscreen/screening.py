"""Screening at scale: alloy overlayers on composition grids (and thickness grids), ranked in chunks.

``alloy_grid(elements, "binary", 0.1)`` lists every pair of the elements at atomic fractions
0.1, 0.2, ..., 0.9 (the pure elements are the ordinary ranking); ``"ternary"`` every triple at
fractions that are multiples of the step, each at least one step. Compositions are written with
the elements in the order given (``Cr0.3W0.7``) and built straight into the candidate table: the
elements are validated once, not every row. :func:`rank_screen` ranks the table chunk by chunk
(every chunk featurized and predicted at once, see :func:`lithioscreen.ranking.describe_candidates`)
and reports progress after each chunk; the ranking is then sorted as a whole.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from lithioscreen import config
from lithioscreen.candidates import (
    CANDIDATE_COLUMNS,
    DEFAULT_MAX_CANDIDATES,
    NO_UNDERLAYER,
    CandidateError,
    check_candidate_count,
    check_thickness,
    parse_overlayer,
    parse_underlayer,
)

ALLOY_ORDERS = {"binary": 2, "ternary": 3}
DEFAULT_CHUNK_ROWS = 4096
#: The finest composition grid: 0.1 at.% is below what any deposition controls (1e-300 looped forever).
MIN_GRID_STEP = 0.001


def grid_divisions(step: float, order: int = 1) -> int:
    """``1 / step`` for a valid grid step (at least :data:`MIN_GRID_STEP`, dividing 1); CandidateError otherwise."""
    if not (math.isfinite(step) and 0 < step < 1):
        raise CandidateError(f"grid step {step:g} must lie between 0 and 1")
    if step < MIN_GRID_STEP:
        raise CandidateError(f"grid step {step:g} is below the finest grid, {MIN_GRID_STEP:g}")
    n = round(1 / step)
    if not np.isclose(n * step, 1.0, rtol=0, atol=1e-9):
        raise CandidateError(f"grid step {step:g} does not divide 1 (use 0.1, 0.05, 0.25, ...)")
    if n < order:
        raise CandidateError(f"grid step {step:g} is too coarse for {order} elements, each at least one step")
    return n


def grid_size(n_elements: int, alloys: str, step: float) -> int:
    """How many compositions :func:`alloy_grid` makes, computed without building them:
    C(elements, order) element sets × C(1/step - 1, order - 1) fraction vectors (each fraction >= step)."""
    if alloys not in ALLOY_ORDERS:
        raise CandidateError(f"--alloys must be one of {', '.join(ALLOY_ORDERS)}, not {alloys!r}")
    order = ALLOY_ORDERS[alloys]
    n = grid_divisions(step, order)
    return math.comb(n_elements, order) * math.comb(n - 1, order - 1)


def check_grid_size(n_elements: int, alloys: str, step: float, n_thicknesses: int = 1, max_candidates: int | None = DEFAULT_MAX_CANDIDATES) -> int:
    """The number of candidates of an alloy screen; CandidateError above ``max_candidates`` (None: no cap)."""
    count = grid_size(n_elements, alloys, step) * n_thicknesses
    what = f"{alloys} alloys of {n_elements} elements on a {step:g} grid at {n_thicknesses} thickness(es) make {count:,} candidates"
    check_candidate_count(count, max_candidates, what)
    return count


def check_pool_size(
    elements: Sequence[str],
    underlayer: str,
    n_thicknesses: int,
    alloys: bool = False,
    alloy_step: float = 0.25,
    alloy_elements: Sequence[str] | None = None,
    max_candidates: int | None = DEFAULT_MAX_CANDIDATES,
) -> int:
    """The size of ``suggest``'s pool (:func:`lithioscreen.suggest.candidate_pool`: the elements and,
    with ``alloys``, their binary grid, at every thickness) before it is built; CandidateError above the cap."""
    singles = [element for element in dict.fromkeys(elements) if element != underlayer]
    count = len(singles)
    if alloys:
        constituents = {element for element in (alloy_elements or singles) if element != underlayer}
        count += grid_size(len(constituents), "binary", alloy_step)
    count *= max(n_thicknesses, 1)
    check_candidate_count(count, max_candidates, f"{count:,} candidates to score")
    return count


def grid_fractions(order: int, step: float) -> np.ndarray:
    """Every ``(order,)`` fraction vector on the grid, all fractions >= step, summing to 1."""
    n = grid_divisions(step, order)
    counts = [c for c in _compositions(n, order) if min(c) >= 1]
    return np.array(counts, dtype=float) / n


def _compositions(total: int, parts: int):
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)


def _format_fraction(value: float) -> str:
    return f"{round(value, 10):g}"


def alloy_grid(
    elements: Sequence[str], alloys: str = "binary", step: float = 0.1, max_candidates: int | None = DEFAULT_MAX_CANDIDATES
) -> list[str]:
    """Composition strings of every pair (or triple) of ``elements`` on the grid, e.g. ``Cr0.3W0.7``.

    The count is checked against ``max_candidates`` before anything is built (None: no cap).
    """
    if alloys not in ALLOY_ORDERS:
        raise CandidateError(f"--alloys must be one of {', '.join(ALLOY_ORDERS)}, not {alloys!r}")
    order = ALLOY_ORDERS[alloys]
    symbols = list(dict.fromkeys(str(element).strip() for element in elements))
    check_grid_size(len(symbols), alloys, step, 1, max_candidates)
    for symbol in symbols:
        composition = parse_overlayer(symbol)  # metals only, no Li: the same rules as any candidate
        if len(composition.elements) != 1:
            raise CandidateError(f"{symbol!r}: alloy grids are built from single elements")
    if len(symbols) < order:
        raise CandidateError(f"{alloys} alloys need at least {order} elements, got {len(symbols)}")
    fractions = grid_fractions(order, step)
    labels = [[_format_fraction(x) for x in row] for row in fractions]
    return [
        "".join(f"{symbol}{label}" for symbol, label in zip(combo, row))
        for combo in combinations(symbols, order)
        for row in labels
    ]


def grid_candidates(
    compositions: Sequence[str],
    overlayer_nm: Sequence[float] = (config.DEFAULT_OVERLAYER_NM,),
    underlayer: str | None = config.DEFAULT_UNDERLAYER,
    underlayer_nm: float = config.DEFAULT_UNDERLAYER_NM,
) -> pd.DataFrame:
    """Candidate table: every composition at every overlayer thickness, on one underlayer."""
    thicknesses = [check_thickness(value, "overlayer_nm") for value in overlayer_nm]
    if not thicknesses:
        raise CandidateError("no overlayer thickness given")
    beneath = parse_underlayer(underlayer)
    below_nm = 0.0 if beneath == NO_UNDERLAYER else check_thickness(underlayer_nm, "underlayer_nm", allow_zero=True)
    if beneath != NO_UNDERLAYER and below_nm == 0:
        raise CandidateError(f"underlayer {beneath} has 0 nm thickness (write 'none' for no underlayer)")
    compositions = list(compositions)
    frame = pd.DataFrame(
        {
            # composition-major, so that a chunk holds every thickness of its compositions
            "candidate": np.repeat(np.asarray(compositions, dtype=object), len(thicknesses)),
            "overlayer_nm": np.tile(np.asarray(thicknesses, dtype=float), len(compositions)),
            "underlayer": beneath,
            "underlayer_nm": below_nm,
        }
    )
    return frame[CANDIDATE_COLUMNS]


def alloy_screen(
    elements: Sequence[str],
    alloys: str = "binary",
    step: float = 0.1,
    overlayer_nm: Sequence[object] = (config.DEFAULT_OVERLAYER_NM,),
    underlayer: str | None = config.DEFAULT_UNDERLAYER,
    underlayer_nm: float = config.DEFAULT_UNDERLAYER_NM,
    max_candidates: int | None = DEFAULT_MAX_CANDIDATES,
) -> pd.DataFrame:
    """The candidate table of an alloy screen: every composition of :func:`alloy_grid` at every
    thickness. Its size is checked against ``max_candidates`` before anything is built."""
    symbols = list(dict.fromkeys(str(element).strip() for element in elements))
    thicknesses = [check_thickness(value, "overlayer_nm") for value in overlayer_nm]
    check_grid_size(len(symbols), alloys, step, max(len(thicknesses), 1), max_candidates)
    return grid_candidates(alloy_grid(symbols, alloys, step, max_candidates=None), thicknesses, underlayer, underlayer_nm)


def featurize_screen(candidates: pd.DataFrame, include_magpie: bool = True, chunk_rows: int = DEFAULT_CHUNK_ROWS):
    """The descriptor table of ``candidates`` chunk by chunk (candidate columns first): memory stays
    bounded by one chunk's descriptors (148 columns), however long the table."""
    from lithioscreen.features import make_featurizer

    featurizer = make_featurizer(include_magpie=include_magpie).fit(candidates.head(1))
    for start in range(0, len(candidates), chunk_rows):
        chunk = candidates.iloc[start : start + chunk_rows].reset_index(drop=True)
        described = featurizer.transform(chunk)
        described = described.drop(columns=[column for column in described.columns if column in chunk.columns])
        yield pd.concat([chunk, described.reset_index(drop=True)], axis=1)


def rank_screen(
    candidates: pd.DataFrame,
    champion,
    threshold_mev_per_a2: float = config.DEFAULT_THRESHOLD_MEV_PER_A2,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """:func:`~lithioscreen.ranking.rank_candidates` in chunks of ``chunk_rows``; ``progress(done, total)`` after each."""
    from lithioscreen.ranking import describe_candidates, order_ranking

    total = len(candidates)
    parts = []
    for start in range(0, total, chunk_rows):
        chunk = candidates.iloc[start : start + chunk_rows]
        parts.append(describe_candidates(chunk, champion, threshold_mev_per_a2))
        if progress is not None:
            progress(min(start + chunk_rows, total), total)
    return order_ranking(pd.concat(parts, ignore_index=True))
