"""Interval-censored regression targets.

Measured CCDs are not all numbers: "no short circuit up to 5.0 mA/cm²" is a lower bound
(the true CCD lies in [5.0, ∞)), "exceeded 3.2, below Cr's 4.8" an interval [3.2, 4.8]. We never
replace such a value by its bound silently. Instead every target is an interval ``[lower, upper]``
(an exact value has ``lower == upper``) passed to ``fit`` as a two-column ``y``, and:

* :class:`IntervalCensoredRegressor` fits any scikit-learn regressor by self-consistent
  imputation (in the spirit of Buckley & James, 1979): censored targets start at the interval's
  midpoint (finite intervals) or at the bound (open ones), the model is fitted, each censored
  target is moved to the model's prediction clipped into its interval, and the model is refitted,
  until the imputed values stop moving. Exact targets are never changed.
* :func:`interval_error` scores a prediction against an interval: zero inside, the distance to the
  nearest bound outside. A prediction of 6.0 for "> 5.0" is not an error; 4.0 is an error of 1.0.
  It cannot tell apart two predictions inside a wide interval, so models are compared on
* :func:`interval_log_probability`: the log of the probability a Gaussian predictive distribution
  gives the measured interval, a proper scoring rule for censored data (its negative, averaged, is
  the NLPD reported by cross-validation).

The self-consistent imputation is kept as a compared model; the default models fit the interval
likelihood directly (:class:`lithioscreen.models.regressors.BayesianCensoredRegressor`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted


def as_interval_targets(y) -> tuple[np.ndarray, np.ndarray]:
    """Split ``y`` into (lower, upper) arrays; a 1-D ``y`` (or one column) is all exact values.

    Parameters
    ----------
    y : array-like of shape (n,), (n, 1) or (n, 2)
        Exact targets, or ``[lower, upper]`` intervals (NaN or ±inf for an open side).

    Returns
    -------
    lower, upper : ndarray of shape (n,)
        The bounds; NaN becomes -inf (lower) or +inf (upper). Exact targets have ``lower == upper``.

    Raises
    ------
    ValueError
        If ``y`` is None, has another shape, holds non-finite exact targets, ``lower > upper``,
        or a target unbounded on both sides.
    """
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    y = np.asarray(y, dtype=float)
    if y.ndim == 2 and y.shape[1] == 1:
        import warnings

        from sklearn.exceptions import DataConversionWarning

        warnings.warn(
            "A column-vector y was passed when a 1d array was expected (read as exact targets; intervals have two columns)",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y[:, 0]
    if y.ndim == 1:
        if not np.isfinite(y).all():
            raise ValueError("exact targets must be finite (write an open bound as an interval [lower, inf])")
        return y.copy(), y.copy()
    if y.ndim != 2 or y.shape[1] != 2:
        raise ValueError(f"interval targets must have shape (n, 2), got {y.shape}")
    lower, upper = y[:, 0].copy(), y[:, 1].copy()
    lower = np.where(np.isnan(lower), -np.inf, lower)
    upper = np.where(np.isnan(upper), np.inf, upper)
    if np.any(lower > upper):
        raise ValueError("interval targets need lower <= upper")
    if np.any(np.isinf(lower) & np.isinf(upper)):
        raise ValueError("a target cannot be unbounded on both sides")
    return lower, upper


def initial_imputation(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Midpoint of finite intervals, the finite bound of open ones.

    Parameters
    ----------
    lower, upper : numpy.ndarray
        Interval bounds, shape ``(n,)``; ±inf for an open side.

    Returns
    -------
    numpy.ndarray
        The starting value of each target, shape ``(n,)`` (the value itself when exact).
    """
    return np.where(
        np.isfinite(lower) & np.isfinite(upper),
        (lower + upper) / 2,
        np.where(np.isfinite(lower), lower, upper),
    )


def interval_error(prediction, lower, upper) -> np.ndarray:
    """Distance from each prediction to its target interval (0 inside).

    Parameters
    ----------
    prediction, lower, upper : array_like
        Predictions and interval bounds, same units, broadcastable shapes; ±inf for an open side.

    Returns
    -------
    numpy.ndarray
        Non-negative errors, in the targets' units.
    """
    prediction = np.asarray(prediction, dtype=float)
    return np.maximum(np.asarray(lower, float) - prediction, 0) + np.maximum(prediction - np.asarray(upper, float), 0)


def widen_exact(lower, upper, half_width) -> tuple[np.ndarray, np.ndarray]:
    """Exact CCDs as the protocol step they were read in: ``[y - h, y + h]`` (intervals unchanged).

    A CCD test raises the current in steps (0.1 mA/cm² in the paper); an "exact" CCD of 4.8 says
    the cell shorted during the 4.8 step, so it is known to about one step, not to zero width.

    Parameters
    ----------
    lower, upper : array_like
        Interval bounds, mA/cm², shape ``(n,)``; ``lower == upper`` marks an exact value.
    half_width : float or array_like
        Half-width ``h`` per target (broadcast to ``(n,)``), mA/cm².

    Returns
    -------
    lower, upper : numpy.ndarray
        New arrays, exact targets widened.
    """
    lower, upper = np.asarray(lower, float).copy(), np.asarray(upper, float).copy()
    half = np.broadcast_to(np.asarray(half_width, float), lower.shape)
    exact = lower == upper
    lower[exact] -= half[exact]
    upper[exact] += half[exact]
    return lower, upper


