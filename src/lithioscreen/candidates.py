"""Candidate overlayers as users write them: ``W``, ``Nb``, ``W0.5Cr0.5``, with a layer stack.

A candidate table has one row per candidate and the columns

    candidate      composition string of the overlayer (the layer that faces the electrolyte)
    overlayer_nm   overlayer thickness, nm
    underlayer     element of the layer beneath (``Mg``), or ``none``
    underlayer_nm  underlayer thickness, nm (0 when there is none)

Compositions are parsed by pymatgen; every element must be a metal or metalloid, and Li itself
is not an overlayer candidate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lithioscreen import config
from lithioscreen.validation import (
    as_number,
    regular_file_problem,
    thickness_problem,
    threshold_problem,
)

if TYPE_CHECKING:
    from pymatgen.core import Composition

CANDIDATE_COLUMNS = ["candidate", "overlayer_nm", "underlayer", "underlayer_nm"]
NO_UNDERLAYER = "none"
# MIN_THICKNESS_NM, MAX_THICKNESS_NM: the physical limits of a layer (lithioscreen.validation), re-exported here
DEFAULT_MAX_CANDIDATES = config.DEFAULT_MAX_CANDIDATES


#: pymatgen's ``Element.is_metal or Element.is_metalloid``, spelled out so that validating a plain
#: formula needs no pymatgen import (``tests/test_screening.py`` checks it against pymatgen).
METALS_AND_METALLOIDS = frozenset(
    "Li Be B Na Mg Al Si K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn "
    "Sb Te Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po Fr Ra Ac Th "
    "Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn".split()
)


class CandidateError(ValueError):
    """A candidate, thickness or candidate file that cannot be used; the message names the value."""


def parse_overlayer(text: str) -> Composition:
    """Parse an overlayer composition (``W``, ``Cr0.5W0.5``) into a fractional pymatgen Composition."""
    from pymatgen.core import Composition, Element  # imported here: `lithioscreen --help` need not load pymatgen

    value = str(text).strip()
    if not value:
        raise CandidateError("empty candidate composition")
    try:
        composition = Composition(value)
    except Exception as error:  # pymatgen raises ValueError/KeyError/... for bad formulas
        raise CandidateError(f"cannot parse composition {value!r}: {error}") from None
    if composition.num_atoms <= 0:
        raise CandidateError(f"composition {value!r} has no atoms")
    if not _normalises(composition.values()):
        raise CandidateError(f"composition {value!r}: the amounts do not normalise to finite atomic fractions")
    for element in composition.elements:
        if not isinstance(element, Element):
            raise CandidateError(f"{value!r}: unknown element {getattr(element, 'symbol', str(element))!r}")
        if element.symbol == "Li":
            raise CandidateError(f"{value!r}: Li cannot be its own protective layer")
        if not (element.is_metal or element.is_metalloid):
            raise CandidateError(f"{value!r}: {element.symbol} is not a metal or metalloid")
    return composition.fractional_composition


def _normalises(amounts) -> bool:
    """Amounts whose sum and fractions are finite (``W1e308Cr1e308`` overflows: its fractions are 0/NaN)."""
    from lithioscreen.compositions import finite_total

    amounts = [float(amount) for amount in amounts]
    total = finite_total(amounts)
    return total is not None and all(a / total > 0 for a in amounts if a > 0)


def check_overlayer(text: str) -> None:
    """Validate like :func:`parse_overlayer`; a plain formula of known metals (``Cr0.5W0.5``) is
    checked without pymatgen, anything else goes through :func:`parse_overlayer` and its errors."""
    from lithioscreen.compositions import plain_formula_symbols

    symbols = plain_formula_symbols(text)
    if not symbols or "Li" in symbols or not METALS_AND_METALLOIDS.issuperset(symbols):
        parse_overlayer(text)


def parse_underlayer(text: str | None) -> str:
    """Return the underlayer element symbol, or ``none``."""
    value = NO_UNDERLAYER if text is None else str(text).strip()
    if value.lower() in {"", NO_UNDERLAYER, "no", "0"}:
        return NO_UNDERLAYER
    if value in METALS_AND_METALLOIDS and value != "Li":
        return value
    composition = parse_overlayer(value)
    if len(composition.elements) != 1:
        raise CandidateError(f"underlayer {value!r} must be a single element")
    return composition.elements[0].symbol


def check_thickness(value: object, name: str, allow_zero: bool = False) -> float:
    """A layer thickness in nm within the physical limits of :mod:`lithioscreen.validation`
    (``allow_zero``: 0 for "no layer", the underlayer of a bare stack)."""
    try:
        thickness = as_number(value)
    except ValueError:
        raise CandidateError(f"{name} {value!r} is not a number") from None
    problem = thickness_problem(thickness, allow_zero)
    if problem:
        raise CandidateError(f"{name} {problem}")
    return thickness


def check_threshold(value: object) -> float:
    """An interfacial-energy threshold, meV/Å²: finite and within the range of the data files."""
    try:
        threshold = as_number(value)
    except ValueError:
        raise CandidateError(f"threshold {value!r} is not a number") from None
    problem = threshold_problem(threshold)
    if problem:
        raise CandidateError(problem)
    return threshold


def make_candidates(
    candidates: Iterable[str],
    overlayer_nm: float = config.DEFAULT_OVERLAYER_NM,
    underlayer: str | None = config.DEFAULT_UNDERLAYER,
    underlayer_nm: float = config.DEFAULT_UNDERLAYER_NM,
) -> pd.DataFrame:
    """Build a validated candidate table, all candidates on the same layer stack."""
    frame = pd.DataFrame({"candidate": list(candidates)})
    frame["overlayer_nm"] = overlayer_nm
    frame["underlayer"] = underlayer
    frame["underlayer_nm"] = underlayer_nm
    return validate_candidates(frame)


def validate_candidates(frame: pd.DataFrame, source: str = "candidates") -> pd.DataFrame:
    """Check and normalise a candidate table; missing layer columns take the paper's defaults."""
    if "candidate" not in frame.columns:
        raise CandidateError(f"{source}: no 'candidate' column (columns: {', '.join(map(str, frame.columns))})")
    if frame.empty:
        raise CandidateError(f"{source}: no candidates")
    frame = frame.copy()
    defaults = {
        "overlayer_nm": config.DEFAULT_OVERLAYER_NM,
        "underlayer": config.DEFAULT_UNDERLAYER,
        "underlayer_nm": config.DEFAULT_UNDERLAYER_NM,
    }
    for column, default in defaults.items():
        if column not in frame.columns:
            frame[column] = default
    rows = []
    for position, row in enumerate(frame.itertuples(index=False), start=1):
        where = f"{source}: row {position}"
        try:
            check_overlayer(row.candidate)
            underlayer = parse_underlayer(row.underlayer)
            overlayer_nm = check_thickness(row.overlayer_nm, "overlayer_nm")
            underlayer_nm = check_thickness(row.underlayer_nm, "underlayer_nm", allow_zero=True)
        except CandidateError as error:
            raise CandidateError(f"{where}: {error}") from None
        if underlayer == NO_UNDERLAYER:
            underlayer_nm = 0.0
        elif underlayer_nm == 0:
            raise CandidateError(
                f"{where}: underlayer {underlayer} has 0 nm thickness (write 'none' for no underlayer)"
            )
        rows.append(
            {
                "candidate": str(row.candidate).strip(),
                "overlayer_nm": overlayer_nm,
                "underlayer": underlayer,
                "underlayer_nm": underlayer_nm,
            }
        )
    return pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)


