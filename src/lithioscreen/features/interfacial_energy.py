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
   intercept error with the potential's RMS error against the paper's exact DFT values
   (:func:`mlip_error_std`);
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

import numpy as np
import pandas as pd
from sklearn.linear_model import BayesianRidge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from lithioscreen.censored import IntervalCensoredRegressor
from lithioscreen.features.base import CandidateFeaturizer, broadcast, distinct_compositions
from lithioscreen.features.phase_diagram import li_miedema_columns

SURROGATE_DESCRIPTORS = ("li_x_mixing_enthalpy_ev_per_atom", "li_x_atomic_size_mismatch")
SOURCE_DFT = "dft"
SOURCE_SURROGATE = "surrogate"
SOURCE_BOUNDED_SURROGATE = "surrogate+dft_bounds"
SOURCE_UNAVAILABLE = "unavailable"
#: Which potential's values are used when several are cached, best first.
MLIP_PREFERENCE = ("mlip:chgnet", "mlip:sevennet")
#: A potential's error against DFT, meV/Å², used only when the table holds no metal with both its
#: value and an exact DFT value (otherwise :func:`mlip_error_std` measures it). 35 is CHGNet's RMS
#: error against the paper's Mo and Ti (benchmarks/interface_validation.py, README).
MLIP_ERROR_STD_MEV_PER_A2 = 35.0


def _molar_volume_cm3(symbol: str) -> float:
    """Experimental molar volume of the element (cm³/mol, pymatgen's periodic table); NaN if absent."""
    from lithioscreen.elements import molar_volume_cm3, symbol_index

    return float(molar_volume_cm3()[symbol_index()[symbol]])


def atomic_size_mismatch_columns(matrix) -> np.ndarray:
    """|d_X / d_Li - 1| for every composition of a CompositionMatrix (see :func:`atomic_size_mismatch`)."""
    from lithioscreen.elements import molar_volume_cm3

    volumes = matrix.element_column(molar_volume_cm3(), fill=0.0)
    volume = np.zeros(len(matrix))
    for slot in range(volumes.shape[1]):
        volume = volume + matrix.fractions[:, slot] * volumes[:, slot]
    return np.abs((volume / _molar_volume_cm3("Li")) ** (1 / 3) - 1)


def surrogate_descriptor_columns(matrix) -> dict[str, np.ndarray]:
    return {
        "li_x_mixing_enthalpy_ev_per_atom": li_miedema_columns(matrix)["li_x_mixing_enthalpy_ev_per_atom"],
        "li_x_atomic_size_mismatch": atomic_size_mismatch_columns(matrix),
    }


def _mlip_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table[
        table["method"].str.startswith("mlip:") & (table["li_plane"] == "(100)") & (table["value_kind"] == "exact")
    ]


def mlip_error_std(table: pd.DataFrame) -> dict[str, float]:
    """Per potential, the RMS difference (meV/Å²) between its value (highest over X planes) and the
    exact DFT value, over every metal that has both; :data:`MLIP_ERROR_STD_MEV_PER_A2` where none has.

    With the shipped data that is two metals (Mo, Ti): a crude estimate, but the data's own.
    """
    dft = (
        table[(table["method"] == "dft") & (table["value_kind"] == "exact")]
        .groupby("material")["interfacial_energy_mev_per_a2"]
        .first()
    )
    errors = {}
    for method, rows in _mlip_rows(table).groupby("method"):
        highest = rows.groupby("material")["interfacial_energy_mev_per_a2"].max()
        shared = highest.index.intersection(dft.index)
        errors[method] = (
            float(np.sqrt(np.mean((highest[shared] - dft[shared]) ** 2))) if len(shared) else MLIP_ERROR_STD_MEV_PER_A2
        )
    return errors


