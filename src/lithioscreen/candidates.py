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
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from lithioscreen import config
from lithioscreen.validation import (
    MAX_THICKNESS_NM,
    MIN_THICKNESS_NM,
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
    from lithioscreen.features.composition_matrix import finite_total

    amounts = [float(amount) for amount in amounts]
    total = finite_total(amounts)
    return total is not None and all(a / total > 0 for a in amounts if a > 0)


def check_overlayer(text: str) -> None:
    """Validate like :func:`parse_overlayer`; a plain formula of known metals (``Cr0.5W0.5``) is
    checked without pymatgen, anything else goes through :func:`parse_overlayer` and its errors."""
    from lithioscreen.features.composition_matrix import plain_formula_symbols

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
            raise CandidateError(f"{where}: underlayer {underlayer} has 0 nm thickness (write 'none' for no underlayer)")
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
            "raise it with --max-candidates, or split the screen"
        )


@lru_cache(maxsize=1 << 16)
def _fractions(candidate: str) -> tuple[tuple[str, float], ...]:
    from lithioscreen.features.composition_matrix import parse_formula

    pairs = parse_formula(candidate)
    total = sum(amount for _, amount in pairs)
    return tuple((symbol, amount / total) for symbol, amount in pairs)


def element_fractions(candidate: str) -> dict[str, float]:
    """Atomic fractions of the overlayer's elements in written order, e.g. ``{'Cr': 0.5, 'W': 0.5}``.

    ``candidate`` must be a validated composition (see :func:`check_overlayer`).
    """
    return dict(_fractions(str(candidate).strip()))


def composition_key(candidate: str, digits: int = 6) -> str:
    """One spelling per composition: ``W0.5Cr0.5``, ``Cr1W1`` and ``CrW`` are all ``Cr0.5W0.5``."""
    fractions = sorted(element_fractions(candidate).items())
    if len(fractions) == 1:
        return fractions[0][0]
    return "".join(f"{symbol}{fraction:.{digits}g}" for symbol, fraction in fractions)