def read_candidates_file(path: str | Path, max_rows: int | None = DEFAULT_MAX_CANDIDATES) -> pd.DataFrame:
    """Read a CSV with a ``candidate`` column and optional thickness/underlayer columns.

    More than ``max_rows`` rows is refused (only ``max_rows + 1`` are ever read); None: no cap.
    """
    path = Path(path)
    problem = regular_file_problem(path)
    if problem:
        raise CandidateError(f"{path}: {problem}")
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8", nrows=None if max_rows is None else max_rows + 1
        )
    except FileNotFoundError:
        raise CandidateError(f"{path}: file not found") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise CandidateError(f"{path}: cannot read as UTF-8 CSV ({error})") from None
    except OSError as error:
        raise CandidateError(f"{path}: cannot read: {error.strerror or error}") from None
    check_candidate_count(len(frame), max_rows, f"{path}: more than {max_rows:,} rows" if max_rows is not None else "")
    return validate_candidates(frame, source=str(path))


def check_candidate_count(count: int, max_candidates: int | None, what: str = "") -> None:
    """Refuse a screen of more than ``max_candidates`` rows (None: no cap), before anything is built."""
    if max_candidates is not None and count > max_candidates:
        what = what or f"{count:,} candidates"
        raise CandidateError(
            f"{what}: above the cap of {max_candidates:,} candidates per run (each ranked row costs about 1.5 KB of memory); "
            "raise the cap (`max_candidates`), or split the screen"
        )


