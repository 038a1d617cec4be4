"""Descriptors of candidate overlayers as scikit-learn transformers."""

from lithioscreen.features.composition import MagpieFeaturizer
from lithioscreen.features.geometry import LayerGeometryFeaturizer
from lithioscreen.features.interfacial_energy import InterfacialEnergyFeaturizer
from lithioscreen.features.phase_diagram import LiPhaseDiagramFeaturizer
from lithioscreen.features.pipeline import make_featurizer

__all__ = [
    "InterfacialEnergyFeaturizer",
    "LayerGeometryFeaturizer",
    "LiPhaseDiagramFeaturizer",
    "MagpieFeaturizer",
    "make_featurizer",
]
