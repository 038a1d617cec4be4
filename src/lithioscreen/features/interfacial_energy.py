"""The Li/X interfacial energy of the overlayer, meV/Å², on one scale, with where each number comes from.

The paper's key descriptor (Oh et al. 2024, Fig. 7d-e) is the interfacial energy of Li(100)
against X, the highest over X's planes. DFT gives it for Mo and Ti only (and for LiF, Li2S and
the argyrodite), so the ranking cannot use DFT values directly: they would sit on another scale
than everything else. Every metal therefore gets its value from one protocol
(:mod:`lithioscreen.interface.calibration`):

1. ``mlip:committee+calibrated``: the committee of interatomic potentials, each potential's raw
   values mapped onto the DFT scale by a monotone map (proportional by default) fitted on the
   paper's exact references, the highest plane; σ = committee spread ⊕ the calibration's leave-one-out error ⊕ the fits'
   intercept errors. The training metals (Mo and Ti included) get this value too: their DFT value
   is shown beside it (``interfacial_energy_dft_mev_per_a2``), never substituted.
2. ``surrogate+calibrated``: for a metal the interface builder cannot handle (not bcc/fcc/hcp,
   e.g. Mn) or not computed yet, a Bayesian ridge regression fitted on the calibrated committee
   values of the computed metals, from two physical descriptors of the Li-X pair: the Miedema
   Li-X mixing enthalpy (chemical repulsion) and the X/Li atomic-size mismatch (misfit). So it is
   on the same scale; σ = its predictive std ⊕ the calibration error. It needs
   :data:`MIN_SURROGATE_METALS` computed metals.
3. ``unavailable``: no value (NaN): the CCD model then gives no confident prediction.

No value is ever clipped to a bound: the paper's inequalities (Cr > Mo > Ti > Zr, ...) are
checks reported by the calibration, and the bounds inferred from CCDs would leak a cell's target
into its own descriptor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import BayesianRidge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from lithioscreen.features.base import CandidateFeaturizer, broadcast, distinct_compositions
from lithioscreen.features.phase_diagram import li_miedema_columns
from lithioscreen.interface.calibration import SOURCE_LABEL as SOURCE_COMMITTEE
from lithioscreen.interface.calibration import CalibrationError, calibrate, exact_references

SURROGATE_DESCRIPTORS = ("li_x_mixing_enthalpy_ev_per_atom", "li_x_atomic_size_mismatch")
SOURCE_SURROGATE = "surrogate+calibrated"
SOURCE_UNAVAILABLE = "unavailable"
#: Fewest computed metals the surrogate is fitted on (two descriptors and an intercept, plus one).
MIN_SURROGATE_METALS = 4


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


class InterfacialEnergyFeaturizer(CandidateFeaturizer):
    """Li/X interfacial energy (meV/Å²) on the calibrated committee's scale, its σ and its source.

    Parameters
    ----------
    interfacial_data : DataFrame, optional
        A validated ``interfacial_energies.csv``; read from ``data/`` at ``fit`` when omitted.

    Attributes
    ----------
    values_ : DataFrame
        Per computed metal: ``value_mev_per_a2``, ``std_mev_per_a2`` (the calibrated committee).
    dft_ : dict
        The paper's exact DFT values of metals, shown beside the computed value.
    calibration_ : Calibration or None
        The calibration (None where the table cannot be calibrated; ``calibration_error_`` says why).
    surrogate_ : estimator or None
        The fallback regressor (None with fewer than :data:`MIN_SURROGATE_METALS` computed metals).
    """

    feature_names = (
        "interfacial_energy_mev_per_a2",
        "interfacial_energy_std_mev_per_a2",
        "interfacial_energy_source",
        "interfacial_energy_dft_mev_per_a2",
        *SURROGATE_DESCRIPTORS[1:],
    )

    def __init__(self, interfacial_data: pd.DataFrame | None = None):
        self.interfacial_data = interfacial_data

    def fit(self, X=None, y=None):
        from lithioscreen.compositions import from_formulas
        from lithioscreen.data import load_interfacial_energies

        table = self.interfacial_data if self.interfacial_data is not None else load_interfacial_energies()
        metals = set(table.loc[table["material_class"] == "metal", "material"])
        self.dft_ = {name: value for name, value in exact_references(table).items() if name in metals}
        self.calibration_error_ = ""
        try:
            self.calibration_ = calibrate(table)
        except CalibrationError as error:
            self.calibration_, self.calibration_error_ = None, str(error)
        if self.calibration_ is None:
            self.values_ = pd.DataFrame(columns=["value_mev_per_a2", "std_mev_per_a2"], dtype=float)
            self.calibration_std_ = np.nan
        else:
            committee = self.calibration_.per_material
            committee = committee[committee["material_class"] == "metal"]
            self.values_ = committee[["calibrated_mev_per_a2", "std_mev_per_a2"]].rename(
                columns={"calibrated_mev_per_a2": "value_mev_per_a2"}
            )
            self.calibration_std_ = float(self.calibration_.calibration_std)

        # the fallback learns the calibrated committee values of the computed metals, nothing else
        descriptors = pd.DataFrame(
            surrogate_descriptor_columns(from_formulas(self.values_.index)), index=self.values_.index
        )
        usable = descriptors.notna().all(axis=1).to_numpy()
        self.surrogate_training_ = descriptors[usable].assign(value_mev_per_a2=self.values_["value_mev_per_a2"][usable])
        self.surrogate_ = None
        if usable.sum() >= MIN_SURROGATE_METALS:
            self.surrogate_ = make_pipeline(StandardScaler(), BayesianRidge()).fit(
                descriptors[usable].to_numpy(), self.values_["value_mev_per_a2"].to_numpy()[usable]
            )
        return super().fit(X, y)

    def describe(self) -> str:
        """One plain-language sentence on the scale the interfacial energies are on, for the ranking's limits.

        Returns
        -------
        str
            The committee, its references and their leave-one-out error, or why there is no scale.
        """
        if self.calibration_ is None:
            return f"No interfacial energy could be calibrated ({self.calibration_error_}): no CCD is predicted."
        calibration = self.calibration_
        references = ", ".join(
            f"{r['name']} {r['calibrated_loo']:.0f} vs {r['dft']:.0f}" for r in calibration.references
        )
        surrogate = (
            f" Metals not computed get '{SOURCE_SURROGATE}' (a regression on the computed metals, same scale)."
            if self.surrogate_ is not None
            else ""
        )
        shape = "a proportional map (DFT = b raw)" if calibration.map_kind == "proportional" else "a line"
        return (
            f"Interfacial energies γ are one scale: '{SOURCE_COMMITTEE}', potentials "
            f"{', '.join(calibration.potentials)} mapped onto the paper's DFT by {shape} fitted on "
            f"{len(calibration.references)} references (leave-one-out, calibrated vs DFT meV/Å²: {references}; "
            f"RMS {calibration.calibration_std:.0f}, part of every σ).{surrogate} The paper's DFT value is shown beside "
            "(interfacial_energy_dft_mev_per_a2), never substituted."
        )

    def estimates(self, candidates, matrix=None) -> dict[str, np.ndarray]:
        """Interfacial energy, its std, its source, the DFT value and the size mismatch of each candidate.

        A pure element gets its own value (see the module docstring). An alloy gets the
        atomic-fraction-weighted mean of its elements' values, with the same weights on their σ
        (a conservative, fully correlated combination), and the source ``interpolated:<sources>``:
        so an alloy of two metals lies between them, and X0.99Y0.01 is within 1 % of X's value.
        Where any element has no value, the alloy has none. Only a pure element has a DFT value.

        Parameters
        ----------
        candidates : iterable of str
            Overlayer compositions (``W``, ``W0.5Cr0.5``).
        matrix : CompositionMatrix, optional
            Their parsed compositions, when the caller already has them.

        Returns
        -------
        dict of str to numpy.ndarray
            One array per feature name, in the candidates' order.
        """
        from lithioscreen.compositions import from_formulas
        from lithioscreen.elements import symbols

        candidates = list(candidates)
        matrix = from_formulas(candidates) if matrix is None else matrix
        present = matrix.present
        distinct = np.unique(matrix.elements[present])
        names = symbols()
        element_mean, element_std, element_source = self._element_estimates([names[z] for z in distinct])
        element_dft = np.array([self.dft_.get(names[z], np.nan) for z in distinct], dtype=float)
        slot = np.searchsorted(distinct, np.maximum(matrix.elements, 0))
        slot = np.minimum(slot, max(len(distinct) - 1, 0))
        weights = np.where(present, matrix.fractions, 0.0)
        if len(distinct):
            mean = np.where(present, element_mean[slot], 0.0)
            std = np.where(present, element_std[slot], 0.0)
        else:
            mean = std = np.zeros(weights.shape)
        missing = (present & np.isnan(mean)).any(axis=1)
        total_mean = np.zeros(len(matrix))
        total_std = np.zeros(len(matrix))
        for column in range(weights.shape[1]):  # in slot order: a pure element is exactly its own value
            total_mean = total_mean + weights[:, column] * np.nan_to_num(mean[:, column])
            total_std = total_std + weights[:, column] * np.nan_to_num(std[:, column])
        single = present.sum(axis=1) == 1
        source = np.empty(len(matrix), dtype=object)
        dft = np.full(len(matrix), np.nan)
        for row in range(len(matrix)):
            slots = slot[row, np.flatnonzero(present[row])]
            sources = sorted({str(element_source[k]) for k in slots})
            if single[row]:
                dft[row] = element_dft[slots[0]]
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
            "interfacial_energy_dft_mev_per_a2": dft,
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
        if self.surrogate_ is not None:
            descriptors = surrogate_descriptor_columns(from_formulas(elements))
            vectors = np.column_stack([descriptors[name] for name in SURROGATE_DESCRIPTORS])
            usable = ~np.isnan(vectors).any(axis=1)
            if usable.any():
                predicted, predicted_std = self.surrogate_.predict(vectors[usable], return_std=True)
                mean[usable] = predicted
                std[usable] = np.hypot(predicted_std, self.calibration_std_)
                source[usable] = SOURCE_SURROGATE
        computed = self.values_
        for row, element in enumerate(elements):
            if element in computed.index:
                mean[row] = float(computed.at[element, "value_mev_per_a2"])
                std[row] = float(computed.at[element, "std_mev_per_a2"])
                source[row] = SOURCE_COMMITTEE
        return mean, std, source

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        codes, candidates, matrix = distinct_compositions(frame)
        return broadcast(self.estimates(candidates, matrix), codes)
