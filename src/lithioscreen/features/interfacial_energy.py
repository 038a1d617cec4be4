"""The Li/X interfacial energy of the overlayer, meV/Å², with where each number comes from.

The paper's key descriptor (Oh et al. 2024, Fig. 7d-e): the interfacial energy of Li(100) against
X, from DFT as the y-intercept of interface energy versus the number of Li atoms. It exists for
very few metals, so each candidate gets, in order of preference:

1. ``dft``: an exact DFT value from ``data/interfacial_energies.csv``;
2. ``mlip:<model>``: a value computed with a machine-learned interatomic potential
   (:mod:`lithioscreen.interface`), cached in the same file. Like the paper's descriptor, it is the
   highest value over the computed X planes against Li(100), from one potential (CHGNet
   preferred, then SevenNet). Where the paper states DFT bounds for the metal (e.g. W above the
   ~100 meV/Å² threshold), the MLIP value is checked against them: inside, it is used as is;
   outside, it is clipped to the violated bound and the source reads ``mlip:<model>+dft_bounds``
   (the DFT statement outranks the potential). Its standard deviation combines the fit's
   intercept error with the potential's error against the paper's DFT values
   (:data:`MLIP_ERROR_STD_MEV_PER_A2`);
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
#: Which potential's values are used when several are cached, best first.
MLIP_PREFERENCE = ("mlip:chgnet", "mlip:sevennet")
#: The potential's own error against DFT, meV/Å²: the RMS error of CHGNet against the paper's two
#: exact DFT values (Mo -8.3, Ti -48.7 meV/Å² on Li(100): RMS 34.9), benchmarks/interface_validation.py.
#: Two points make a crude estimate; it is what the data say, see README.
MLIP_ERROR_STD_MEV_PER_A2 = 35.0


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


def _mlip_choice(group: pd.DataFrame) -> dict[str, object]:
    """The preferred potential's highest value over X planes against Li(100), with its std."""
    computed = group[group["method"].str.startswith("mlip:") & (group["li_plane"] == "(100)") & (group["value_kind"] == "exact")]
    if computed.empty:
        return {"mlip_mev_per_a2": np.nan, "mlip_method": "", "mlip_std_mev_per_a2": np.nan}
    methods = sorted(set(computed["method"]), key=lambda m: (MLIP_PREFERENCE.index(m) if m in MLIP_PREFERENCE else len(MLIP_PREFERENCE), m))
    rows = computed[computed["method"] == methods[0]]
    best = rows.loc[rows["interfacial_energy_mev_per_a2"].idxmax()]
    stderr = best.get("intercept_stderr_mev_per_a2", np.nan)
    stderr = 0.0 if pd.isna(stderr) else float(stderr)
    return {
        "mlip_mev_per_a2": float(best["interfacial_energy_mev_per_a2"]),
        "mlip_method": methods[0],
        "mlip_std_mev_per_a2": float(np.hypot(stderr, MLIP_ERROR_STD_MEV_PER_A2)),
    }


def dft_constraints(table: pd.DataFrame) -> pd.DataFrame:
    """Per metal, the DFT exact value if any, the tightest interval the DFT statements allow, and the
    preferred MLIP value.

    Returns columns ``exact_mev_per_a2``, ``exact_method``, ``lower_mev_per_a2``,
    ``upper_mev_per_a2`` (from ``dft`` rows only: the surrogate is trained on these) and
    ``mlip_mev_per_a2``, ``mlip_method``, ``mlip_std_mev_per_a2`` (from ``mlip:<model>`` rows),
    indexed by element.
    """
    metals = table[table["material_class"] == "metal"]
    rows = {}
    for material, group in metals.groupby("material"):
        dft = group[group["method"] == "dft"]
        exact = dft[dft["value_kind"] == "exact"]
        rows[material] = {
            "exact_mev_per_a2": float(exact["interfacial_energy_mev_per_a2"].iloc[0]) if not exact.empty else np.nan,
            "exact_method": "dft" if not exact.empty else "",
            "lower_mev_per_a2": float(dft["lower_mev_per_a2"].max()) if dft["lower_mev_per_a2"].notna().any() else -np.inf,
            "upper_mev_per_a2": float(dft["upper_mev_per_a2"].min()) if dft["upper_mev_per_a2"].notna().any() else np.inf,
            **_mlip_choice(group),
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
        # the surrogate learns from DFT information only; MLIP values stand for their own metal
        known = self.constraints_[
            self.constraints_["exact_mev_per_a2"].notna()
            | np.isfinite(self.constraints_["lower_mev_per_a2"])
            | np.isfinite(self.constraints_["upper_mev_per_a2"])
        ]
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
        # .get: a champion pickled before MLIP values existed has no mlip_* columns
        if known is not None and not pd.isna(known.get("mlip_mev_per_a2", np.nan)):
            value = float(known["mlip_mev_per_a2"])
            bounded = float(np.clip(value, known["lower_mev_per_a2"], known["upper_mev_per_a2"]))
            return result | {
                "interfacial_energy_mev_per_a2": bounded,
                "interfacial_energy_std_mev_per_a2": float(known["mlip_std_mev_per_a2"]),
                "interfacial_energy_source": known["mlip_method"] + ("+dft_bounds" if bounded != value else ""),
            }
        vector = np.array([[descriptors[name] for name in SURROGATE_DESCRIPTORS]])
        if np.isnan(vector).any():
            return result
        mean, std = self.surrogate_.predict(vector, return_std=True)
        mean, std, source = float(mean[0]), float(std[0]), SOURCE_SURROGATE
        if known is not None and (np.isfinite(known["lower_mev_per_a2"]) or np.isfinite(known["upper_mev_per_a2"])):
            mean, source = float(np.clip(mean, known["lower_mev_per_a2"], known["upper_mev_per_a2"])), SOURCE_BOUNDED_SURROGATE
        return result | {
            "interfacial_energy_mev_per_a2": mean,
            "interfacial_energy_std_mev_per_a2": std,
            "interfacial_energy_source": source,
        }

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        return per_composition(frame, self.estimate)
