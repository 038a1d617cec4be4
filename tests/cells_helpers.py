"""Helpers for the tests of `cells add`: new-cell CSV files built from the schema's columns.

Every row made here is a SYNTHETIC TEST ROW (cell ids start with ``synthetic-``, doi ``lab:synthetic-test``);
they are only ever written to temporary copies of data/.
"""

from __future__ import annotations

import csv
import io
import zlib
from pathlib import Path

from lithioscreen.data.loaders import CELLS_SCHEMA

COLUMNS = CELLS_SCHEMA.column_names


def new_row(cell_id: str = "synthetic-nb30-mg200", **values: str) -> dict[str, str]:
    """A valid new cell (Nb 30 nm on Mg 200 nm, exact CCD 5.0), with ``values`` overriding columns.

    The temperature (25-35 °C) follows from the id, so that rows with different ids are different
    cells: `cells add` refuses a row with another cell's stack, protocol and result (a replicate).
    """
    row = {
        "cell_id": cell_id,
        "overlayer": "Nb",
        "overlayer_nm": "30",
        "underlayer": "Mg",
        "underlayer_nm": "200",
        "current_collector": "SUS",
        "solid_electrolyte": "Li6PS5Cl",
        "counter_electrode": "Li",
        "temperature_c": f"{25 + zlib.crc32(cell_id.encode()) % 10_000 / 1000:g}",
        "stack_pressure_mpa": "",
        "ccd_start_ma_cm2": "1.0",
        "ccd_step_ma_cm2": "0.1",
        "ccd_stripping_ma_cm2": "1.0",
        "ccd_capacity_mah_cm2": "1.0",
        "ccd_reported": "5.0",
        "ccd_censoring": "exact",
        "ccd_lower_ma_cm2": "5.0",
        "ccd_upper_ma_cm2": "5.0",
        "ccd_source_figure": "synthetic test row",
        "ccd_value_origin": "measured_here",
        "failure_mode": "",
        "first_cycle_ce_pct": "",
        "ce_source_figure": "",
        "ce_value_origin": "",
        "doi": "lab:synthetic-test",
        "notes": "SYNTHETIC TEST ROW: not a measurement",
    }
    row.update(values)
    return row


def csv_text(rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    columns = columns or COLUMNS
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue()


def write_cells(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    path.write_text(csv_text(rows, columns), encoding="utf-8")
    return path
