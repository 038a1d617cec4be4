"""Composition descriptors of the overlayer: matminer's Magpie element-property preset.

132 features (mean, spread, min, max, ... of elemental properties over the composition), named
``magpie_<property>_<statistic>``. They describe the overlayer for users and for screening; the
CCD models use the physically motivated subset listed in :mod:`lithioscreen.models.regressors`
because a handful of measured cells cannot support 132 inputs.

The values are those of ``matminer``'s ``ElementProperty.from_preset("magpie")``, computed for all
candidates at once from matminer's own data tables (:mod:`lithioscreen.features._vectorized`);
matminer itself is not imported.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from lithioscreen.features.base import CandidateFeaturizer, distinct_compositions


def _snake(label: str) -> str:
    return "magpie_" + re.sub(r"[^0-9a-zA-Z]+", "_", label.replace("MagpieData ", "")).strip("_").lower()


@lru_cache(maxsize=1)
def magpie_feature_names() -> tuple[str, ...]:
    """The 132 Magpie column names, ``magpie_<property>_<statistic>`` in snake case.

    Returns
    -------
    tuple of str
        In the order of matminer's feature labels.
    """
    from lithioscreen.features._vectorized import magpie_labels

    return tuple(_snake(label) for label in magpie_labels())


class MagpieFeaturizer(CandidateFeaturizer):
    """matminer ``ElementProperty.from_preset("magpie")`` on the overlayer composition, vectorized."""

    def __init__(self):
        pass

    @property
    def feature_names(self):  # type: ignore[override]
        """The descriptor names (:func:`magpie_feature_names`).

        Returns
        -------
        tuple of str
        """
        return magpie_feature_names()

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        from lithioscreen.features._vectorized import magpie_features

        codes, _, matrix = distinct_compositions(frame)
        values = magpie_features(matrix)
        if len(codes) != len(matrix) or np.any(codes != np.arange(len(codes))):
            values = values[codes]
        return pd.DataFrame(values, columns=list(self.feature_names), copy=False)
