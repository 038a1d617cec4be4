"""The full descriptor table: composition, phase diagram, interfacial energy, geometry."""

from __future__ import annotations

import pandas as pd
from sklearn.pipeline import FeatureUnion

from lithioscreen.features.composition import MagpieFeaturizer
from lithioscreen.features.geometry import LayerGeometryFeaturizer
from lithioscreen.features.interfacial_energy import InterfacialEnergyFeaturizer
from lithioscreen.features.phase_diagram import LiPhaseDiagramFeaturizer


def make_featurizer(
    phase_data: pd.DataFrame | None = None,
    interfacial_data: pd.DataFrame | None = None,
    include_magpie: bool = True,
) -> FeatureUnion:
    """A FeatureUnion of every featurizer, returning a pandas DataFrame with plain feature names.

    ``include_magpie=False`` leaves out the 132 Magpie columns (the CCD models do not use them).
    """
    parts = [
        ("interfacial_energy", InterfacialEnergyFeaturizer(interfacial_data)),
        ("phase_diagram", LiPhaseDiagramFeaturizer(phase_data)),
        ("geometry", LayerGeometryFeaturizer()),
    ]
    if include_magpie:
        parts.append(("magpie", MagpieFeaturizer()))
    return FeatureUnion(parts, verbose_feature_names_out=False).set_output(transform="pandas")
