"""Composition descriptors of the overlayer from matminer's Magpie element-property preset.

132 features (mean, spread, min, max, ... of elemental properties over the composition), named
``magpie_<property>_<statistic>``. They describe the overlayer for users and for screening; the
CCD models use the physically motivated subset listed in :mod:`lithioscreen.models.regressors`
because a handful of measured cells cannot support 132 inputs.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

import pandas as pd
from matminer.featurizers.composition import ElementProperty

from lithioscreen.candidates import parse_overlayer
from lithioscreen.features.base import CandidateFeaturizer, per_composition


def _snake(label: str) -> str:
    return "magpie_" + re.sub(r"[^0-9a-zA-Z]+", "_", label.replace("MagpieData ", "")).strip("_").lower()


@lru_cache(maxsize=1)
def magpie_feature_names() -> tuple[str, ...]:
    return tuple(_snake(label) for label in ElementProperty.from_preset("magpie").feature_labels())


class MagpieFeaturizer(CandidateFeaturizer):
    """matminer ``ElementProperty.from_preset("magpie")`` on the overlayer composition."""

    def __init__(self):
        pass

    @property
    def feature_names(self):  # type: ignore[override]
        return magpie_feature_names()

    def fit(self, X=None, y=None):
        self.element_property_ = ElementProperty.from_preset("magpie")
        self.n_features_out_ = len(self.feature_names)
        return self

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        labels = self.feature_names

        def compute(candidate: str) -> dict:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values = self.element_property_.featurize(parse_overlayer(candidate))
            return dict(zip(labels, values))

        return per_composition(frame, compute)
