"""scikit-learn's own estimator checks on lithioscreen's regressors and featurizers.

The regressors pass every check. The featurizers pass the checks of the estimator API (cloning,
parameters, fit returning self, refusing to transform before fit, ...); the checks that feed them a
numeric matrix are expected to fail, because a featurizer's input is a candidate table of
compositions (text) and thicknesses (:data:`lithioscreen.candidates.CANDIDATE_COLUMNS`), which
``tests/test_features.py`` covers.
"""

from __future__ import annotations

import pytest
from sklearn.linear_model import BayesianRidge
from sklearn.utils.estimator_checks import parametrize_with_checks

from lithioscreen.censored import IntervalCensoredRegressor
from lithioscreen.features import (
    InterfacialEnergyFeaturizer,
    LayerGeometryFeaturizer,
    LiPhaseDiagramFeaturizer,
    MagpieFeaturizer,
)
from lithioscreen.features.base import CandidateFeaturizer
from lithioscreen.models.regressors import BayesianCensoredRegressor

NUMERIC_MATRIX_CHECKS = (
    "check_complex_data",
    "check_dict_unchanged",
    "check_dtype_object",
    "check_estimator_sparse_tag",
    "check_estimators_dtypes",
    "check_estimators_empty_data_messages",
    "check_estimators_nan_inf",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit1d",
    "check_fit2d_predict1d",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
)
pytestmark = pytest.mark.slow  # ~350 checks, half a minute

REASON = "the input is a candidate table (compositions and thicknesses), not a numeric matrix"


def _expected_failures(estimator) -> dict[str, str]:
    return {name: REASON for name in NUMERIC_MATRIX_CHECKS} if isinstance(estimator, CandidateFeaturizer) else {}


@parametrize_with_checks(
    [
        # few Metropolis steps: the checks test the estimator's contract, not the posterior
        BayesianCensoredRegressor("smooth_step", n_steps=300, n_burn=100, n_draws=50),
        BayesianCensoredRegressor("constant", n_steps=300, n_burn=100, n_draws=50),
        IntervalCensoredRegressor(BayesianRidge()),
        LayerGeometryFeaturizer(),
        MagpieFeaturizer(),
        LiPhaseDiagramFeaturizer(),
        InterfacialEnergyFeaturizer(),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
