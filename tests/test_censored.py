import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import BayesianRidge, LinearRegression

from lithioscreen.censored import IntervalCensoredRegressor, as_interval_targets, interval_error


def test_interval_error_is_zero_inside_and_distance_outside():
    lower = np.array([5.0, 3.2, 1.3])
    upper = np.array([np.inf, 4.8, 1.3])
    assert interval_error([6.0, 4.0, 1.3], lower, upper).tolist() == [0.0, 0.0, 0.0]
    assert interval_error([4.0, 5.0, 1.0], lower, upper) == pytest.approx([1.0, 0.2, 0.3])


@given(
    st.floats(-10, 10),
    st.floats(0, 5),
    st.floats(-20, 20),
)
def test_interval_error_properties(low, width, prediction):
    error = interval_error([prediction], [low], [low + width])[0]
    assert error >= 0
    assert (error == 0) == (low <= prediction <= low + width)


def test_targets_validation():
    with pytest.raises(ValueError):
        as_interval_targets(np.array([[2.0, 1.0]]))
    lower, upper = as_interval_targets([1.0, 2.0])
    assert (lower == upper).all()


def test_censored_fit_beats_plugging_in_the_bound():
    """On y = 2x with the top half right-censored at 10, treating '> 10' as 10 flattens the slope."""
    x = np.linspace(0, 10, 21)[:, None]
    y = 2 * x[:, 0]
    lower = np.where(y > 10, 10.0, y)
    upper = np.where(y > 10, np.inf, y)
    naive = LinearRegression().fit(x, lower)
    censored = IntervalCensoredRegressor(LinearRegression(), max_iter=200, tol=1e-8).fit(
        x, np.column_stack([lower, upper])
    )
    assert naive.coef_[0] < 1.8
    assert censored.estimator_.coef_[0] == pytest.approx(2.0, rel=0.05)
    # exact targets are never moved, censored ones stay inside their interval
    exact = lower == upper
    assert censored.imputed_targets_[exact] == pytest.approx(y[exact])
    assert (censored.imputed_targets_[~exact] >= 10).all()


def test_return_std_is_passed_through():
    x = np.arange(6, dtype=float)[:, None]
    model = IntervalCensoredRegressor(BayesianRidge()).fit(x, np.column_stack([x[:, 0], x[:, 0] + 1]))
    mean, std = model.predict(x, return_std=True)
    assert mean.shape == std.shape == (6,) and (std > 0).all()
