"""The fitted screening model: one function from a candidate table to the full prediction table.

:class:`CCDScreeningModel` is what ``lithioscreen train`` fits and exports, what ranking, ``suggest``,
the report and the served model call. ``fit`` takes the training table
(:func:`lithioscreen.data.training_cells`: every cell with a CCD or a failure) and learns

* the **feasibility model** (:class:`~lithioscreen.models.feasibility.BilayerFeasibility`): can the
  stack work at all, from the Li-X phase diagrams and the failed stacks;
* the **CCD regressor** (:mod:`lithioscreen.models.regressors`) on the feasible X/underlayer
  bilayers with a CCD, from the overlayer's descriptors (the Li/X interfacial energy first);
* the **training domain** as fitted state (like scikit-learn's ``data_min_``): the overlayer
  thicknesses, underlayers and their thicknesses, interfacial energies and interfacial-energy
  sources the tested bilayers span;
* the **measured stacks**: a stack that has been measured shows its measurement
  (``measured_ccd_reported``), and the prediction for its overlayer is updated by it (below).

:meth:`CCDScreeningModel.predict_table` gives, per candidate: feasibility and its reason, the
predicted CCD and σ (null where the stack is infeasible or has no descriptor), the measurement,
the descriptors and the domain flag.

**Uncertainty.** σ of a predicted CCD combines, in quadrature: the regressor's own σ for the
overlayer (its parameters and how far a metal may sit off the trend), the overlayer's
interfacial-energy σ (propagated by evaluating the regressor at γ ± σ quantiles), and the
measurement noise of one cell (``noise_std``, one protocol step), since a prediction is for a cell
someone will build.

**Measured overlayers.** The regressor's prediction for a measured overlayer is the prior for
that overlayer's CCD; its cells (intervals, each with the measurement noise) update it on a grid.
The prediction for a measured stack therefore agrees with its measurement within the noise. An
alloy takes the fraction-weighted update of its measured constituents (X0.99Y0.01 moves
continuously to X), and, not being measured itself, gets back part of the prior σ: none for a pure
metal, a fraction ``2(1 - Σx²)`` (capped at 1: all of it from a 50/50 binary on). Single-layer stacks (no underlayer, like the bare-Mg cell) are not covered by
the bilayer regressor: a measured single layer is predicted from its own cells, any other gets no
CCD (null, with the reason).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from lithioscreen.candidates import CANDIDATE_COLUMNS, composition_key, element_fractions, stack_key
from lithioscreen.censored import widen_exact
from lithioscreen.models.feasibility import BILAYER, SINGLE_LAYER, BilayerFeasibility, feasibility_masks
from lithioscreen.models.regressors import DEFAULT_NOISE_STD_MA_CM2, ENERGY

ENERGY_STD = "interfacial_energy_std_mev_per_a2"
SOURCE = "interfacial_energy_source"
#: Standard-normal quantiles at which the interfacial energy's uncertainty is propagated.
_GAMMA_QUANTILES = np.array([-1.7317, -1.0, -0.4307, 0.0, 0.4307, 1.0, 1.7317])
_GAMMA_WEIGHTS = np.array([1, 2, 3, 4, 3, 2, 1], float) / 16  # a 7-point rule with mean 0 and variance ~1
#: A weak prior for the CCD of a single layer measured on its own, mA/cm² (mean, std).
SINGLE_LAYER_PRIOR = (3.0, 3.0)

#: The prediction table's columns, in groups other tables reuse.
FEASIBILITY_COLUMNS = ["feasible", "infeasible_reason", "feasibility_probability"]
CCD_COLUMNS = ["predicted_ccd_ma_cm2", "predicted_ccd_std", "measured_ccd_reported"]
ENERGY_COLUMNS = [
    "interfacial_energy_mev_per_a2",
    "interfacial_energy_std_mev_per_a2",
    "interfacial_energy_source",
    "interfacial_energy_dft_mev_per_a2",
]
PREDICTION_COLUMNS = [
    *CANDIDATE_COLUMNS,
    *FEASIBILITY_COLUMNS,
    *CCD_COLUMNS,
    *ENERGY_COLUMNS,
    "above_threshold",
    "li_x_miscibility",
    "in_training_domain",
    "li_compounds",
    "li_compound_count",
    "li_solubility_in_x_at_pct",
    "li_x_mixing_enthalpy_ev_per_atom",
    "prediction_note",
]


def _grid_posterior(prior_mean: float, prior_std: float, lower, upper, noise_std: float) -> tuple[float, float]:
    """Mean and std of a CCD with a Gaussian prior, observed as intervals with Gaussian noise (on a grid)."""
    from scipy.special import ndtr

    prior_std = max(prior_std, 1e-6)
    finite = [value for value in (*lower, *upper) if np.isfinite(value)]
    low = min([prior_mean - 8 * prior_std, *finite]) - 8 * noise_std
    high = max([prior_mean + 8 * prior_std, *finite]) + 8 * noise_std
    grid = np.linspace(low, high, 4001)
    log_weight = -0.5 * ((grid - prior_mean) / prior_std) ** 2
    for lo, up in zip(lower, upper):
        z_up = np.inf if np.isinf(up) else (up - grid) / noise_std
        z_lo = -np.inf if np.isinf(lo) else (lo - grid) / noise_std
        log_weight = log_weight + np.log(np.maximum(ndtr(z_up) - ndtr(z_lo), 1e-300))
    weight = np.exp(log_weight - log_weight.max())
    weight /= weight.sum()
    mean = float(weight @ grid)
    return mean, float(np.sqrt(max(weight @ (grid - mean) ** 2, 0.0)))


class CCDScreeningModel(BaseEstimator):
    """Feasibility, CCD regression, training domain and measured stacks, fitted together.

    Parameters
    ----------
    regressor : estimator
        A CCD regressor of :mod:`lithioscreen.models.regressors` (``predict(X, return_std=True)``).
    columns : list of str
        The descriptor columns the regressor sees, interfacial energy first.
    phase_data, interfacial_data : DataFrame, optional
        Validated data tables; read from the data folder at ``fit`` when omitted.
    noise_std : float
        Measurement noise of one cell's CCD, mA/cm² (one protocol step).
    """

    def __init__(
        self,
        regressor=None,
        columns: list[str] | None = None,
        phase_data: pd.DataFrame | None = None,
        interfacial_data: pd.DataFrame | None = None,
        noise_std: float = DEFAULT_NOISE_STD_MA_CM2,
    ):
        self.regressor = regressor
        self.columns = columns
        self.phase_data = phase_data
        self.interfacial_data = interfacial_data
        self.noise_std = noise_std

    # ------------------------------------------------------------------ fitting

    def fit(self, X: pd.DataFrame, y=None, features: pd.DataFrame | None = None):
        """Fit on the training table ``X`` (:func:`lithioscreen.data.training_cells`).

        ``features`` may hold the descriptor table of ``X``'s rows, computed beforehand by
        :meth:`make_featurizer` on the same data (cross-validation reuses it: the descriptors do not
        depend on any CCD, so nothing leaks).
        """
        from lithioscreen.features import make_featurizer

        table = X.reset_index(drop=True)
        self.featurizer_ = make_featurizer(self.phase_data, self.interfacial_data, include_magpie=False).fit(
            table[CANDIDATE_COLUMNS]
        )
        self.feasibility_ = BilayerFeasibility(self.phase_data).fit(table)
        assessed = self.feasibility_.assess(table)
        if features is None:
            features = self.featurizer_.transform(assessed[CANDIDATE_COLUMNS])
        features = features.reset_index(drop=True)
        is_ccd = (table["outcome"] == "ccd").to_numpy()
        feasible = feasibility_masks(assessed["feasible"])[0]
        bilayer = is_ccd & (assessed["architecture"] == BILAYER).to_numpy() & feasible
        single = is_ccd & (assessed["architecture"] == SINGLE_LAYER).to_numpy() & feasible
        lower, upper = widen_exact(table["ccd_lower_ma_cm2"], table["ccd_upper_ma_cm2"], table["ccd_step_ma_cm2"] / 2)
        if bilayer.sum() < 2:
            raise ValueError(
                f"the CCD model needs at least two feasible bilayer cells with a CCD; the data have {int(bilayer.sum())}"
            )
        self.columns_ = list(self.columns or [ENERGY])
        design = features.loc[bilayer, self.columns_].to_numpy(dtype=float)
        self.regressor_ = clone(self.regressor).fit(design, np.column_stack([lower[bilayer], upper[bilayer]]))
        self.n_training_cells_ = int(bilayer.sum())
        self.training_candidates_ = sorted(table.loc[bilayer, "candidate"].unique().tolist())

        # the training domain: what the tested bilayers span
        rows = assessed[bilayer]
        energies = features.loc[bilayer, ENERGY].to_numpy(float)
        self.domain_ = {
            "overlayer_nm": (float(rows["overlayer_nm"].min()), float(rows["overlayer_nm"].max())),
            "underlayers": sorted(rows["underlayer"].unique().tolist()),
            "underlayer_nm": (float(rows["underlayer_nm"].min()), float(rows["underlayer_nm"].max())),
            ENERGY: (float(energies.min()), float(energies.max())),
            SOURCE: sorted(features.loc[bilayer, SOURCE].astype(str).unique().tolist()),
            "single_layers": {
                composition_key(candidate): (float(group["overlayer_nm"].min()), float(group["overlayer_nm"].max()))
                for candidate, group in assessed[single].groupby("candidate")
            },
        }

        # measured overlayers: the prediction for each, updated by its own cells
        self.overlayer_updates_ = {}
        keys = np.array([composition_key(c) for c in assessed["candidate"]], dtype=object)
        if bilayer.any():
            prior_mean, prior_std = self._regress(features.loc[bilayer])
            seen = {}
            for key, mean, std in zip(keys[bilayer], prior_mean, prior_std):
                seen.setdefault(key, (mean, std))
            for key, (mean, std) in seen.items():
                rows_of = bilayer & (keys == key)
                posterior = _grid_posterior(mean, std, lower[rows_of], upper[rows_of], self.noise_std)
                self.overlayer_updates_[key] = (posterior[0] - mean, posterior[1] / std if std > 0 else 1.0)
        self.single_layer_ccd_ = {}
        for key in sorted(set(keys[single])):
            rows_of = single & (keys == key)
            self.single_layer_ccd_[key] = _grid_posterior(
                *SINGLE_LAYER_PRIOR, lower[rows_of], upper[rows_of], self.noise_std
            )

        # what was measured, stack by stack, as reported
        self.measured_ = {}
        for row in table.itertuples(index=False):
            key = stack_key(row.candidate, row.overlayer_nm, row.underlayer, row.underlayer_nm)
            self.measured_.setdefault(key, []).append(str(row.ccd_reported))
        self.feature_names_in_ = np.asarray(CANDIDATE_COLUMNS, dtype=object)
        self.n_features_in_ = len(CANDIDATE_COLUMNS)
        return self

    def _regress(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Regressor mean and σ with the interfacial energy's σ propagated (quantile rule)."""
        design = features[self.columns_].to_numpy(dtype=float)
        energy_std = np.nan_to_num(features[ENERGY_STD].to_numpy(dtype=float))
        means, variances = [], []
        for z in _GAMMA_QUANTILES:
            shifted = design.copy()
            shifted[:, 0] = design[:, 0] + z * energy_std
            mean, std = self.regressor_.predict(shifted, return_std=True)
            means.append(mean)
            variances.append(np.square(std))
        means, variances = np.asarray(means), np.asarray(variances)
        mean = _GAMMA_WEIGHTS @ means
        variance = _GAMMA_WEIGHTS @ variances + _GAMMA_WEIGHTS @ np.square(means - mean)
        return mean, np.sqrt(variance)

    # ------------------------------------------------------------------ predicting

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted CCD (mA/cm²) per candidate; NaN where no CCD is predicted (see :meth:`predict_table`)."""
        return self.predict_table(X)["predicted_ccd_ma_cm2"].to_numpy(dtype=float)

    def predict_table(self, X: pd.DataFrame, threshold_mev_per_a2: float | None = None) -> pd.DataFrame:
        """The full prediction table of a validated candidate table, in input order (columns:
        :data:`PREDICTION_COLUMNS`)."""
        from lithioscreen import config
        from lithioscreen.models.threshold import above_threshold

        check_is_fitted(self, "regressor_")
        threshold = config.DEFAULT_THRESHOLD_MEV_PER_A2 if threshold_mev_per_a2 is None else threshold_mev_per_a2
        candidates = X[CANDIDATE_COLUMNS].reset_index(drop=True)
        assessed = self.feasibility_.assess(candidates)
        features = self.featurizer_.transform(assessed[CANDIDATE_COLUMNS]).reset_index(drop=True)
        phase = self.featurizer_.named_transformers["phase_diagram"]
        n = len(candidates)
        energy = features[ENERGY].to_numpy(dtype=float)
        feasible = assessed["feasible"].to_numpy(dtype=object)
        architecture = assessed["architecture"].to_numpy()
        keys = np.array([composition_key(c) for c in assessed["candidate"]], dtype=object)
        mean, std = np.full(n, np.nan), np.full(n, np.nan)
        notes = [[note] if note else [] for note in assessed["stack_note"]]

        # bilayers that may work, with a descriptor: the regressor, updated by measured overlayers
        _, infeasible, unknown = feasibility_masks(feasible)
        regress = (architecture == BILAYER) & ~infeasible & ~np.isnan(energy)
        regress &= ~np.isnan(features[self.columns_].to_numpy(dtype=float)).any(axis=1)
        if regress.any():
            prior_mean, prior_std = self._regress(features.loc[regress])
            shift, ratio, mixing = self._updates(keys[regress])
            mean[regress] = prior_mean + shift
            updated = np.square(prior_std * ratio)
            # an alloy of measured metals was not measured itself: part of the prior σ comes back,
            # none for a pure metal, all of it from a 50/50 binary on (continuous in composition)
            std[regress] = np.sqrt(updated + mixing * np.maximum(np.square(prior_std) - updated, 0) + self.noise_std**2)
        for i in np.flatnonzero(architecture == SINGLE_LAYER):
            if feasible[i] is False:
                continue
            if keys[i] in self.single_layer_ccd_:
                level, spread = self.single_layer_ccd_[keys[i]]
                mean[i], std[i] = level, math.hypot(spread, self.noise_std)
            else:
                measured = ", ".join(self.single_layer_ccd_) or "none"
                notes[i].append(
                    f"no CCD model for single layers: only measured ones are predicted (measured: {measured})"
                )
        for i in np.flatnonzero((architecture == BILAYER) & ~infeasible & np.isnan(energy)):
            notes[i].append(f"no Li/X interfacial energy for {assessed['candidate'][i]}: no CCD predicted")
        for i in np.flatnonzero(unknown):
            notes[i].append(f"feasibility unknown: {assessed['unknown_reason'][i]}")

        measured = [
            "; ".join(self.measured_[key]) if key in self.measured_ else None
            for key in (stack_key(*row) for row in candidates.itertuples(index=False))
        ]
        table = candidates.assign(
            feasible=feasible,
            infeasible_reason=assessed["infeasible_reason"].to_numpy(dtype=object),
            feasibility_probability=assessed["feasibility_probability"].to_numpy(dtype=float),
            predicted_ccd_ma_cm2=mean,
            predicted_ccd_std=std,
            measured_ccd_reported=np.asarray(measured, dtype=object),
            interfacial_energy_mev_per_a2=energy,
            interfacial_energy_std_mev_per_a2=features[ENERGY_STD].to_numpy(dtype=float),
            interfacial_energy_source=features[SOURCE].astype(str).to_numpy(),
            interfacial_energy_dft_mev_per_a2=features["interfacial_energy_dft_mev_per_a2"].to_numpy(dtype=float),
            above_threshold=above_threshold(energy, threshold),
            li_x_miscibility=phase.miscibilities(assessed),
            in_training_domain=self.in_training_domain(assessed, features),
            li_compounds=phase.compounds_of(assessed["candidate"].tolist()),
            li_compound_count=features["li_x_compound_count"].to_numpy(dtype=float),
            li_solubility_in_x_at_pct=features["li_solubility_in_x_at_pct"].to_numpy(dtype=float),
            li_x_mixing_enthalpy_ev_per_atom=features["li_x_mixing_enthalpy_ev_per_atom"].to_numpy(dtype=float),
            prediction_note=["; ".join(parts) if parts else None for parts in notes],
        )
        return table[PREDICTION_COLUMNS]

    def _updates(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per composition: the shift of its prediction and the factor on its σ from measured overlayers,
        and how much of the prior σ an unmeasured alloy keeps (``min(1, 2(1 - Σx²))``, 0 when measured)."""
        shift, ratio, mixing = np.zeros(len(keys)), np.ones(len(keys)), np.zeros(len(keys))
        for i, key in enumerate(keys):
            if key in self.overlayer_updates_:
                shift[i], ratio[i] = self.overlayer_updates_[key]
                continue
            fractions = element_fractions(key)
            mixing[i] = min(1.0, 2 * (1 - sum(x * x for x in fractions.values())))
            for element, fraction in fractions.items():
                if element in self.overlayer_updates_:
                    element_shift, element_ratio = self.overlayer_updates_[element]
                    shift[i] += fraction * element_shift
                    ratio[i] += fraction * (element_ratio - 1.0)
        return shift, ratio, mixing

    def in_training_domain(self, assessed: pd.DataFrame, features: pd.DataFrame) -> np.ndarray:
        """True where a feasible stack lies inside what the tested cells cover (see the module docstring)."""
        domain = self.domain_
        feasible = feasibility_masks(assessed["feasible"])[0]
        bilayer = (assessed["architecture"] == BILAYER).to_numpy()
        thickness = assessed["overlayer_nm"].to_numpy(float)
        below_nm = assessed["underlayer_nm"].to_numpy(float)
        energy = features[ENERGY].to_numpy(float)
        low, high = domain["overlayer_nm"]
        inside = (thickness >= low) & (thickness <= high)
        inside &= assessed["underlayer"].isin(domain["underlayers"]).to_numpy()
        inside &= (below_nm >= domain["underlayer_nm"][0]) & (below_nm <= domain["underlayer_nm"][1])
        inside &= (energy >= domain[ENERGY][0]) & (energy <= domain[ENERGY][1])
        inside &= features[SOURCE].astype(str).isin(domain[SOURCE]).to_numpy()
        single = np.array(
            [
                composition_key(c) in domain["single_layers"]
                and domain["single_layers"][composition_key(c)][0]
                <= t
                <= domain["single_layers"][composition_key(c)][1]
                for c, t in zip(assessed["candidate"], thickness)
            ],
            dtype=bool,
        )
        return feasible & np.where(bilayer, inside, single)

    def domain_description(self) -> str:
        """The training domain in words (printed with every ranking)."""
        domain = self.domain_
        low, high = domain[ENERGY]
        thickness = domain["overlayer_nm"]
        thickness_text = (
            f"{thickness[0]:g} nm" if thickness[0] == thickness[1] else f"{thickness[0]:g}-{thickness[1]:g} nm"
        )
        return (
            f"Training domain: overlayers {thickness_text} on {', '.join(domain['underlayers'])} "
            f"({domain['underlayer_nm'][0]:g}-{domain['underlayer_nm'][1]:g} nm), Li/X interfacial energy {low:.1f}-{high:.1f} meV/Å² "
            f"from {', '.join(domain[SOURCE])}; single layers: {', '.join(domain['single_layers']) or 'none'}."
        )


def make_model(
    regressor, columns: list[str] | None = None, phase_data=None, interfacial_data=None
) -> CCDScreeningModel:
    """A screening model around ``regressor`` (unfitted)."""
    return CCDScreeningModel(regressor, columns, phase_data, interfacial_data)


def make_models(
    phase_data: pd.DataFrame | None = None, interfacial_data: pd.DataFrame | None = None
) -> dict[str, CCDScreeningModel]:
    """Every model ``lithioscreen train`` compares, by name (see :data:`lithioscreen.models.regressors.MODEL_SPECS`)."""
    from lithioscreen.models.regressors import MODEL_SPECS

    return {
        name: make_model(factory(), columns, phase_data, interfacial_data)
        for name, (factory, columns) in MODEL_SPECS.items()
    }
