"""CCD regressors for X/underlayer bilayers, fitted on interval-censored CCDs.

Every regressor takes a numeric feature matrix (first column: the overlayer's Li/X interfacial
energy γ, meV/Å²) and ``y`` as an ``(n, 2)`` array of CCD intervals ``[lower, upper]`` (mA/cm²;
``upper = inf`` for "> x"; exact values already widened to their protocol step, see
:func:`lithioscreen.censored.widen_exact`). ``predict(X, return_std=True)`` returns the mean and
the standard deviation of the *stack's* CCD: what the model does not know (its parameters, and how
far a metal may sit off the trend), without the measurement noise of a single cell, which
:class:`lithioscreen.models.prediction.CCDScreeningModel` adds.

:class:`BayesianCensoredRegressor` (the default family) is a small Bayesian model fitted to the
interval likelihood itself (Tobit-type), by Markov chain Monte Carlo:

    CCD of a cell = f(γ) + δ_metal + ε,
    ε ~ N(0, noise_std²)        measurement noise of one cell: fixed, not fitted (no replicates),
    δ ~ Student-t(ν = 4, τ)     how far a metal sits off the trend: τ is fitted,

with ``f`` one of

* ``constant``: f = c (the baseline every model must beat);
* ``linear``: f = a + b γ, b >= 0;
* ``smooth_step``: f = c + Δ Φ((γ - γ_t) / w), Δ >= 0: CCD monotone in γ with a threshold γ_t,
  the paper's picture (Fig. 7e). γ_t has a flat prior over [0, 200] meV/Å² and is learned from the
  cells; the paper's 100 meV/Å² is not used, because it was read off these same cells.

Measurement noise and what the model does not know are kept apart: the noise of one cell is the
stated floor (``noise_std``, one protocol step: the CCD protocol raises the current by
0.1 mA/cm² and there are no replicates to measure it), every other misfit goes to the metal's
discrepancy δ. Its heavy-tailed (Student-t) prior lets one metal that sits far off the trend keep
its own large δ instead of widening τ, and with it the σ of every candidate, as much as a
Gaussian would. The probability of each interval integrates δ numerically.

The self-consistent imputation regressors of earlier versions (:func:`imputation_model`) are kept
for comparison.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from lithioscreen.censored import IntervalCensoredRegressor, as_interval_targets

ENERGY = "interfacial_energy_mev_per_a2"
MIXING = "li_x_mixing_enthalpy_ev_per_atom"
#: Measurement noise of one cell's CCD, mA/cm²: one step of the paper's CCD protocol (a stated floor).
DEFAULT_NOISE_STD_MA_CM2 = 0.1
MEAN_FUNCTIONS = ("constant", "linear", "smooth_step")
#: The threshold's flat prior, meV/Å² (a broad physical range, not read off the cells).
THRESHOLD_PRIOR_MEV_PER_A2 = (0.0, 200.0)
#: Weakly informative priors, mA/cm² (sulfide-cell CCDs are a few mA/cm²) and mA/cm² per meV/Å².
LEVEL_PRIOR = (3.0, 3.0)  # mean, std of the CCD level
STEP_PRIOR_STD = 3.0  # half-normal scale of the step height Δ
SLOPE_PRIOR_STD = 0.1  # half-normal scale of the slope b
DISCREPANCY_PRIOR_STD = 1.0  # half-normal scale of τ


def _half_normal_logpdf(x, scale):
    return np.where(x >= 0, -0.5 * (x / scale) ** 2, -np.inf)


class BayesianCensoredRegressor(RegressorMixin, BaseEstimator):
    """CCD = f(γ) + metal discrepancy + noise, fitted on interval-censored CCDs by MCMC.

    Parameters
    ----------
    mean_function : {"constant", "linear", "smooth_step"}
        The trend f of the CCD in γ (first column of X); see the module docstring.
    step_width : float
        Width w of the smooth step, meV/Å² (only for ``smooth_step``).
    noise_std : float
        Measurement noise of one cell, mA/cm² (fixed).
    discrepancy_df : float
        Degrees of freedom of the Student-t discrepancy (4: heavy tails, finite variance).
    n_steps, n_burn, n_draws : int
        Metropolis steps, of which the first ``n_burn`` adapt the proposal and are dropped; ``n_draws``
        evenly spaced samples are kept for prediction.
    random_state : int
        Seed: the same data give the same fit.

    Attributes
    ----------
    draws_ : ndarray (n_draws, n_parameters)
        Posterior samples: the mean function's parameters, then log τ.
    n_features_in_ : int
        Number of columns of ``X`` at ``fit``.
    acceptance_rate_ : float
        Metropolis acceptance after burn-in (0.15-0.4 is healthy for random-walk proposals).
    """

    def __init__(
        self,
        mean_function: str = "smooth_step",
        step_width: float = 5.0,
        noise_std: float = DEFAULT_NOISE_STD_MA_CM2,
        discrepancy_df: float = 4.0,
        n_steps: int = 4000,
        n_burn: int = 1500,
        n_draws: int = 250,
        random_state: int = 0,
    ):
        self.mean_function = mean_function
        self.step_width = step_width
        self.noise_std = noise_std
        self.discrepancy_df = discrepancy_df
        self.n_steps = n_steps
        self.n_burn = n_burn
        self.n_draws = n_draws
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # the priors are weakly informative in the units of the problem (CCD in mA/cm², γ in meV/Å²),
        # and the constant baseline cannot explain any variance: no R² promise on arbitrary data
        tags.regressor_tags.poor_score = True
        return tags

    # ------------------------------------------------------------------ the model

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the columns of ``draws_``.

        Returns
        -------
        tuple of str
            The mean function's parameters, then ``log_discrepancy`` (log τ).

        Raises
        ------
        ValueError
            For an unknown ``mean_function``.
        """
        names = {
            "constant": ("level",),
            "linear": ("intercept", "slope"),
            "smooth_step": ("level_below", "step_height", "threshold"),
        }
        if self.mean_function not in names:
            raise ValueError(f"mean_function must be one of {MEAN_FUNCTIONS}, not {self.mean_function!r}")
        return (*names[self.mean_function], "log_discrepancy")

    def _trend(self, theta: np.ndarray, gamma: np.ndarray) -> np.ndarray:
        """f(γ) for parameter rows ``theta`` (k, p) and energies ``gamma`` (n,): shape (k, n)."""
        from scipy.special import ndtr

        theta = np.atleast_2d(theta)
        if self.mean_function == "constant":
            return np.repeat(theta[:, :1], len(gamma), axis=1)
        if self.mean_function == "linear":
            return theta[:, :1] + theta[:, 1:2] * gamma[None, :]
        return theta[:, :1] + theta[:, 1:2] * ndtr((gamma[None, :] - theta[:, 2:3]) / self.step_width)

    def _log_prior(self, theta: np.ndarray) -> float:
        level_mean, level_std = LEVEL_PRIOR
        tau = np.exp(theta[-1])
        value = -0.5 * ((theta[0] - level_mean) / level_std) ** 2
        if self.mean_function == "linear":
            value += _half_normal_logpdf(theta[1], SLOPE_PRIOR_STD)
        elif self.mean_function == "smooth_step":
            low, high = THRESHOLD_PRIOR_MEV_PER_A2
            value += _half_normal_logpdf(theta[1], STEP_PRIOR_STD) + (0.0 if low <= theta[2] <= high else -np.inf)
        return float(value + _half_normal_logpdf(tau, DISCREPANCY_PRIOR_STD) + theta[-1])  # + log τ: Jacobian of log τ

    def _log_likelihood(self, theta: np.ndarray, gamma, lower, upper) -> float:
        """Σ log P(lower <= f + δ + ε <= upper), δ ~ t(ν, τ) integrated on a grid, ε ~ N(0, noise²)."""
        from scipy.special import ndtr

        trend = self._trend(theta, gamma)[0]
        tau = float(np.exp(theta[-1]))
        reach = np.max(
            np.abs(
                np.concatenate(
                    [np.where(np.isfinite(lower), lower - trend, 0), np.where(np.isfinite(upper), upper - trend, 0)]
                )
            )
        )
        half = max(12 * tau, reach + 8 * self.noise_std)
        delta = np.linspace(-half, half, 241)
        nu = self.discrepancy_df
        weights = (1 + (delta / tau) ** 2 / nu) ** (-(nu + 1) / 2)
        weights /= weights.sum()
        centre = trend[:, None] + delta[None, :]
        upper_z = np.where(np.isinf(upper)[:, None], np.inf, (upper[:, None] - centre) / self.noise_std)
        lower_z = np.where(np.isinf(lower)[:, None], -np.inf, (lower[:, None] - centre) / self.noise_std)
        probability = (ndtr(upper_z) - ndtr(lower_z)) @ weights
        return float(np.sum(np.log(np.maximum(probability, 1e-300))))

    def _initial(self, gamma, lower, upper) -> np.ndarray:
        finite = np.where(np.isfinite(upper), (lower + upper) / 2, lower)
        level = float(np.clip(np.mean(finite), 0.5, 8.0))
        log_tau = np.log(0.3)
        if self.mean_function == "constant":
            return np.array([level, log_tau])
        if self.mean_function == "linear":
            return np.array([level, 0.0, log_tau])
        return np.array(
            [float(np.min(finite)), max(float(np.ptp(finite)), 0.1), float(np.clip(np.median(gamma), 1, 199)), log_tau]
        )

    # ------------------------------------------------------------------ fitting

    def fit(self, X, y):
        """Sample the posterior given the cells' descriptors ``X`` (first column: γ, meV/Å²) and CCD intervals ``y``.

        Parameters
        ----------
        X : array-like of shape (n_cells, n_features)
            Finite descriptors; only the first column (the interfacial energy) enters the trend.
        y : array-like of shape (n_cells, 2) or (n_cells,)
            CCD intervals ``[lower, upper]`` in mA/cm² (``upper = inf`` for "> x"), or exact values.

        Returns
        -------
        BayesianCensoredRegressor
            ``self``.

        Raises
        ------
        ValueError
            For non-finite ``X``, malformed ``y`` (:func:`lithioscreen.censored.as_interval_targets`) or
            a different number of rows and targets.
        """
        from sklearn.utils.validation import validate_data

        X = validate_data(self, X, reset=True)
        lower, upper = as_interval_targets(y)
        if len(lower) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(lower)} targets")
        gamma = X[:, 0]
        rng = np.random.default_rng(self.random_state)

        def log_posterior(theta):
            prior = self._log_prior(theta)
            return prior if not np.isfinite(prior) else prior + self._log_likelihood(theta, gamma, lower, upper)

        theta = self._initial(gamma, lower, upper)
        current = log_posterior(theta)
        scale = {"constant": [0.3], "linear": [0.3, 0.005], "smooth_step": [0.3, 0.3, 10.0]}[self.mean_function] + [0.3]
        # random-walk Metropolis; the proposal adapts to the chain during burn-in (Haario et al. 2001)
        factor = np.diag(scale) * 2.38 / np.sqrt(len(theta))
        normals = rng.standard_normal((self.n_steps, len(theta)))
        uniforms = np.log(rng.random(self.n_steps))
        samples, accepted = np.empty((self.n_steps, len(theta))), 0
        for step in range(self.n_steps):
            proposal = theta + factor @ normals[step]
            if self.mean_function in {"linear", "smooth_step"}:
                proposal[1] = abs(proposal[1])  # reflection at 0 keeps the proposal symmetric
            candidate = log_posterior(proposal)
            if uniforms[step] < candidate - current:
                theta, current = proposal, candidate
                accepted += step >= self.n_burn
            samples[step] = theta
            if 200 <= step < self.n_burn and step % 100 == 0:
                covariance = np.cov(samples[step // 2 : step + 1].T) + np.diag(np.square(scale)) * 1e-4
                factor = np.linalg.cholesky(covariance) * 2.38 / np.sqrt(len(theta))
        kept = samples[self.n_burn :]
        self.draws_ = kept[np.linspace(0, len(kept) - 1, self.n_draws).astype(int)]
        self.acceptance_rate_ = accepted / max(self.n_steps - self.n_burn, 1)
        return self

    # ------------------------------------------------------------------ predicting

    def discrepancy_std(self) -> float:
        """Standard deviation of a metal's discrepancy δ, averaged over the posterior.

        For a Student-t with ν degrees of freedom, ``τ √(ν/(ν-2))``; for ν <= 2 (infinite
        variance) the factor ν/(ν-2) is replaced by 10.

        Returns
        -------
        float
            ``sqrt(mean(τ²) · ν/(ν-2))`` over the draws, mA/cm².
        """
        check_is_fitted(self, "draws_")
        nu = self.discrepancy_df
        factor = nu / (nu - 2) if nu > 2 else 10.0
        return float(np.sqrt(np.mean(np.exp(2 * self.draws_[:, -1])) * factor))

    def predict(self, X, return_std: bool = False):
        """Posterior mean of the stack's CCD (mA/cm²) and, with ``return_std``, its standard deviation
        (parameters and the metal's discrepancy; not the measurement noise of one cell).

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Finite descriptors, the interfacial energy first.
        return_std : bool
            Also return the standard deviation.

        Returns
        -------
        mean : ndarray of shape (n,)
            Posterior mean of the trend, mA/cm².
        std : ndarray of shape (n,)
            Only with ``return_std``: the trend's posterior spread and the discrepancy
            (:meth:`discrepancy_std`) in quadrature, mA/cm².
        """
        from sklearn.utils.validation import validate_data

        check_is_fitted(self, "draws_")
        gamma = validate_data(self, X, reset=False)[:, 0]
        trend = self._trend(self.draws_, gamma)
        mean = trend.mean(axis=0)
        if not return_std:
            return mean
        return mean, np.sqrt(trend.var(axis=0) + self.discrepancy_std() ** 2)

    def posterior_summary(self) -> dict[str, float]:
        """Posterior mean and 2.5/97.5 % quantiles of each parameter (τ in mA/cm², not log).

        Returns
        -------
        dict of str to float
            ``<name>_mean``, ``<name>_q025``, ``<name>_q975`` for each parameter of the mean
            function and ``discrepancy_tau``; levels in mA/cm², the threshold in meV/Å².
        """
        check_is_fitted(self, "draws_")
        values = self.draws_.copy()
        values[:, -1] = np.exp(values[:, -1])
        summary = {}
        for name, column in zip((*self.parameter_names[:-1], "discrepancy_tau"), values.T):
            summary[f"{name}_mean"] = float(column.mean())
            summary[f"{name}_q025"] = float(np.quantile(column, 0.025))
            summary[f"{name}_q975"] = float(np.quantile(column, 0.975))
        return summary


def imputation_model(name: str):
    """The earlier approach, kept for comparison: a scikit-learn regressor on censored targets by imputation.

    Median imputation, standardisation and the regressor, wrapped in
    :class:`lithioscreen.censored.IntervalCensoredRegressor` (self-consistent imputation).

    Parameters
    ----------
    name : {"bayesian_ridge", "gaussian_process"}
        The regressor.

    Returns
    -------
    IntervalCensoredRegressor
        Unfitted.

    Raises
    ------
    ValueError
        For another name.
    """
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import BayesianRidge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "bayesian_ridge":
        regressor = BayesianRidge(alpha_1=1.0, alpha_2=0.1)
    elif name == "gaussian_process":
        kernel = ConstantKernel(1.0, (1e-2, 1e2)) * RBF(1.0, (1e-1, 1e2)) + WhiteKernel(0.05, (1e-2, 1.0))
        regressor = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=2, random_state=0)
    else:
        raise ValueError(f"unknown imputation model {name!r}")
    pipeline = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(), regressor)
    return IntervalCensoredRegressor(pipeline)


#: Every regressor ``lithioscreen train`` compares: name -> (regressor factory, feature columns).
#: ``physics_monotone`` is the default champion unless another beats it under nested CV.
DEFAULT_MODEL = "physics_monotone"
BASELINE_MODEL = "constant_baseline"
#: Models that fit the censored likelihood may become champion; the imputation model is only compared
#: (it sets censored targets to its own predictions, which leaves no residual there: its σ is overconfident).
SELECTABLE_MODELS = ("physics_monotone", "censored_linear", BASELINE_MODEL)
MODEL_SPECS = {
    "physics_monotone": (lambda: BayesianCensoredRegressor("smooth_step"), [ENERGY]),
    "censored_linear": (lambda: BayesianCensoredRegressor("linear"), [ENERGY]),
    BASELINE_MODEL: (lambda: BayesianCensoredRegressor("constant"), [ENERGY]),
    "bayesian_ridge_imputation": (lambda: imputation_model("bayesian_ridge"), [ENERGY, MIXING]),
}
