"""Layer-stack geometry: how thick the overlayer is and whether a lithiophilic layer lies beneath.

The paper shows both matter: 200 nm W blocks Li-ion transport (Li plates on top of W), and W
without the Mg layer makes Li nucleate on the lithiophobic metal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lithioscreen.candidates import NO_UNDERLAYER
from lithioscreen.features.base import CandidateFeaturizer


class LayerGeometryFeaturizer(CandidateFeaturizer):
    """The layer stack as numbers: overlayer thickness and the underlayer beneath it.

    Columns: ``overlayer_nm`` (nm), ``overlayer_log10_nm`` (log10 of nm), ``underlayer_present``
    (1.0 or 0.0) and ``underlayer_nm`` (nm, 0 without an underlayer).
    """

    feature_names = ("overlayer_nm", "overlayer_log10_nm", "underlayer_present", "underlayer_nm")

    def __init__(self):
        pass

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        overlayer_nm = frame["overlayer_nm"].astype(float).to_numpy()
        present = (frame["underlayer"].astype(str) != NO_UNDERLAYER).astype(float).to_numpy()
        return pd.DataFrame(
            {
                "overlayer_nm": overlayer_nm,
                "overlayer_log10_nm": np.log10(overlayer_nm),
                "underlayer_present": present,
                "underlayer_nm": frame["underlayer_nm"].astype(float).to_numpy() * present,
            }
        )
