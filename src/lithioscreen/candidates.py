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
    """Parse an overlayer composition (``W``, ``Cr0.5W0.5``) into a fractional pymatgen Composition.

    Parameters
    ----------
    text : str
        The composition as written; surrounding whitespace is ignored.

    Returns
    -------
    pymatgen.core.Composition
        Atomic fractions summing to 1.

    Raises
    ------
    CandidateError
        For an empty or unparsable formula, amounts that do not normalise, an unknown element, Li,
        or an element that is not a metal or metalloid.
    """
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
    """Validate an overlayer composition as :func:`parse_overlayer` does, without pymatgen where possible.

    A plain formula of known metals (``Cr0.5W0.5``) is checked without pymatgen; anything else goes
    through :func:`parse_overlayer` and its errors.

    Parameters
    ----------
    text : str
        The composition as written.

    Raises
    ------
    CandidateError
        As :func:`parse_overlayer`.
    """
    from lithioscreen.compositions import plain_formula_symbols

    symbols = plain_formula_symbols(text)
    if not symbols or "Li" in symbols or not METALS_AND_METALLOIDS.issuperset(symbols):
        parse_overlayer(text)


def parse_underlayer(text: str | None) -> str:
    """Return the underlayer element symbol, or ``none``.

    Parameters
    ----------
    text : str or None
        An element symbol; None, ``""``, ``none``, ``no`` or ``0`` mean no underlayer.

    Returns
    -------
    str
        The element symbol (``Mg``), or :data:`NO_UNDERLAYER`.

    Raises
    ------
    CandidateError
        If ``text`` is not a single metal or metalloid element other than Li.
    """
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
    """A layer thickness in nm within the physical limits of :mod:`lithioscreen.validation`.

    Parameters
    ----------
    value : object
        The thickness, nm: a number or its ASCII text (a boolean is refused).
    name : str
        The column or parameter named in the error (``overlayer_nm``).
    allow_zero : bool
        Accept 0 for "no layer", the underlayer of a bare stack.

    Returns
    -------
    float
        The thickness, nm.

    Raises
    ------
    CandidateError
        If ``value`` is not a number, or lies outside 0.1 nm-100 µm (0 allowed with ``allow_zero``).
    """
    try:
        thickness = as_number(value)
    except ValueError:
        raise CandidateError(f"{name} {value!r} is not a number") from None
    problem = thickness_problem(thickness, allow_zero)
    if problem:
        raise CandidateError(f"{name} {problem}")
    return thickness


def check_threshold(value: object) -> float:
    """An interfacial-energy threshold, meV/Å²: finite and within the range of the data files.

    Parameters
    ----------
    value : object
        The threshold, meV/Å²: a number or its ASCII text.

    Returns
    -------
    float
        The threshold, meV/Å².

    Raises
    ------
    CandidateError
        If it is not a finite number within ±1000 meV/Å².
    """
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
    """Build a validated candidate table, all candidates on the same layer stack.

    Parameters
    ----------
    candidates : iterable of str
        Overlayer compositions (``W``, ``Cr0.5W0.5``).
    overlayer_nm : float
        Overlayer thickness, nm.
    underlayer : str or None
        Underlayer element; None or ``none`` for no underlayer.
    underlayer_nm : float
        Underlayer thickness, nm; set to 0 when there is no underlayer.

    Returns
    -------
    pandas.DataFrame
        One row per candidate, columns :data:`CANDIDATE_COLUMNS`.

    Raises
    ------
    CandidateError
        For an empty list or any invalid composition, element or thickness (see
        :func:`validate_candidates`).
    """
    frame = pd.DataFrame({"candidate": list(candidates)})
    frame["overlayer_nm"] = overlayer_nm
    frame["underlayer"] = underlayer
    frame["underlayer_nm"] = underlayer_nm
    return validate_candidates(frame)


