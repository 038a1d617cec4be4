import numpy as np
import pandas as pd
import pytest

from lithioscreen.candidates import make_candidates
from lithioscreen.data import load_cells, training_cells
from lithioscreen.models import above_threshold, best_model_name, cross_validate, fit_threshold, make_models, predict_ccd
from lithioscreen.models.evaluation import ccd_metrics, targets


@pytest.fixture(scope="module")
def cells():
    return training_cells(load_cells())


@pytest.fixture(scope="module")
def cv_results(cells):
    return {name: cross_validate(model, cells) for name, model in make_models().items()}


def test_every_model_predicts_with_a_finite_positive_std(cells):
    candidates = make_candidates(["W", "Nb", "Cr0.5W0.5"])
    for name, model in make_models().items():
        model.fit(cells, targets(cells))
        prediction = predict_ccd(model, candidates)
        assert np.isfinite(prediction.mean).all(), name
        assert (prediction.std > 0).all(), name


def test_cross_validation_is_held_out(cells, cv_results):
    for name, result in cv_results.items():
        assert len(result.predictions) == len(cells)
        assert set(result.metrics) >= {"mae", "rmse", "spearman", "threshold_accuracy", "coverage_2sigma"}
        # bare Mg is the only cell without an underlayer: held out, no model can know it is low
        mg = result.predictions.set_index("candidate").loc["Mg"]
        assert mg["interval_error_ma_cm2"] > 0.5, name
    # a model refitted on every cell does better on the training cells than held out: CV is not training error
    model = make_models()["random_forest"].fit(cells, targets(cells))
    in_sample_error_on_mg = abs(predict_ccd(model, cells).mean[0] - 1.3)
    assert cells["candidate"].iloc[0] == "Mg"
    assert in_sample_error_on_mg < cv_results["random_forest"].predictions["interval_error_ma_cm2"].iloc[0]


def test_metrics_respect_censoring():
    metrics = ccd_metrics([6.0, 4.0, 1.3], [0.1, 0.1, 0.1], [5.0, 3.2, 1.3], [np.inf, 4.8, 1.3])
    assert metrics["mae"] == 0 and metrics["threshold_accuracy"] == 1.0 and metrics["n_censored"] == 2
    metrics = ccd_metrics([4.0, 4.0, 4.0], [0.1, 0.1, 0.1], [5.0, 3.2, 1.3], [np.inf, 4.8, 1.3])
    assert metrics["mae"] == pytest.approx((1.0 + 0 + 2.7) / 3)
    assert metrics["threshold_accuracy"] == pytest.approx(2 / 3)


def test_best_model_is_lowest_mae(cv_results):
    best = best_model_name(cv_results)
    assert cv_results[best].metrics["mae"] == min(r.metrics["mae"] for r in cv_results.values())


def test_threshold_flag():
    assert above_threshold([66.8, 100.0, 120.0, np.nan], 100.0).tolist() == [False, True, True, False]
    assert above_threshold([66.8], 50.0).tolist() == [True]


def test_change_point_recovers_a_step():
    energy = np.array([10, 20, 30, 40, 110, 120, 130])
    ccd = np.array([3.0, 3.1, 2.9, 3.0, 5.0, 5.1, 4.9])
    estimate = fit_threshold(energy, ccd, n_bootstrap=200)
    assert (estimate.lower_mev_per_a2, estimate.upper_mev_per_a2) == (40, 110)
    assert estimate.threshold_mev_per_a2 == 75
    assert estimate.ccd_above_ma_cm2 > estimate.ccd_below_ma_cm2


def test_change_point_needs_two_energies():
    with pytest.raises(ValueError):
        fit_threshold([50.0, 50.0], [1.0, 2.0])
