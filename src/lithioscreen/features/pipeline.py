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

    Parameters
    ----------
    phase_data : pandas.DataFrame or None
        The Li-X phase-data table for :class:`~lithioscreen.features.phase_diagram.LiPhaseDiagramFeaturizer`;
        None: what that featurizer loads by default.
    interfacial_data : pandas.DataFrame or None
        The interfacial-energy table for the interfacial-energy featurizer; None: its default.
    include_magpie : bool
        Add the 132 Magpie columns (the CCD models do not use them).

    Returns
    -------
    sklearn.pipeline.FeatureUnion
        Unfitted; interfacial energy, phase diagram, geometry, then Magpie columns.
    """
    parts = [
        ("interfacial_energy", InterfacialEnergyFeaturizer(interfacial_data)),
        ("phase_diagram", LiPhaseDiagramFeaturizer(phase_data)),
        ("geometry", LayerGeometryFeaturizer()),
    ]
    if include_magpie:
        parts.append(("magpie", MagpieFeaturizer()))
    return FeatureUnion(parts, verbose_feature_names_out=False).set_output(transform="pandas")


#: Rows per chunk when a long candidate table is featurized or ranked in pieces.
DEFAULT_CHUNK_ROWS = 4096


def featurize_in_chunks(candidates: pd.DataFrame, include_magpie: bool = True, chunk_rows: int = DEFAULT_CHUNK_ROWS):
    """The descriptor table of ``candidates`` chunk by chunk, so that memory stays bounded by one chunk.

    Parameters
    ----------
    candidates : pandas.DataFrame
        A validated candidate table.
    include_magpie : bool
        Add the 132 Magpie columns.
    chunk_rows : int
        Rows per chunk.

    Yields
    ------
    pandas.DataFrame
        Up to ``chunk_rows`` rows, index from 0 in each chunk: the candidate columns, then every
        descriptor not already among them.
    """
    featurizer = make_featurizer(include_magpie=include_magpie).fit(candidates.head(1))
    for start in range(0, len(candidates), chunk_rows):
        chunk = candidates.iloc[start : start + chunk_rows].reset_index(drop=True)
        described = featurizer.transform(chunk)
        described = described.drop(columns=[column for column in described.columns if column in chunk.columns])
        yield pd.concat([chunk, described.reset_index(drop=True)], axis=1)
