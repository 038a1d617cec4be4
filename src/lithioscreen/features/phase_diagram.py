"""Li-X phase-diagram descriptors: does Li dissolve in X, does it form compounds with X.

Two sources, kept apart by name:

* ``data/li_binary_phase_data.csv``: assessed phase diagrams (maximum solid solubility of Li in X,
  number of Li-X intermetallic compounds). Unknown stays NaN, never 0.
* Miedema's semi-empirical model as shipped offline by matminer: the enthalpy of mixing Li with
  the overlayer at 50 at.% Li (eV/atom). Positive means Li and X repel each other (lithiophobic);
  it is continuous, so it also describes alloys and elements without an assessed diagram.

For an alloy overlayer the diagram descriptors are the atomic-fraction-weighted means over its
elements (NaN if any element is unknown): a crude mixing rule, stated as such.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
from matminer.featurizers.composition.alloy import Miedema
from pymatgen.core import Composition

from lithioscreen.candidates import element_fractions
from lithioscreen.features.base import CandidateFeaturizer, per_composition

MIEDEMA_FEATURES = (
    "li_x_mixing_enthalpy_ev_per_atom",
    "li_x_miedema_intermetallic_enthalpy_ev_per_atom",
    "li_x_miedema_amorphous_enthalpy_ev_per_atom",
)


@lru_cache(maxsize=None)
def _miedema() -> Miedema:
    return Miedema(struct_types="all", ss_types="min")


@lru_cache(maxsize=4096)
def li_miedema_enthalpies(candidate: str) -> dict[str, float]:
    """Miedema enthalpies (eV/atom) of Li0.5(X)0.5, X the overlayer composition; NaN if unparameterised."""
    fractions = element_fractions(candidate)
    mixture = Composition({"Li": 0.5, **{symbol: 0.5 * amount for symbol, amount in fractions.items()}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            inter, amor, ss = _miedema().featurize(mixture)
        except Exception:  # matminer raises for elements it has no parameters for
            inter = amor = ss = np.nan
    return {
        "li_x_mixing_enthalpy_ev_per_atom": float(ss),
        "li_x_miedema_intermetallic_enthalpy_ev_per_atom": float(inter),
        "li_x_miedema_amorphous_enthalpy_ev_per_atom": float(amor),
    }


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

    def __init__(self, phase_data: pd.DataFrame | None = None):
        self.phase_data = phase_data

    def fit(self, X=None, y=None):
        from lithioscreen.data import load_phase_data

        table = self.phase_data if self.phase_data is not None else load_phase_data()
        self.table_ = {row["element"]: row for row in table.to_dict("records")}
        return super().fit(X, y)

    def compounds(self, candidate: str) -> list[str] | None:
        """Li-X compounds of every element of the overlayer; None when any element is unknown."""
        found: list[str] = []
        for symbol in element_fractions(candidate):
            row = self.table_.get(symbol)
            if row is None or row["li_x_compounds_exist"] == "unknown":
                return None
            found += [name.strip() for name in str(row["li_x_compounds"]).split(";") if name.strip()]
        return found

    def miscibility(self, candidate: str) -> str:
        """immiscible / solid_solution / compound_forming / unknown; an alloy takes its worst element."""
        kinds = {self.table_[symbol]["li_x_miscibility"] if symbol in self.table_ else "unknown" for symbol in element_fractions(candidate)}
        for kind in ("compound_forming", "unknown", "solid_solution"):
            if kind in kinds:
                return kind
        return "immiscible"

    def _diagram(self, candidate: str) -> dict[str, float]:
        fractions = element_fractions(candidate)
        rows = [self.table_.get(symbol) for symbol in fractions]
        available = all(row is not None for row in rows)
        if not available:
            rows = [row for row in rows if row is not None]
        weights = np.array([fractions[row["element"]] for row in rows]) if rows else np.array([])

        def weighted(column: str) -> float:
            values = np.array([np.nan if pd.isna(row[column]) else float(row[column]) for row in rows])
            return float(np.dot(weights, values)) if available and values.size else np.nan

        exists = {"yes": 1.0, "no": 0.0}
        forms = [exists.get(row["li_x_compounds_exist"], np.nan) for row in rows]
        return {
            "li_solubility_in_x_at_pct": weighted("max_li_solubility_in_x_at_pct"),
            "li_solubility_is_upper_bound": float(any(row["li_solubility_qualifier"] == "<" for row in rows)),
            "li_x_compound_count": weighted("li_x_compound_count"),
            "li_x_forms_compounds": float(max(forms)) if available and not np.isnan(forms).any() else np.nan,
            "li_phase_data_available": float(available),
        }

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        return per_composition(frame, lambda candidate: {**self._diagram(candidate), **li_miedema_enthalpies(candidate)})