def validate_candidates(frame: pd.DataFrame, source: str = "candidates") -> pd.DataFrame:
    """Check and normalise a candidate table; missing layer columns take the paper's defaults.

    Parameters
    ----------
    frame : pandas.DataFrame
        A ``candidate`` column and optionally ``overlayer_nm``, ``underlayer``, ``underlayer_nm``
        (missing ones: 30 nm on 200 nm Mg). Other columns are dropped.
    source : str
        What the error messages name (a file path, ``candidates``).

    Returns
    -------
    pandas.DataFrame
        A new table with columns :data:`CANDIDATE_COLUMNS`, thicknesses as floats, the underlayer
        as a symbol or ``none`` (then 0 nm), the candidate stripped of surrounding whitespace.

    Raises
    ------
    CandidateError
        At the first bad row (naming it), for no ``candidate`` column, or an empty table.
    """
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

    Parameters
    ----------
    path : str or pathlib.Path
        A UTF-8 CSV file.
    max_rows : int or None
        More rows than this are refused (only ``max_rows + 1`` are ever read); None: no cap.

    Returns
    -------
    pandas.DataFrame
        The validated candidate table (:func:`validate_candidates`).

    Raises
    ------
    CandidateError
        If the file is missing, not a regular file, unreadable, not UTF-8 CSV, too long, or has an
        invalid row.
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
    """Refuse a screen of more than ``max_candidates`` rows, before anything is built.

    Parameters
    ----------
    count : int
        The number of candidates of the screen.
    max_candidates : int or None
        The cap; None: no cap.
    what : str
        The start of the error message (default: ``"<count> candidates"``).

    Raises
    ------
    CandidateError
        If ``count`` exceeds ``max_candidates``.
    """
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

    Parameters
    ----------
    candidate : str
        A validated composition (see :func:`check_overlayer`).

    Returns
    -------
    dict of str to float
        Element symbol to atomic fraction; the fractions sum to 1.
    """
    return dict(_fractions(str(candidate).strip()))


@lru_cache(maxsize=1 << 17)
def composition_key(candidate: str, digits: int = 6) -> str:
    """One spelling per composition: ``W0.5Cr0.5``, ``Cr1W1`` and ``CrW`` are all ``Cr0.5W0.5``.

    Parameters
    ----------
    candidate : str
        A validated composition.
    digits : int
        Significant digits of each atomic fraction.

    Returns
    -------
    str
        The element symbol for a pure element; otherwise the elements in alphabetical order, each
        followed by its atomic fraction.
    """
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
    """The number of steps in 1 for a valid composition grid step.

    Parameters
    ----------
    step : float
        Grid step, atomic fraction: at least :data:`MIN_GRID_STEP`, below 1, and dividing 1.
    order : int
        Elements per composition; each takes at least one step.

    Returns
    -------
    int
        ``round(1 / step)``.

    Raises
    ------
    CandidateError
        If ``step`` is not finite, outside (0, 1), finer than :data:`MIN_GRID_STEP`, does not
        divide 1, or is too coarse for ``order`` elements.
    """
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
    """How many compositions :func:`alloy_grid` makes, computed without building them.

    C(elements, order) element sets × C(1/step - 1, order - 1) fraction vectors (each fraction >= step).

    Parameters
    ----------
    n_elements : int
        Number of distinct elements.
    alloys : {"binary", "ternary"}
        Elements per composition.
    step : float
        Grid step, atomic fraction (:func:`grid_divisions`).

    Returns
    -------
    int
        The number of compositions.

    Raises
    ------
    CandidateError
        For an unknown alloy order or an invalid step.
    """
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
    """The number of candidates of an alloy screen, checked against the cap before anything is built.

    Parameters
    ----------
    n_elements, alloys, step
        As for :func:`grid_size`.
    n_thicknesses : int
        Overlayer thicknesses per composition.
    max_candidates : int or None
        The cap; None: no cap.

    Returns
    -------
    int
        Compositions × thicknesses.

    Raises
    ------
    CandidateError
        For an invalid order or step, or a count above ``max_candidates``.
    """
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
    """The size of ``suggest``'s pool (:func:`candidate_pool`), computed before it is built.

    The pool is the elements and, with ``alloys``, their alloy grid, at every thickness. Tested
    stacks are not subtracted, so this is an upper bound.

    Parameters
    ----------
    elements : sequence of str
        Element symbols; duplicates and the underlayer's element are dropped.
    underlayer : str
        The underlayer element.
    n_thicknesses : int
        Overlayer thicknesses per composition (at least 1 is counted).
    alloys : {"binary", "ternary"} or None
        Add the alloy grid of that order; None: single elements only.
    alloy_step : float
        Alloy grid step, atomic fraction.
    alloy_elements : sequence of str or None
        Constituents of the alloys; None: ``elements``.
    max_candidates : int or None
        The cap; None: no cap.

    Returns
    -------
    int
        The number of candidates.

    Raises
    ------
    CandidateError
        For an invalid order or step, or a count above ``max_candidates``.
    """
    singles = [element for element in dict.fromkeys(elements) if element != underlayer]
    count = len(singles)
    if alloys:
        constituents = {element for element in (alloy_elements or singles) if element != underlayer}
        count += grid_size(len(constituents), alloys, alloy_step)
    count *= max(n_thicknesses, 1)
    check_candidate_count(count, max_candidates, f"{count:,} candidates to score")
    return count


def grid_fractions(order: int, step: float) -> np.ndarray:
    """Every fraction vector on the grid, all fractions >= step, summing to 1.

    Parameters
    ----------
    order : int
        Elements per composition.
    step : float
        Grid step, atomic fraction (:func:`grid_divisions`).

    Returns
    -------
    numpy.ndarray
        Shape ``(m, order)``, one composition per row, in lexicographic order.

    Raises
    ------
    CandidateError
        For an invalid step.
    """
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

    Parameters
    ----------
    elements : sequence of str
        Single elements (metals or metalloids, not Li); duplicates are dropped, the order is kept
        within each composition.
    alloys : {"binary", "ternary"}
        Elements per composition.
    step : float
        Grid step, atomic fraction; every fraction is at least one step.
    max_candidates : int or None
        The count is checked against this before anything is built; None: no cap.

    Returns
    -------
    list of str
        One composition per element set and fraction vector.

    Raises
    ------
    CandidateError
        For an invalid order, step or element, fewer elements than the order, or too many
        compositions.
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
    """Candidate table: every composition at every overlayer thickness, on one underlayer.

    The compositions are not validated here (alloy grids are validated once per element).

    Parameters
    ----------
    compositions : sequence of str
        Overlayer compositions.
    overlayer_nm : sequence of float
        Overlayer thicknesses, nm.
    underlayer : str or None
        Underlayer element; None or ``none`` for no underlayer.
    underlayer_nm : float
        Underlayer thickness, nm (ignored without an underlayer).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CANDIDATE_COLUMNS`, ``len(compositions) * len(overlayer_nm)`` rows,
        composition-major (every thickness of a composition in consecutive rows).

    Raises
    ------
    CandidateError
        For no thickness, an invalid thickness or underlayer, or a 0 nm underlayer.
    """
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
    """The candidate table of an alloy screen: every composition of :func:`alloy_grid` at every thickness.

    Parameters
    ----------
    elements : sequence of str
        Single elements to alloy.
    alloys : {"binary", "ternary"}
        Elements per composition.
    step : float
        Grid step, atomic fraction.
    overlayer_nm : sequence of object
        Overlayer thicknesses, nm (numbers or their text).
    underlayer : str or None
        Underlayer element; None or ``none`` for no underlayer.
    underlayer_nm : float
        Underlayer thickness, nm.
    max_candidates : int or None
        The size is checked against this before anything is built; None: no cap.

    Returns
    -------
    pandas.DataFrame
        The candidate table (:func:`grid_candidates`).

    Raises
    ------
    CandidateError
        As :func:`alloy_grid` and :func:`grid_candidates`.
    """
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
    """Every element of the phase-data table as an overlayer on the given stack.

    Parameters
    ----------
    phase_data : pandas.DataFrame
        The phase-data table (:func:`lithioscreen.data.load_phase_data`); its ``element`` column is used.
    overlayer_nm : float
        Overlayer thickness, nm.
    underlayer : str
        Underlayer element, or ``none``.
    underlayer_nm : float
        Underlayer thickness, nm.

    Returns
    -------
    pandas.DataFrame
        The validated candidate table (:func:`make_candidates`).
    """
    return make_candidates(phase_data["element"].tolist(), overlayer_nm, underlayer, underlayer_nm)


def stack_key(candidate: str, overlayer_nm: float, underlayer: str, underlayer_nm: float) -> tuple:
    """One key per stack as built: composition, thicknesses (to 1e-6 nm) and the underlayer.

    Parameters
    ----------
    candidate : str
        Overlayer composition.
    overlayer_nm : float
        Overlayer thickness, nm.
    underlayer : str
        Underlayer element, or ``none``.
    underlayer_nm : float
        Underlayer thickness, nm (taken as 0 without an underlayer).

    Returns
    -------
    tuple
        ``(composition_key, overlayer_nm, underlayer, underlayer_nm)``, thicknesses rounded to 6 decimals.
    """
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
    """Every untested stack: elements (and, with ``alloys``, their alloy grid) × thicknesses on the underlayer.

    Parameters
    ----------
    elements : iterable of str
        Element symbols; duplicates and the underlayer's element are dropped.
    cells : pandas.DataFrame
        The validated ``cells.csv`` table: every stack in it counts as tested, whether or not a CCD
        came out of it (a cell that was built and gave no CCD is no suggestion either).
    thicknesses_nm : sequence of float
        Overlayer thicknesses, nm.
    underlayer : str
        Underlayer element.
    underlayer_nm : float
        Underlayer thickness, nm.
    alloys : {"binary", "ternary"} or None
        Add the alloy grid of that order; None: single elements only.
    alloy_step : float
        Alloy grid step, atomic fraction.
    alloy_elements : sequence of str or None
        Constituents of the alloys (sorted alphabetically before the grid is built); None: ``elements``.

    Returns
    -------
    pandas.DataFrame
        The untested stacks, columns :data:`CANDIDATE_COLUMNS`, thickness-major.

    Raises
    ------
    CandidateError
        For an invalid element, thickness or grid, or too few alloy constituents.
    ValueError
        If no composition or no thickness is left.
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
