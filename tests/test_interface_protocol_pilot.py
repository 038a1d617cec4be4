"""benchmarks/interface_protocol_pilot.py: one potential's calibration under one protocol (synthetic table)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import load_benchmark
from interface_helpers import DFT, committee_table, computed_row

from lithioscreen.interface.protocol import InterfaceSettings


@pytest.fixture(scope="module")
def pilot():
    return load_benchmark("interface_protocol_pilot")


def test_each_protocol_is_calibrated_on_its_own_rows_of_one_potential(pilot):
    v3 = InterfaceSettings(version="v3").protocol()
    # v2: chgnet exactly 0.8 x DFT, sevennet off; v3: chgnet exactly 0.5 x DFT on the references only
    table = committee_table({"chgnet": (0.0, 1.25), "sevennet": (0.0, 0.5)})
    table = pd.concat(
        [
            table,
            pd.DataFrame(
                [computed_row(name, "110", "chgnet", 0.5 * value, protocol=v3) for name, value in DFT.items()]
            ),
            pd.DataFrame([computed_row("Cr", "110", "chgnet", 999.0, protocol=v3)]),  # not a pilot material
        ],
        ignore_index=True,
    )
    materials = sorted(DFT)
    for protocol, raw_factor in ((InterfaceSettings().protocol(), 0.8), (v3, 0.5)):
        result = pilot.calibration_of(table, protocol, "chgnet", materials)
        assert {r["name"] for r in result["references"]} == set(DFT)
        for ref in result["references"]:
            assert ref["raw"] == pytest.approx(raw_factor * DFT[ref["name"]])  # chgnet's own, of that protocol
            assert ref["calibrated_loo"] == pytest.approx(ref["dft"])  # an exact proportional map
        assert result["loo_rms_mev_per_a2"] == pytest.approx(0.0, abs=1e-9)
        chain = next(c for c in result["order_checks"] if c["statement"].startswith("Cr > Mo"))
        assert "Cr missing" in chain["detail"] and chain["holds"] is None  # Cr is not a pilot material
    assert "error" in pilot.calibration_of(table, v3, "sevennet", materials)  # no sevennet rows under v3
