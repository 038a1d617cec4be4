"""Many compositions at once: element indices and atomic fractions as two ``(n, k)`` arrays.

Row ``i`` holds the ``k`` (or fewer) elements of composition ``i`` in the order they are written
(``Cr0.3W0.7``: Cr, then W), as indices ``Z - 1`` into :mod:`lithioscreen.elements`,
with their atomic fractions; unused slots have index ``-1`` and fraction 0. Keeping the written
order is what makes the vectorized features equal to matminer's, which sums over a composition's
elements in that order and breaks electronegativity ties by it (Miedema).

The amounts as written are kept beside the fractions: matminer weighs its Magpie statistics by
the composition's amounts, so ``Cr0.3W0.7001`` is featurized exactly as matminer would.

Formulas are parsed by a regular expression for the plain ``Symbol[amount]...`` form every
candidate grid uses; anything else (parentheses, hydrates, ...) goes through pymatgen's
``Composition``, imported only then. Validation (metals only, no Li) stays in
:mod:`lithioscreen.candidates`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lithioscreen.elements import N_ELEMENTS, symbol_index

_TOKEN = re.compile(r"([A-Z][a-z]?)((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)?")
_PLAIN = re.compile(r"(?:[A-Z][a-z]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)?)+")
#: pymatgen drops amounts below this (Composition.amount_tolerance)
AMOUNT_TOLERANCE = 1e-8


@dataclass(frozen=True)
class CompositionMatrix:
    """``n`` compositions as ``(n, k)`` arrays of element indices and atomic fractions.

    Build one with :func:`from_formulas`. ``len()`` is the number of compositions.

    Attributes
    ----------
    elements : numpy.ndarray
        Shape ``(n, k)``, int: ``Z - 1`` per slot in written order, -1 for an empty slot.
    fractions : numpy.ndarray
        Shape ``(n, k)``, float: atomic fractions (rows sum to 1), 0 in empty slots.
    amounts : numpy.ndarray or None
        Shape ``(n, k)``, float: the amounts as written (``Cr0.3W0.7001``); None if not known.
    """

    elements: np.ndarray  # (n, k) int, Z - 1, or -1 for an empty slot
    fractions: np.ndarray  # (n, k) float, atomic fractions (rows sum to 1), 0 in empty slots
    amounts: np.ndarray | None = None  # (n, k) float, the amounts as written (Cr0.3W0.7001), if known

    @property
    def weights(self) -> np.ndarray:
        """The amounts as written where known, else the fractions: matminer's statistics weigh by these.

        Returns
        -------
        numpy.ndarray
            Shape ``(n, k)``.
        """
        return self.fractions if self.amounts is None else self.amounts

    def __len__(self) -> int:
        return self.elements.shape[0]

    @property
    def present(self) -> np.ndarray:
        """Which slots hold an element.

        Returns
        -------
        numpy.ndarray
            Shape ``(n, k)``, bool.
        """
        return self.elements >= 0

    def dense(self) -> np.ndarray:
        """The dense fraction matrix, one column per element.

        Returns
        -------
        numpy.ndarray
            Shape ``(n, 118)``: column ``Z - 1`` holds the atomic fraction of element ``Z``.
        """
        out = np.zeros((len(self), N_ELEMENTS))
        rows, slots = np.nonzero(self.present)
        np.add.at(out, (rows, self.elements[rows, slots]), self.fractions[rows, slots])
        return out

    def element_column(self, values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """Look up a per-element property for every slot.

        Parameters
        ----------
        values : numpy.ndarray
            Shape ``(118,)``, indexed by ``Z - 1`` (e.g. a column of :mod:`lithioscreen.elements`).
        fill : float
            Value for empty slots.

        Returns
        -------
        numpy.ndarray
            Shape ``(n, k)``: ``values[element]`` per slot, ``fill`` in empty slots.
        """
        return np.where(self.present, np.asarray(values)[np.maximum(self.elements, 0)], fill)

    def mixed_with(self, symbol: str, fraction: float) -> CompositionMatrix:
        """``symbol`` (first) mixed with each composition: ``{symbol: f, X: (1 - f)}``, renormalised.

        An element already present is merged into the first slot, as pymatgen's Composition does.

        Parameters
        ----------
        symbol : str
            The element to add (``Li``).
        fraction : float
            Its atomic fraction ``f`` in the mixture, 0 to 1.

        Returns
        -------
        CompositionMatrix
            Shape ``(n, k + 1)``, ``symbol`` in the first slot; ``amounts`` are the mixed fractions.
        """
        index = symbol_index()[symbol]
        elements = np.column_stack([np.full(len(self), index), self.elements])
        amounts = np.column_stack([np.full(len(self), fraction), self.fractions * (1 - fraction)])
        same = elements[:, 1:] == index
        if same.any():
            amounts[:, 0] += np.where(same, amounts[:, 1:], 0).sum(axis=1)
            amounts[:, 1:][same] = 0
            elements[:, 1:][same] = -1
        return _normalised(elements, amounts)


def _normalised(elements: np.ndarray, amounts: np.ndarray) -> CompositionMatrix:
    amounts = np.where(elements >= 0, amounts, 0.0)
    total = np.zeros(len(amounts))
    for slot in range(amounts.shape[1]):  # in slot order, as pymatgen sums a composition
        total = total + amounts[:, slot]
    with np.errstate(invalid="ignore", divide="ignore"):
        fractions = amounts / total[:, None]
    return CompositionMatrix(elements.astype(np.int64), fractions, amounts)


def finite_total(amounts: Iterable[float]) -> float | None:
    """The sum of the amounts if it is finite and positive, else None.

    ``W1e308Cr1e308`` overflows: its fractions would be 0 and NaN, and the features nonsense.

    Parameters
    ----------
    amounts : iterable of float
        Amounts of a composition's elements.

    Returns
    -------
    float or None
        The exact (``math.fsum``) total; None if it overflows, is not finite, or is not positive.
    """
    try:
        total = math.fsum(amounts)
    except (OverflowError, ValueError):  # fsum raises on an intermediate overflow, or on inf - inf
        return None
    return total if math.isfinite(total) and total > 0 else None


def plain_formula_symbols(text: str) -> list[str] | None:
    """The element symbols of a plain formula with positive amounts that normalise (``Cr0.5W0.5``). No pymatgen.

    Parameters
    ----------
    text : str
        A composition as written.

    Returns
    -------
    list of str or None
        The symbols in written order (repeats kept; not checked against the periodic table); None
        for anything but ``Symbol[amount]...``, an amount below :data:`AMOUNT_TOLERANCE`, or a
        total that does not normalise.
    """
    value = str(text).strip()
    if not _PLAIN.fullmatch(value):
        return None
    tokens = _TOKEN.findall(value)
    numbers = [float(amount) if amount else 1.0 for _, amount in tokens]
    if min(numbers) < AMOUNT_TOLERANCE or finite_total(numbers) is None:
        return None
    return [symbol for symbol, _ in tokens]


def parse_formula(text: str) -> list[tuple[str, float]]:
    """``"Cr0.3W0.7"`` -> ``[("Cr", 0.3), ("W", 0.7)]`` (written order, repeated elements merged).

    Plain formulas are read by a regular expression; anything else by pymatgen's ``Composition``.

    Parameters
    ----------
    text : str
        The formula, e.g. ``Cr0.3W0.7`` or ``(CrW)2Mo``.

    Returns
    -------
    list of tuple of (str, float)
        Element symbol and amount as written (not normalised); amounts below
        :data:`AMOUNT_TOLERANCE` are dropped.

    Raises
    ------
    ValueError
        For an unknown element, no atoms, a total that does not normalise, or a formula pymatgen
        cannot read either.
    """
    value = str(text).strip()
    amounts: dict[str, float] = {}
    if _PLAIN.fullmatch(value):
        known = symbol_index()
        for symbol, amount in _TOKEN.findall(value):
            if symbol not in known:
                raise ValueError(f"unknown element {symbol!r} in {value!r}")
            amounts[symbol] = amounts.get(symbol, 0.0) + (float(amount) if amount else 1.0)
    else:
        from pymatgen.core import Composition

        for element, amount in Composition(value).items():
            symbol = getattr(element, "symbol", str(element))
            amounts[symbol] = amounts.get(symbol, 0.0) + float(amount)
    kept = [(symbol, amount) for symbol, amount in amounts.items() if abs(amount) >= AMOUNT_TOLERANCE]
    if not kept or sum(amount for _, amount in kept) <= 0:
        raise ValueError(f"composition {value!r} has no atoms")
    if finite_total(amount for _, amount in kept) is None:
        raise ValueError(f"composition {value!r}: the amounts do not normalise to finite atomic fractions")
    return kept


@lru_cache(maxsize=1 << 17)
def _parsed(formula: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    index = symbol_index()
    value = str(formula).strip()
    if _PLAIN.fullmatch(value):  # the fast path of parse_formula, for plain formulas of known elements
        amounts: dict[str, float] = {}
        for symbol, amount in _TOKEN.findall(value):
            number = float(amount) if amount else 1.0
            amounts[symbol] = amounts[symbol] + number if symbol in amounts else number
        if (
            index.keys() >= amounts.keys()
            and min(amounts.values()) >= AMOUNT_TOLERANCE
            and finite_total(amounts.values()) is not None
        ):
            return tuple(index[symbol] for symbol in amounts), tuple(amounts.values())
    pairs = parse_formula(value)
    return tuple(index[symbol] for symbol, _ in pairs), tuple(amount for _, amount in pairs)


def from_formulas(formulas: Iterable[str]) -> CompositionMatrix:
    """Parse formula strings into a :class:`CompositionMatrix` (parses are cached: featurizers share them).

    Parameters
    ----------
    formulas : iterable of str
        Compositions as written.

    Returns
    -------
    CompositionMatrix
        ``n`` rows, ``k`` = the most elements in any formula (at least 1).

    Raises
    ------
    ValueError
        For a formula :func:`parse_formula` refuses.
    """
    rows = [_parsed(formula) for formula in formulas]
    width = max((len(elements) for elements, _ in rows), default=1) or 1
    elements = np.array([row[0] + (-1,) * (width - len(row[0])) for row in rows], dtype=np.int64).reshape(
        len(rows), width
    )
    amounts = np.array([row[1] + (0.0,) * (width - len(row[1])) for row in rows], dtype=float).reshape(len(rows), width)
    return _normalised(elements, amounts)