def _mlip_choice(group: pd.DataFrame, error_std: dict[str, float]) -> dict[str, object]:
    """The preferred potential's highest value over X planes against Li(100), with its std."""
    computed = _mlip_rows(group)
    if computed.empty:
        return {"mlip_mev_per_a2": np.nan, "mlip_method": "", "mlip_std_mev_per_a2": np.nan}
    methods = sorted(
        set(computed["method"]),
        key=lambda m: (MLIP_PREFERENCE.index(m) if m in MLIP_PREFERENCE else len(MLIP_PREFERENCE), m),
    )
    rows = computed[computed["method"] == methods[0]]
    best = rows.loc[rows["interfacial_energy_mev_per_a2"].idxmax()]
    stderr = best.get("intercept_stderr_mev_per_a2", np.nan)
    stderr = 0.0 if pd.isna(stderr) else float(stderr)
    return {
        "mlip_mev_per_a2": float(best["interfacial_energy_mev_per_a2"]),
        "mlip_method": methods[0],
        "mlip_std_mev_per_a2": float(np.hypot(stderr, error_std.get(methods[0], MLIP_ERROR_STD_MEV_PER_A2))),
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
    error_std = mlip_error_std(metals)
    rows = {}
    for material, group in metals.groupby("material"):
        dft = group[group["method"] == "dft"]
        exact = dft[dft["value_kind"] == "exact"]
        rows[material] = {
            "exact_mev_per_a2": float(exact["interfacial_energy_mev_per_a2"].iloc[0]) if not exact.empty else np.nan,
            "exact_method": "dft" if not exact.empty else "",
            "lower_mev_per_a2": float(dft["lower_mev_per_a2"].max())
            if dft["lower_mev_per_a2"].notna().any()
            else -np.inf,
            "upper_mev_per_a2": float(dft["upper_mev_per_a2"].min())
            if dft["upper_mev_per_a2"].notna().any()
            else np.inf,
            **_mlip_choice(group, error_std),
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
        from lithioscreen.compositions import from_formulas

        descriptors = pd.DataFrame(surrogate_descriptor_columns(from_formulas(known.index)), index=known.index)
        usable = descriptors.notna().all(axis=1).to_numpy()
        self.surrogate_training_ = descriptors[usable].assign(
            lower_mev_per_a2=lower[usable], upper_mev_per_a2=upper[usable]
        )
        self.surrogate_ = IntervalCensoredRegressor(make_pipeline(StandardScaler(), BayesianRidge())).fit(
            descriptors[usable].to_numpy(), np.column_stack([lower[usable], upper[usable]])
        )
        return super().fit(X, y)

    def estimates(self, candidates, matrix=None) -> dict[str, np.ndarray]:
        """Interfacial energy, its std, its source and the size mismatch of each (distinct) candidate.

        A pure element gets its own value (see the module docstring). An alloy gets the
        atomic-fraction-weighted mean of its elements' values, with the same weights on their σ
        (a conservative, fully correlated combination), and the source ``interpolated:<sources>``:
        so an alloy of two metals lies between them, and X0.99Y0.01 is within 1 % of X's value.
        Where any element has no value, the alloy has none.
        """
        from lithioscreen.compositions import from_formulas
        from lithioscreen.elements import symbols

        candidates = list(candidates)
        matrix = from_formulas(candidates) if matrix is None else matrix
        present = matrix.present
        distinct = np.unique(matrix.elements[present])
        names = symbols()
        element_mean, element_std, element_source = self._element_estimates([names[z] for z in distinct])
        slot = np.searchsorted(distinct, np.maximum(matrix.elements, 0))
        slot = np.minimum(slot, max(len(distinct) - 1, 0))
        weights = np.where(present, matrix.fractions, 0.0)
        mean = np.where(present, element_mean[slot], 0.0) if len(distinct) else np.zeros(weights.shape)
        std = np.where(present, element_std[slot], 0.0) if len(distinct) else np.zeros(weights.shape)
        missing = (present & np.isnan(mean)).any(axis=1)
        total_mean = np.zeros(len(matrix))
        total_std = np.zeros(len(matrix))
        for column in range(weights.shape[1]):  # in slot order: a pure element is exactly its own value
            total_mean = total_mean + weights[:, column] * np.nan_to_num(mean[:, column])
            total_std = total_std + weights[:, column] * np.nan_to_num(std[:, column])
        single = present.sum(axis=1) == 1
        source = np.empty(len(matrix), dtype=object)
        for row in range(len(matrix)):
            sources = sorted({str(element_source[slot[row, k]]) for k in np.flatnonzero(present[row])})
            if missing[row]:
                source[row] = SOURCE_UNAVAILABLE
            elif single[row]:
                source[row] = sources[0]
            else:
                source[row] = "interpolated:" + ",".join(sources)
        return {
            "interfacial_energy_mev_per_a2": np.where(missing, np.nan, total_mean),
            "interfacial_energy_std_mev_per_a2": np.where(missing, np.nan, total_std),
            "interfacial_energy_source": source,
            "li_x_atomic_size_mismatch": atomic_size_mismatch_columns(matrix),
        }

    def _element_estimates(self, elements: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, std, source) of pure elements, in the order given (see the module docstring)."""
        from lithioscreen.compositions import from_formulas

        n = len(elements)
        mean, std = np.full(n, np.nan), np.full(n, np.nan)
        source = np.full(n, SOURCE_UNAVAILABLE, dtype=object)
        if not n:
            return mean, std, source
        descriptors = surrogate_descriptor_columns(from_formulas(elements))
        vectors = np.column_stack([descriptors[name] for name in SURROGATE_DESCRIPTORS])
        usable = ~np.isnan(vectors).any(axis=1)
        if usable.any():
            mean[usable], std[usable] = self.surrogate_.predict(vectors[usable], return_std=True)
            source[usable] = SOURCE_SURROGATE
        constraints = self.constraints_
        for row, element in enumerate(elements):
            if element not in constraints.index:
                continue
            known = constraints.loc[element]
            if not np.isnan(known["exact_mev_per_a2"]):
                mean[row], std[row], source[row] = float(known["exact_mev_per_a2"]), 0.0, known["exact_method"]
            # .get: a champion pickled before MLIP values existed has no mlip_* columns
            elif not pd.isna(known.get("mlip_mev_per_a2", np.nan)):
                value = float(known["mlip_mev_per_a2"])
                bounded = float(np.clip(value, known["lower_mev_per_a2"], known["upper_mev_per_a2"]))
                mean[row], std[row] = bounded, float(known["mlip_std_mev_per_a2"])
                source[row] = known["mlip_method"] + ("+dft_bounds" if bounded != value else "")
            elif usable[row]:
                mean[row] = float(np.clip(mean[row], known["lower_mev_per_a2"], known["upper_mev_per_a2"]))
                source[row] = SOURCE_BOUNDED_SURROGATE
        return mean, std, source

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        codes, candidates, matrix = distinct_compositions(frame)
        return broadcast(self.estimates(candidates, matrix), codes)
