"""Property-based tests of the new-cells validator (hypothesis)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from cells_helpers import COLUMNS, csv_text, new_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lithioscreen import config
from lithioscreen.data import DataValidationError, load_cells
from lithioscreen.data.intake import add_cells, validate_new_cells
from lithioscreen.data.versions import read_history, reconstruct_versions

REPO_DATA = config.PROJECT_ROOT / "data"
METALS = ["Nb", "Ta", "V", "Hf", "Fe", "Co", "Ni", "Cu", "Ag", "Au", "Pt", "Cr0.5W0.5", "Mo0.25Nb0.75", "W"]
ID_CHARS = st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="-_.")
thickness = st.floats(min_value=0.1, max_value=100_000, allow_nan=False).map(lambda x: f"{x:.6g}")
ccd = st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda x: round(x, 3))
free_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@st.composite
def censoring(draw):
    kind = draw(st.sampled_from(["exact", "lower_bound", "interval", "not_measured"]))
    if kind == "exact":
        value = draw(ccd)
        return {
            "ccd_censoring": kind,
            "ccd_lower_ma_cm2": f"{value:g}",
            "ccd_upper_ma_cm2": f"{value:g}",
            "ccd_reported": f"{value:g}",
        }
    if kind == "lower_bound":
        value = draw(ccd)
        return {
            "ccd_censoring": kind,
            "ccd_lower_ma_cm2": f"{value:g}",
            "ccd_upper_ma_cm2": "",
            "ccd_reported": f"> {value:g}",
        }
    if kind == "interval":
        low, high = sorted(draw(st.lists(ccd, min_size=2, max_size=2, unique=True)))
        return {
            "ccd_censoring": kind,
            "ccd_lower_ma_cm2": f"{low:g}",
            "ccd_upper_ma_cm2": f"{high:g}",
            "ccd_reported": f"{low:g}-{high:g}",
        }
    return {
        "ccd_censoring": kind,
        "ccd_lower_ma_cm2": "",
        "ccd_upper_ma_cm2": "",
        "ccd_reported": "not reported",
        "ccd_source_figure": "",
    }


@st.composite
def valid_rows(draw, max_rows: int = 4):
    ids = draw(
        st.lists(
            st.text(ID_CHARS, min_size=1, max_size=12).map(lambda s: f"synthetic-{s}"),
            min_size=1,
            max_size=max_rows,
            unique=True,
        )
    )
    rows = []
    for cell_id in ids:
        no_underlayer = draw(st.booleans())
        row = new_row(
            cell_id,
            overlayer=draw(st.sampled_from(METALS)),
            overlayer_nm=draw(thickness),
            underlayer="none" if no_underlayer else "Mg",
            underlayer_nm="0" if no_underlayer else draw(thickness),
            notes=draw(free_text),
        )
        row.update(draw(censoring()))
        rows.append(row)
    return rows


#: Per column, values that must be rejected in that column.
BAD_VALUES = {
    "overlayer": ["Qq", "Xx2", "O2", "Li", "W(", "", "NaN"],
    "overlayer_nm": ["-1", "0", "1e6", "nan", "inf", "thirty", "30nm", ""],
    "underlayer_nm": ["-5", "2e5", "nan", "x"],
    "underlayer": ["Qq", "H", ""],
    "solid_electrolyte": ["", "Qq3PS4"],
    "temperature_c": ["-100", "500", "warm", "nan"],
    "ccd_lower_ma_cm2": ["-0.1", "101", "nan", "-inf", "five"],
    "ccd_censoring": ["", "approx", "EXACT"],
    "ccd_value_origin": ["", "guess"],
    "first_cycle_ce_pct": ["101", "-1", "nan"],
    "doi": ["", "doi.org/x", "lab:"],
    "cell_id": [""],
}


class _Scratch:
    """A fresh copy of data/ per example (hypothesis runs many examples in one test call)."""

    def __enter__(self) -> Path:
        self.root = Path(tempfile.mkdtemp(prefix="lithioscreen-prop-"))
        shutil.copytree(REPO_DATA, self.root / "data")
        return self.root

    def __exit__(self, *exc):
        shutil.rmtree(self.root, ignore_errors=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_rows())
def test_valid_rows_are_accepted_and_round_trip(rows):
    with _Scratch() as root:
        data = root / "data"
        new_file = root / "new.csv"
        new_file.write_text(csv_text(rows), encoding="utf-8")
        result = add_cells(new_file, data)
        assert result.cell_ids == [row["cell_id"] for row in rows]
        cells = load_cells(data / config.CELLS_FILE).set_index("cell_id")
        for row in rows:
            stored = cells.loc[row["cell_id"]]
            assert stored["overlayer"] == row["overlayer"] and stored["notes"] == row["notes"].strip()
            assert np.isclose(stored["overlayer_nm"], float(row["overlayer_nm"]))
            lower = float(row["ccd_lower_ma_cm2"]) if row["ccd_lower_ma_cm2"] else np.nan
            assert np.isclose(stored["ccd_lower_ma_cm2"], lower, equal_nan=True)
        assert [v.sha256 for v in reconstruct_versions(data)] == [e.cells_sha256 for e in read_history(data)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_rows(), st.data())
def test_one_bad_value_is_reported_at_its_line_and_column_and_nothing_is_written(rows, data):
    column = data.draw(st.sampled_from(sorted(BAD_VALUES)))
    value = data.draw(st.sampled_from(BAD_VALUES[column]))
    target = data.draw(st.integers(0, len(rows) - 1))
    rows[target][column] = value
    with _Scratch() as root:
        cells_file = root / "data" / config.CELLS_FILE
        before = cells_file.read_bytes()
        new_file = root / "new.csv"
        new_file.write_text(csv_text(rows), encoding="utf-8")
        try:
            add_cells(new_file, root / "data")
        except DataValidationError as error:
            assert (target + 2, column) in {(p.line, p.column) for p in error.problems}, str(error)
        else:
            raise AssertionError(f"{column}={value!r} on line {target + 2} was accepted")
        assert cells_file.read_bytes() == before
        assert not (root / "data" / "cells_history.jsonl").exists()


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)))
def test_arbitrary_bytes_never_crash_the_validator(content):
    with _Scratch() as root:
        new_file = root / "new.csv"
        new_file.write_bytes(content)
        try:
            validate_new_cells(new_file, load_cells(root / "data" / config.CELLS_FILE))
        except DataValidationError as error:
            assert error.problems and all(p.file == str(new_file) for p in error.problems)
        else:  # only a file with the full header and valid rows could pass
            header = content.decode("utf-8-sig").splitlines()[0].split(",")
            assert [c for c in header if c != "failure_mode"] == [c for c in COLUMNS if c != "failure_mode"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(COLUMNS), unique=True, min_size=1).flatmap(lambda cols: st.permutations(cols)))
def test_column_order_does_not_matter_but_every_column_is_required(columns):
    from lithioscreen.data.intake import OPTIONAL_INTAKE_COLUMNS

    with _Scratch() as root:
        new_file = root / "new.csv"
        new_file.write_text(csv_text([new_row()], list(columns)), encoding="utf-8")
        missing = set(COLUMNS) - set(columns) - OPTIONAL_INTAKE_COLUMNS
        try:
            validated = validate_new_cells(new_file)
        except DataValidationError as error:
            assert missing
            reported = next(p for p in error.problems if p.message == "missing column(s)")
            assert set(reported.column.split(", ")) == missing
        else:
            assert not missing and validated.cell_ids == ["synthetic-nb30-mg200"]
