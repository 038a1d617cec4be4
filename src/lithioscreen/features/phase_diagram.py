"""Li-X phase-diagram descriptors: does Li dissolve in X, does it form compounds with X.

Two sources, kept apart by name:

* ``data/li_binary_phase_data.csv``: assessed phase diagrams (maximum solid solubility of Li in X,
  number of Li-X intermetallic compounds). Unknown stays NaN, never 0.
* Miedema's semi-empirical model as shipped offline by matminer: the enthalpy of mixing Li with
  the overlayer at 50 at.% Li (eV/atom). Positive means Li and X repel each other (lithiophobic);
  it is continuous, so it also covers elements without an assessed diagram. The values are
  matminer's ``Miedema(struct_types="all", ss_types="min")`` on the binary ``Li0.5 X0.5``,
  computed for all elements at once (:func:`lithioscreen.features._vectorized.miedema_enthalpies`).

**Alloys.** Every descriptor of an alloy overlayer is the atomic-fraction-weighted mean of its
elements' binary Li-X values (NaN if any element has none): ΔH(Li-(A_x B_1-x)) = x ΔH(Li-A) +
(1-x) ΔH(Li-B). This binary-weighted rule keeps an alloy between its end members. matminer's
ternary extension of Miedema does not (Li0.5Mo0.25W0.25 comes out at 0.716 eV/atom against 0.528
for Li-Mo and 0.542 for Li-W), so it is not used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lithioscreen.features.base import CandidateFeaturizer, broadcast, distinct_compositions

MIEDEMA_FEATURES = (
    "li_x_mixing_enthalpy_ev_per_atom",
    "li_x_miedema_intermetallic_enthalpy_ev_per_atom",
    "li_x_miedema_amorphous_enthalpy_ev_per_atom",
)
_MIEDEMA_LABELS = {
    "li_x_mixing_enthalpy_ev_per_atom": "Miedema_deltaH_ss_min",
    "li_x_miedema_intermetallic_enthalpy_ev_per_atom": "Miedema_deltaH_inter",
    "li_x_miedema_amorphous_enthalpy_ev_per_atom": "Miedema_deltaH_amor",
}
#: an alloy takes the worst class among its elements, in this order of concern
MISCIBILITY_ORDER = ("immiscible", "solid_solution", "unknown", "compound_forming")


# (matrix, columns) of the last call, in one slot (read in one step by a thread): two featurizers ask for the same matrix
_LAST_MIEDEMA: list = [None]


def binary_li_miedema(element_indices: np.ndarray) -> dict[str, np.ndarray]:
    """Miedema enthalpies of the binary Li0.5X0.5 for each element.

    Parameters
    ----------
    element_indices : array_like of int
        Element indices ``Z - 1``, shape ``(m,)``.

    Returns
    -------
    dict of str to numpy.ndarray
        For each name in :data:`MIEDEMA_FEATURES`, the enthalpies in eV/atom, shape ``(m,)``.
    """
    from lithioscreen.compositions import CompositionMatrix
    from lithioscreen.features._vectorized import miedema_enthalpies

    elements = np.asarray(element_indices, dtype=np.int64).reshape(-1, 1)
    singles = CompositionMatrix(elements, np.ones(elements.shape), np.ones(elements.shape))
    with np.errstate(all="ignore"):
        values = miedema_enthalpies(singles.mixed_with("Li", 0.5))
    return {name: np.asarray(values[label], dtype=float) for name, label in _MIEDEMA_LABELS.items()}


def li_miedema_columns(matrix) -> dict[str, np.ndarray]:
    """Li-X Miedema enthalpies of every composition: the fraction-weighted binary Li0.5X0.5 values of its elements.

    See the module docstring for why alloys are weighted rather than computed as ternaries. The
    result of the last call is reused when called again with the same matrix object.

    Parameters
    ----------
    matrix : lithioscreen.compositions.CompositionMatrix
        ``n`` compositions.

    Returns
    -------
    dict of str to numpy.ndarray
        For each name in :data:`MIEDEMA_FEATURES`, eV/atom, shape ``(n,)``.
    """
    last = _LAST_MIEDEMA[0]
    if last is not None and last[0] is matrix:
        return dict(last[1])
    present = matrix.present
    distinct = np.unique(matrix.elements[present])
    binary = binary_li_miedema(distinct)
    position = np.searchsorted(distinct, np.maximum(matrix.elements, 0))
    columns = {}
    for name, values in binary.items():
        per_slot = np.where(present, values[np.minimum(position, len(distinct) - 1)] if len(distinct) else 0.0, 0.0)
        total = np.zeros(len(matrix))
        for slot in range(per_slot.shape[1]):  # in slot order, so that a pure element is exactly its binary value
            total = total + matrix.fractions[:, slot] * per_slot[:, slot]
        columns[name] = total
    _LAST_MIEDEMA[0] = (matrix, columns)
    return dict(columns)


class LiPhaseDiagramFeaturizer(CandidateFeaturizer):
    """Li solubility in X, Li-X compound count and the Miedema Li-X mixing enthalpy.

    Parameters
    ----------
    phase_data : DataFrame, optional
        A validated ``li_binary_phase_data.csv``; read from ``data/`` at ``fit`` when omitted.
    """

    feature_names = (
        "li_solubility_in_x_at_pct",
        "li_solubility_is_upper_bound",
        "li_x_compound_count",
        "li_x_forms_compounds",
        "li_phase_data_available",
        *MIEDEMA_FEATURES,
    )

    # scikit-learn's convention: __init__ only stores its arguments (get_params and clone rely on it);
    # the table is read and indexed in fit.
    def __init__(self, phase_data: pd.DataFrame | None = None):
        self.phase_data = phase_data

    def fit(self, X=None, y=None):
        """Index the phase-data table by element.

        Parameters
        ----------
        X : DataFrame, optional
            A candidate table (not used beyond its columns).
        y : None
            Ignored.

        Returns
        -------
        LiPhaseDiagramFeaturizer
            ``self``.
        """
        from lithioscreen.data import load_phase_data

        table = self.phase_data if self.phase_data is not None else load_phase_data()
        self.table_ = {row["element"]: row for row in table.to_dict("records")}
        return super().fit(X, y)

    def _element_arrays(self) -> dict[str, np.ndarray]:
        """The phase table as arrays indexed by Z - 1 (NaN / False / 'unknown' for absent elements)."""
        from lithioscreen.elements import N_ELEMENTS, symbol_index

        index = symbol_index()
        known = np.zeros(N_ELEMENTS, dtype=bool)
        solubility = np.full(N_ELEMENTS, np.nan)
        count = np.full(N_ELEMENTS, np.nan)
        forms = np.full(N_ELEMENTS, np.nan)
        upper_bound = np.zeros(N_ELEMENTS, dtype=bool)
        miscibility = np.full(N_ELEMENTS, MISCIBILITY_ORDER.index("unknown"))
        exists = {"yes": 1.0, "no": 0.0}
        for symbol, row in self.table_.items():
            if symbol not in index:
                continue
            z = index[symbol]
            known[z] = True
            solubility[z] = (
                np.nan if pd.isna(row["max_li_solubility_in_x_at_pct"]) else float(row["max_li_solubility_in_x_at_pct"])
            )
            count[z] = np.nan if pd.isna(row["li_x_compound_count"]) else float(row["li_x_compound_count"])
            forms[z] = exists.get(row["li_x_compounds_exist"], np.nan)
            upper_bound[z] = row["li_solubility_qualifier"] == "<"
            kind = row["li_x_miscibility"]
            miscibility[z] = (
                MISCIBILITY_ORDER.index(kind) if kind in MISCIBILITY_ORDER else MISCIBILITY_ORDER.index("immiscible")
            )
        return {
            "known": known,
            "solubility": solubility,
            "count": count,
            "forms": forms,
            "upper_bound": upper_bound,
            "miscibility": miscibility,
        }

    def compounds_of(self, candidates) -> list[list[str] | None]:
        """The Li-X compounds of every element of each candidate.

        The answer depends on the elements only and is computed once per set of elements.

        Parameters
        ----------
        candidates : iterable of str
            Compositions.

        Returns
        -------
        list of (list of str or None)
            Per candidate, the compounds of its elements (``LiAl``, ...) in written order, an empty
            list when none form; None when any element is missing from the table or its compounds
            are ``unknown``.
        """
        from lithioscreen.compositions import from_formulas
        from lithioscreen.elements import symbols

        candidates = list(candidates)
        codes, uniques = pd.factorize(np.asarray(candidates, dtype=object))
        matrix = from_formulas(uniques)
        names = symbols()
        per_element: dict[int, list[str] | None] = {}
        per_set: dict[tuple, list[str] | None] = {}
        found_unique = []
        for row in map(tuple, matrix.elements.tolist()):
            if row not in per_set:
                found: list[str] | None = []
                for element in row:
                    if element < 0:
                        continue
                    if element not in per_element:
                        table_row = self.table_.get(names[element])
                        per_element[element] = (
                            None
                            if table_row is None or table_row["li_x_compounds_exist"] == "unknown"
                            else [name.strip() for name in str(table_row["li_x_compounds"]).split(";") if name.strip()]
                        )
                    if per_element[element] is None:
                        found = None
                        break
                    found += per_element[element]
                per_set[row] = found
            found_unique.append(per_set[row])
        return [None if found_unique[code] is None else list(found_unique[code]) for code in codes]

    def miscibilities(self, frame: pd.DataFrame) -> np.ndarray:
        """The Li-X miscibility class of each candidate; an alloy takes its worst element.

        The prediction path (:mod:`lithioscreen.models.prediction`) reports it beside each stack.

        Parameters
        ----------
        frame : pandas.DataFrame
            A candidate table; only its ``candidate`` column (the composition) is read.

        Returns
        -------
        numpy.ndarray
            Per row, dtype object: ``immiscible``, ``solid_solution``, ``unknown`` or
            ``compound_forming``, the latest of its elements' classes in :data:`MISCIBILITY_ORDER`
            (an element missing from the table is ``unknown``).
        """
        codes, _, matrix = distinct_compositions(frame)
        classes = matrix.element_column(self._element_arrays()["miscibility"], fill=-1).max(axis=1).astype(int)
        return np.asarray(MISCIBILITY_ORDER, dtype=object)[classes][codes]

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        codes, _, matrix = distinct_compositions(frame)
        arrays = self._element_arrays()
        present, fractions = matrix.present, matrix.fractions
        known = matrix.element_column(arrays["known"], fill=True).astype(bool)
        available = known.all(axis=1)

        def weighted(name: str) -> np.ndarray:
            values = matrix.element_column(arrays[name], fill=0.0)
            total = np.zeros(len(matrix))
            for slot in range(values.shape[1]):
                total = total + fractions[:, slot] * values[:, slot]
            return np.where(available, total, np.nan)

        forms = matrix.element_column(arrays["forms"], fill=-np.inf)
        forms_any = np.where(present & ~known, -np.inf, forms)  # unknown elements do not count
        forms_max = forms_any.max(axis=1)
        forms_nan = np.isnan(np.where(present & known, forms, 0.0)).any(axis=1)
        columns = {
            "li_solubility_in_x_at_pct": weighted("solubility"),
            "li_solubility_is_upper_bound": (
                present & matrix.element_column(arrays["upper_bound"], fill=False).astype(bool)
            )
            .any(axis=1)
            .astype(float),
            "li_x_compound_count": weighted("count"),
            "li_x_forms_compounds": np.where(available & ~forms_nan, forms_max, np.nan),
            "li_phase_data_available": available.astype(float),
            **li_miedema_columns(matrix),
        }
        return broadcast(columns, codes)