@lru_cache(maxsize=1 << 16)
def _fractions(candidate: str) -> tuple[tuple[str, float], ...]:
    from lithioscreen.compositions import parse_formula

    pairs = parse_formula(candidate)
    total = sum(amount for _, amount in pairs)
    return tuple((symbol, amount / total) for symbol, amount in pairs)


def element_fractions(candidate: str) -> dict[str, float]:
    """Atomic fractions of the overlayer's elements in written order, e.g. ``{'Cr': 0.5, 'W': 0.5}``.

    ``candidate`` must be a validated composition (see :func:`check_overlayer`).
    """
    return dict(_fractions(str(candidate).strip()))


@lru_cache(maxsize=1 << 17)
def composition_key(candidate: str, digits: int = 6) -> str:
    """One spelling per composition: ``W0.5Cr0.5``, ``Cr1W1`` and ``CrW`` are all ``Cr0.5W0.5``."""
    fractions = sorted(element_fractions(candidate).items())
    if len(fractions) == 1:
        return fractions[0][0]
    return "".join(f"{symbol}{fraction:.{digits}g}" for symbol, fraction in fractions)


# --------------------------------------------------------------------------- candidate pools and grids
#
# Every candidate table the tool builds comes from here: the default set (every metal of the
# phase data), alloy grids (``rank --alloys``), and the untested pool ``suggest`` scores. Alloy
# compositions are written with the elements in the order given (``Cr0.3W0.7``) and built straight
# into the candidate table: the elements are validated once, not every row. Every size is checked
# against a cap before anything is built.

ALLOY_ORDERS = {"binary": 2, "ternary": 3}
#: The finest composition grid: 0.1 at.% is below what any deposition controls (1e-300 looped forever).
MIN_GRID_STEP = 0.001


#: Overlayer thicknesses ``suggest`` tries by default, nm: the paper's 30 nm and one step either side.
DEFAULT_POOL_THICKNESSES_NM = (10.0, 30.0, 50.0)
#: Alloy composition grid step of ``suggest`` (atomic fraction): 0.25 gives 25/50/75 %.
DEFAULT_POOL_ALLOY_STEP = 0.25


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
        raise CandidateError(f"alloy order must be one of {', '.join(ALLOY_ORDERS)}, not {alloys!r}")
    order = ALLOY_ORDERS[alloys]
    n = grid_divisions(step, order)
    return math.comb(n_elements, order) * math.comb(n - 1, order - 1)


def check_grid_size(
    n_elements: int,
    alloys: str,
    step: float,
    n_thicknesses: int = 1,
    max_candidates: int | None = DEFAULT_MAX_CANDIDATES,
) -> int:
    """The number of candidates of an alloy screen; CandidateError above ``max_candidates`` (None: no cap)."""
    count = grid_size(n_elements, alloys, step) * n_thicknesses
    what = f"{alloys} alloys of {n_elements} elements on a {step:g} grid at {n_thicknesses} thickness(es) make {count:,} candidates"
    check_candidate_count(count, max_candidates, what)
    return count


