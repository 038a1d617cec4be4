"""Synthetic interfacial-energy tables for the calibration and featurizer tests (numpy/pandas only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lithioscreen.interface.protocol import current_protocol

DFT = {"Mo": 81.742, "Ti": 66.799, "LiF": 44.054, "Li2S": 31.678}


def dft_rows():
    rows = [
        {
            "material": name,
            "method": "dft",
            "value_kind": "exact",
            "value_origin": "text",
            "li_plane": "(100)",
            "x_plane": "not stated",
            "interfacial_energy_mev_per_a2": value,
            "intercept_stderr_mev_per_a2": np.nan,
            "protocol": "",
            "material_class": "metal",
        }
        for name, value in DFT.items()
    ]
    # a bound inferred from a CCD, and an argyrodite value without computed rows: both must not matter
    rows.append(
        {
            "material": "W",
            "method": "dft",
            "value_kind": "lower_bound",
            "value_origin": "inferred_from_text",
            "li_plane": "(100)",
            "x_plane": "highest plane",
            "interfacial_energy_mev_per_a2": np.nan,
            "intercept_stderr_mev_per_a2": np.nan,
            "protocol": "",
            "material_class": "metal",
        }
    )
    rows.append(
        {
            "material": "Li6PS5Cl",
            "method": "dft",
            "value_kind": "exact",
            "value_origin": "text",
            "li_plane": "(100)",
            "x_plane": "(100)",
            "interfacial_energy_mev_per_a2": -33.767,
            "intercept_stderr_mev_per_a2": np.nan,
            "protocol": "",
            "material_class": "solid_electrolyte",
        }
    )
    return rows


def computed_row(material, plane, potential, value, stderr=0.5, protocol=None):
    return {
        "material": material,
        "method": f"mlip:{potential}",
        "value_kind": "exact",
        "value_origin": "computed_mlip",
        "li_plane": "(100)",
        "x_plane": f"({plane})",
        "interfacial_energy_mev_per_a2": value,
        "intercept_stderr_mev_per_a2": stderr,
        "protocol": current_protocol() if protocol is None else protocol,
        "material_class": "sei_component" if material.startswith("Li") else "metal",
    }


def committee_table(maps, extra=(), noise=None, planes=None):
    """Each potential p reports raw = (dft - a_p) / b_p on the references' highest plane and 10 less
    on a second plane; ``noise`` adds per-(material, potential) offsets."""
    rows = dft_rows()
    noise = noise or {}
    for potential, (a, b) in maps.items():
        for name, value in DFT.items():
            raw = (value - a) / b + noise.get((name, potential), 0.0)
            top, other = (planes or {}).get(name, ("110", "100"))
            rows += [computed_row(name, top, potential, raw), computed_row(name, other, potential, raw - 10)]
    rows += list(extra)
    return pd.DataFrame(rows)
