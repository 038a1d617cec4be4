"""The Li/X interfacial energy of the overlayer, meV/Å², with where each number comes from.

The paper's key descriptor (Oh et al. 2024, Fig. 7d-e): the interfacial energy of Li(100) against
X, from DFT as the y-intercept of interface energy versus the number of Li atoms. It exists for
very few metals, so each candidate gets, in order of preference:

1. ``dft``: an exact DFT value from ``data/interfacial_energies.csv``;
2. ``mlip:<model>``: a value computed with a machine-learned interatomic potential, cached in the
   same file (added by the interface calculations);
3. ``surrogate+dft_bounds``: the surrogate's estimate clipped into the bounds the paper states
   (e.g. "Cr > Mo", "above the ~100 meV/Å² threshold"), when only bounds are known;
4. ``surrogate``: the estimate of a small Bayesian linear model, with its standard deviation.

The surrogate is a Bayesian ridge regression on two physical descriptors of the Li-X pair:
the Miedema Li-X mixing enthalpy (chemical repulsion between Li and X) and the atomic-size
mismatch between X and Li (a coherent Li(100)/X interface is strained and misfit-dislocated).
It is fitted on every metal with DFT information, the bounds entering as interval-censored targets
(:mod:`lithioscreen.censored`). With five metals, its uncertainty is large and reported as such.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from pymatgen.core import Element
from sklearn.linear_model import BayesianRidge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from lithioscreen.candidates import element_fractions
from lithioscreen.censored import IntervalCensoredRegressor
from lithioscreen.features.base import CandidateFeaturizer, per_composition
from lithioscreen.features.phase_diagram import li_miedema_enthalpies

SURROGATE_DESCRIPTORS = ("li_x_mixing_enthalpy_ev_per_atom", "li_x_atomic_size_mismatch")
SOURCE_DFT = "dft"
SOURCE_SURROGATE = "surrogate"
SOURCE_BOUNDED_SURROGATE = "surrogate+dft_bounds"
SOURCE_UNAVAILABLE = "unavailable"


@lru_cache(maxsize=None)
def _molar_volume_cm3(symbol: str) -> float:
    """Experimental molar volume of the element (cm³/mol, pymatgen's periodic table); NaN if absent."""
    volume = Element(symbol).molar_volume
    return float(volume) if volume else np.nan


def atomic_size_mismatch(candidate: str) -> float:
    """|d_X / d_Li - 1| with d = (molar volume)^(1/3); alloys use the fraction-weighted volume (Vegard)."""
    fractions = element_fractions(candidate)
    volume = sum(fraction * _molar_volume_cm3(symbol) for symbol, fraction in fractions.items())
    return abs((volume / _molar_volume_cm3("Li")) ** (1 / 3) - 1)


def surrogate_descriptors(candidate: str) -> dict[str, float]:
    return {
        "li_x_mixing_enthalpy_ev_per_atom": li_miedema_enthalpies(candidate)["li_x_mixing_enthalpy_ev_per_atom"],
        "li_x_atomic_size_mismatch": atomic_size_mismatch(candidate),
    }


def dft_constraints(table: pd.DataFrame) -> pd.DataFrame:
    """Per metal, the tightest interval the literature values allow, and an exact value if any.

    Returns columns ``exact_mev_per_a2``, ``exact_method``, ``lower_mev_per_a2``,
    ``upper_mev_per_a2`` indexed by element. DFT exact values take precedence over MLIP values.
    """
    metals = table[table["material_class"] == "metal"]
    rows = {}
    for material, group in metals.groupby("material"):
        exact = group[group["value_kind"] == "exact"]
        dft = exact[exact["method"] == "dft"]
        chosen = dft if not dft.empty else exact
        bounds = group[group["method"] == "dft"]
        rows[material] = {
            "exact_mev_per_a2": float(chosen["interfacial_energy_mev_per_a2"].iloc[0]) if not chosen.empty else np.nan,
            "exact_method": str(chosen["method"].iloc[0]) if not chosen.empty else "",
            "lower_mev_per_a2": float(bounds["lower_mev_per_a2"].max()) if bounds["lower_mev_per_a2"].notna().any() else -np.inf,
            "upper_mev_per_a2": float(bounds["upper_mev_per_a2"].min()) if bounds["upper_mev_per_a2"].notna().any() else np.inf,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


class InterfacialEnergyFeaturizer(CandidateFeaturizer):
    """Li/X interfacial energy (meV/Å²), its standard deviation and its source.

    Parameters
    ----------
    interfacial_data : DataFrame, optional
        A validated ``interfacial_energies.csv``; read from ``data/`` at ``fit`` when omitted.
    """

    feature_names = (
        "interfacial_energy_mev_per_a2",
        "interfacial_energy_std_mev_per_a2",
        "interfacial_energy_source",
        *SURROGATE_DESCRIPTORS[1:],
    )

    def __init__(self, interfacial_data: pd.DataFrame | None = None):
        self.interfacial_data = interfacial_data

    def fit(self, X=None, y=None):
        from lithioscreen.data import load_interfacial_energies

        table = self.interfacial_data if self.interfacial_data is not None else load_interfacial_energies()
        self.constraints_ = dft_constraints(table)
        known = self.constraints_
        lower = np.where(known["exact_mev_per_a2"].notna(), known["exact_mev_per_a2"], known["lower_mev_per_a2"])
        upper = np.where(known["exact_mev_per_a2"].notna(), known["exact_mev_per_a2"], known["upper_mev_per_a2"])
        descriptors = pd.DataFrame([surrogate_descriptors(element) for element in known.index], index=known.index)
        usable = descriptors.notna().all(axis=1).to_numpy()
        self.surrogate_training_ = descriptors[usable].assign(lower_mev_per_a2=lower[usable], upper_mev_per_a2=upper[usable])
        self.surrogate_ = IntervalCensoredRegressor(make_pipeline(StandardScaler(), BayesianRidge())).fit(
            descriptors[usable].to_numpy(), np.column_stack([lower[usable], upper[usable]])
        )
        return super().fit(X, y)

    def estimate(self, candidate: str) -> dict[str, object]:
        descriptors = surrogate_descriptors(candidate)
        result = {
            "interfacial_energy_mev_per_a2": np.nan,
            "interfacial_energy_std_mev_per_a2": np.nan,
            "interfacial_energy_source": SOURCE_UNAVAILABLE,
            "li_x_atomic_size_mismatch": descriptors["li_x_atomic_size_mismatch"],
        }
        fractions = element_fractions(candidate)
        element = next(iter(fractions)) if len(fractions) == 1 else None
        known = self.constraints_.loc[element] if element in self.constraints_.index else None
        if known is not None and not np.isnan(known["exact_mev_per_a2"]):
            return result | {
                "interfacial_energy_mev_per_a2": float(known["exact_mev_per_a2"]),
                "interfacial_energy_std_mev_per_a2": 0.0,
                "interfacial_energy_source": known["exact_method"],
            }
        vector = np.array([[descriptors[name] for name in SURROGATE_DESCRIPTORS]])
        if np.isnan(vector).any():
            return result
        mean, std = self.surrogate_.predict(vector, return_std=True)
        mean, std, source = float(mean[0]), float(std[0]), SOURCE_SURROGATE
        if known is not None:
            mean, source = float(np.clip(mean, known["lower_mev_per_a2"], known["upper_mev_per_a2"])), SOURCE_BOUNDED_SURROGATE
        return result | {
            "interfacial_energy_mev_per_a2": mean,
            "interfacial_energy_std_mev_per_a2": std,
            "interfacial_energy_source": source,
        }

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        return per_composition(frame, self.estimate)