def check_pool_size(
    elements: Sequence[str],
    underlayer: str,
    n_thicknesses: int,
    alloys: str | None = None,
    alloy_step: float = 0.25,
    alloy_elements: Sequence[str] | None = None,
    max_candidates: int | None = DEFAULT_MAX_CANDIDATES,
) -> int:
    """The size of ``suggest``'s pool (:func:`candidate_pool`: the elements and, with ``alloys``
    (``binary`` or ``ternary``), their alloy grid, at every thickness) before it is built;
    CandidateError above the cap."""
    singles = [element for element in dict.fromkeys(elements) if element != underlayer]
    count = len(singles)
    if alloys:
        constituents = {element for element in (alloy_elements or singles) if element != underlayer}
        count += grid_size(len(constituents), alloys, alloy_step)
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
    elements: Sequence[str],
    alloys: str = "binary",
    step: float = 0.1,
    max_candidates: int | None = DEFAULT_MAX_CANDIDATES,
) -> list[str]:
    """Composition strings of every pair (or triple) of ``elements`` on the grid, e.g. ``Cr0.3W0.7``.

    The count is checked against ``max_candidates`` before anything is built (None: no cap).
    """
    if alloys not in ALLOY_ORDERS:
        raise CandidateError(f"alloy order must be one of {', '.join(ALLOY_ORDERS)}, not {alloys!r}")
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
    return grid_candidates(
        alloy_grid(symbols, alloys, step, max_candidates=None), thicknesses, underlayer, underlayer_nm
    )


def default_candidates(
    phase_data: pd.DataFrame,
    overlayer_nm: float = config.DEFAULT_OVERLAYER_NM,
    underlayer: str = config.DEFAULT_UNDERLAYER,
    underlayer_nm: float = config.DEFAULT_UNDERLAYER_NM,
) -> pd.DataFrame:
    """Every element of the phase-data table as an overlayer on the given stack."""
    return make_candidates(phase_data["element"].tolist(), overlayer_nm, underlayer, underlayer_nm)


def stack_key(candidate: str, overlayer_nm: float, underlayer: str, underlayer_nm: float) -> tuple:
    """One key per stack as built: composition, thicknesses (to 1e-6 nm) and the underlayer."""
    below = 0.0 if underlayer == NO_UNDERLAYER else float(underlayer_nm)
    return (composition_key(candidate), round(float(overlayer_nm), 6), underlayer, round(below, 6))


def candidate_pool(
    elements: Iterable[str],
    cells: pd.DataFrame,
    thicknesses_nm: Sequence[float] = DEFAULT_POOL_THICKNESSES_NM,
    underlayer: str = config.DEFAULT_UNDERLAYER,
    underlayer_nm: float = config.DEFAULT_UNDERLAYER_NM,
    alloys: str | None = None,
    alloy_step: float = DEFAULT_POOL_ALLOY_STEP,
    alloy_elements: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every untested stack: elements (and, with ``alloys`` = ``binary`` or ``ternary``, their alloy
    grid) × thicknesses on the underlayer.

    ``cells`` is the validated ``cells.csv`` table: every stack in it counts as tested, whether or
    not a CCD came out of it (a cell that was built and gave no CCD is no suggestion either).
    """
    elements = [element for element in dict.fromkeys(elements) if element != underlayer]
    compositions = list(elements)
    if alloys:
        constituents = [e for e in (alloy_elements or elements) if e != underlayer]
        for element in constituents:
            if len(parse_overlayer(element).elements) != 1:
                raise CandidateError(f"alloy element {element!r} is not a single element")
        if len(set(constituents)) < ALLOY_ORDERS.get(alloys, 2):
            raise CandidateError(
                f"{alloys} alloys need at least {ALLOY_ORDERS.get(alloys, 2)} elements besides the underlayer {underlayer}, got {constituents}"
            )
        compositions += alloy_grid(sorted(set(constituents)), alloys, alloy_step)
    if not compositions or not thicknesses_nm:
        raise ValueError("no candidates: give at least one element and one thickness")
    frames = [
        make_candidates(compositions, float(thickness), underlayer, underlayer_nm) for thickness in thicknesses_nm
    ]
    pool = pd.concat(frames, ignore_index=True)
    tested = {
        stack_key(row.overlayer, row.overlayer_nm, row.underlayer, row.underlayer_nm) for row in cells.itertuples()
    }
    keep = [stack_key(*row) not in tested for row in pool[CANDIDATE_COLUMNS].itertuples(index=False)]
    return pool[keep].drop_duplicates(subset=CANDIDATE_COLUMNS).reset_index(drop=True)