def interval_log_probability(mean, std, lower, upper, floor: float = 1e-12) -> np.ndarray:
    """log P(lower <= Y <= upper) for Y ~ N(mean, std²).

    Parameters
    ----------
    mean, std : array_like
        Predictive mean and standard deviation (std > 0), shape ``(n,)``.
    lower, upper : array_like
        Interval bounds in the same units; may be infinite. Zero-width intervals should be widened
        first (:func:`widen_exact`), or they score ``log(floor)``.
    floor : float
        Smallest probability, so that the log stays finite.

    Returns
    -------
    numpy.ndarray
        Log probabilities, shape ``(n,)``.
    """
    from scipy.special import ndtr

    mean, std = np.asarray(mean, float), np.asarray(std, float)
    z_upper = np.where(np.isinf(upper), np.inf, (np.asarray(upper, float) - mean) / std)
    z_lower = np.where(np.isinf(lower), -np.inf, (np.asarray(lower, float) - mean) / std)
    return np.log(np.maximum(ndtr(z_upper) - ndtr(z_lower), floor))


def representative_value(lower, upper) -> np.ndarray:
    """One number per target for rank statistics: the value, the interval midpoint, or the bound.

    Parameters
    ----------
    lower, upper : array_like
        Interval bounds, shape ``(n,)``; ±inf for an open side.

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``, as :func:`initial_imputation`.
    """
    return initial_imputation(np.asarray(lower, float), np.asarray(upper, float))


class IntervalCensoredRegressor(RegressorMixin, BaseEstimator):
    """Fit ``estimator`` on interval-censored targets by self-consistent imputation.

    ``y`` is either a 1-D array (all exact) or an ``(n, 2)`` array of ``[lower, upper]`` with
    ``upper = inf`` for lower bounds. ``predict(X, return_std=True)`` is passed through to the
    wrapped estimator, which must support it.

    Parameters
    ----------
    estimator : regressor
        The scikit-learn regressor to fit (cloned for every fit). It must be given: the default,
        None, cannot be cloned.
    max_iter : int
        At most this many imputation updates (each one refit).
    tol : float
        Stop when no imputed target moves by more than this, in the targets' units.

    Attributes
    ----------
    estimator_ : regressor
        The last fit of ``estimator``.
    imputed_targets_ : numpy.ndarray
        The final imputed targets, shape ``(n,)``.
    censored_mask_ : numpy.ndarray
        True for the targets that are not exact, shape ``(n,)``.
    n_iter_ : int
        Number of fits made.
    """

    def __init__(self, estimator=None, max_iter: int = 10, tol: float = 1e-3):
        self.estimator = estimator
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y):
        """Fit by self-consistent imputation of the censored targets.

        Parameters
        ----------
        X : array_like
            Features, shape ``(n, p)``; NaN allowed if the wrapped estimator takes it.
        y : array_like
            Targets, shape ``(n,)`` (exact) or ``(n, 2)`` (``[lower, upper]``, :func:`as_interval_targets`).

        Returns
        -------
        IntervalCensoredRegressor
            ``self``.
        """
        from sklearn.utils.validation import validate_data

        X = validate_data(self, X, reset=True, ensure_all_finite="allow-nan")
        lower, upper = as_interval_targets(y)
        censored = lower != upper
        imputed = initial_imputation(lower, upper)
        self.n_iter_ = 1  # fits made: the first one, then one per imputation update
        model = clone(self.estimator).fit(X, imputed)
        for iteration in range(1, self.max_iter + 1) if censored.any() else ():
            update = imputed.copy()
            update[censored] = np.clip(model.predict(X)[censored], lower[censored], upper[censored])
            change = np.max(np.abs(update - imputed))
            imputed = update
            model = clone(self.estimator).fit(X, imputed)
            self.n_iter_ = iteration + 1
            if change < self.tol:
                break
        self.estimator_ = model
        self.imputed_targets_ = imputed
        self.censored_mask_ = censored
        return self

    def predict(self, X, return_std: bool = False):
        """Predict with the wrapped estimator.

        Parameters
        ----------
        X : array_like
            Features, shape ``(m, p)``.
        return_std : bool
            Also return the wrapped estimator's predictive standard deviation.

        Returns
        -------
        numpy.ndarray or tuple of numpy.ndarray
            The mean, shape ``(m,)``, or ``(mean, std)`` with ``return_std``.
        """
        from sklearn.utils.validation import validate_data

        check_is_fitted(self, "estimator_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        if return_std:
            return self.estimator_.predict(X, return_std=True)
        return self.estimator_.predict(X)
