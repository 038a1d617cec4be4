"""`cells add` without training: validation (every rejection leaves the data byte-for-byte
unchanged), the atomic append, and the version history."""

from __future__ import annotations

import hashlib
import math

import pytest
from cells_helpers import COLUMNS, csv_text, new_row, write_cells
from typer.testing import CliRunner

from lithioscreen import config
from lithioscreen.cli import app
from lithioscreen.data import DataValidationError, load_cells
from lithioscreen.data.intake import add_cells, cells_template, validate_new_cells
from lithioscreen.data.versions import (
    HISTORY_FILE,
    HistoryError,
    current_version,
    data_version,
    read_history,
    reconstruct_versions,
    versioned_paths,
)

runner = CliRunner()


def _snapshot(data_dir):
    """Every file in the data folder, by name, as bytes (the lock file included if present)."""
    return {path.name: path.read_bytes() for path in sorted(data_dir.iterdir()) if path.is_file()}


# --------------------------------------------------------------------------- rejections


def _drop(column):
    return lambda path: write_cells(path, [new_row()], [c for c in COLUMNS if c != column])


def _rename(old, new):
    return lambda path: write_cells(
        path, [new_row() | {new: new_row()[old]}], [new if c == old else c for c in COLUMNS]
    )


def _rows(*rows):
    return lambda path: write_cells(path, list(rows))


def _raw(content: bytes):
    return lambda path: path.write_bytes(content)


LATIN1 = csv_text([new_row(notes="thickness 30 µm?")]).encode("latin-1")


def _shipped_row(cell_id: str) -> dict[str, str]:
    import csv

    with (config.PROJECT_ROOT / "data" / config.CELLS_FILE).open(encoding="utf-8") as handle:
        return next(row for row in csv.DictReader(handle) if row["cell_id"] == cell_id)


def _folder():
    return lambda path: path.mkdir()


def _many(count):
    # distinct temperatures: distinct cells, not replicates
    return lambda path: write_cells(
        path, [new_row(f"synthetic-{i}", temperature_c=f"{20 + i / 100:g}") for i in range(count)]
    )


REJECTIONS = {
    "unknown element": (_rows(new_row(overlayer="Qq")), 2, "overlayer", "unknown element 'Qq'"),
    "unparsable stack": (_rows(new_row(overlayer="Cr0.5W0.5)")), 2, "overlayer", "cannot parse"),
    "non-metal overlayer": (_rows(new_row(overlayer="O2")), 2, "overlayer", "not a metal"),
    "unknown underlayer": (_rows(new_row(underlayer="Xx")), 2, "underlayer", "'Xx'"),
    "underlayer none with thickness": (
        _rows(new_row(underlayer="none", underlayer_nm="200")),
        2,
        "underlayer_nm",
        "must be 0",
    ),
    "missing required column": (_drop("overlayer"), 1, "overlayer", "missing column"),
    "wrong unit in column name": (_rename("overlayer_nm", "overlayer_um"), 1, "'overlayer_um'", "unknown column"),
    "unit in the value": (_rows(new_row(overlayer_nm="30 nm")), 2, "overlayer_nm", "'30 nm' is not a number"),
    "text for a number": (_rows(new_row(ccd_lower_ma_cm2="high")), 2, "ccd_lower_ma_cm2", "'high' is not a number"),
    "negative thickness": (_rows(new_row(overlayer_nm="-30")), 2, "overlayer_nm", "below the minimum"),
    "negative ccd": (
        _rows(new_row(ccd_lower_ma_cm2="-1", ccd_upper_ma_cm2="-1")),
        2,
        "ccd_lower_ma_cm2",
        "below the minimum",
    ),
    "ccd above 100": (
        _rows(new_row(ccd_lower_ma_cm2="150", ccd_upper_ma_cm2="150")),
        2,
        "ccd_upper_ma_cm2",
        "above the maximum 100",
    ),
    "thickness above 100 um": (_rows(new_row(overlayer_nm="200000")), 2, "overlayer_nm", "above the maximum 100000"),
    "nan": (
        _rows(new_row(ccd_lower_ma_cm2="nan", ccd_upper_ma_cm2="NaN")),
        2,
        "ccd_lower_ma_cm2",
        "not a finite number",
    ),
    "infinite": (_rows(new_row(underlayer_nm="inf")), 2, "underlayer_nm", "not a finite number"),
    "empty required value": (_rows(new_row(ccd_censoring="")), 2, "ccd_censoring", "is empty (required)"),
    "unknown censoring": (_rows(new_row(ccd_censoring="approx")), 2, "ccd_censoring", "'approx' is not one of"),
    "exact ccd with two values": (_rows(new_row(ccd_upper_ma_cm2="5.5")), 2, "ccd_upper_ma_cm2", "exact CCD needs"),
    "bad doi": (_rows(new_row(doi="my notebook")), 2, "doi", "not a DOI"),
    "duplicate within the file": (
        _rows(new_row("synthetic-a"), new_row("synthetic-a")),
        3,
        "cell_id",
        "duplicate 'synthetic-a' (first on line 2)",
    ),
    "duplicate of an existing cell": (_rows(new_row("oh2024-w30-mg200")), 2, "cell_id", "already in"),
    "ragged row": (
        _raw((csv_text([new_row()]).rstrip("\n") + ",extra\n").encode()),
        2,
        "",
        "has 27 fields, the header has 26",
    ),
    "wrong encoding": (_raw(LATIN1), 2, "", "not UTF-8"),
    "empty file": (_raw(b""), 1, "", "file is empty"),
    "blank file": (_raw(b"\n  \n"), 1, "", "file is empty"),
    "header only": (_raw(csv_text([]).encode()), 2, "", "no data rows"),
    "not a csv (NUL bytes)": (_raw(b"cell_id\x00\x00\n"), 1, "", "NUL"),
    # issue 12: rows that contradict themselves, invisible ids, digits float() reads but no file means, resources
    "'> 5.0' stored as exact 6.0": (
        _rows(new_row(ccd_reported="> 5.0", ccd_censoring="exact", ccd_lower_ma_cm2="6.0", ccd_upper_ma_cm2="6.0")),
        2,
        "ccd_reported",
        "does not agree",
    ),
    "reported value is not the bounds": (_rows(new_row(ccd_reported="4.0")), 2, "ccd_reported", "does not agree"),
    "reported interval is not the bounds": (
        _rows(
            new_row(
                ccd_reported="between 3.2 and 4.8",
                ccd_censoring="interval",
                ccd_lower_ma_cm2="3.0",
                ccd_upper_ma_cm2="4.8",
            )
        ),
        2,
        "ccd_reported",
        "does not agree",
    ),
    "a CCD reported for a cell without one": (
        _rows(new_row(ccd_reported="5.0", ccd_censoring="not_measured", ccd_lower_ma_cm2="", ccd_upper_ma_cm2="")),
        2,
        "ccd_reported",
        "states a CCD",
    ),
    "free text for a measured CCD": (
        _rows(new_row(ccd_reported="very good")),
        2,
        "ccd_reported",
        "no CCD this schema can read",
    ),
    "zero-width character in the id": (_rows(new_row("synthetic\u200b-nb30")), 2, "cell_id", "U+200B"),
    "control character in the id": (_rows(new_row("synthetic\x1b[31m-nb30")), 2, "cell_id", "U+001B"),
    "bidi override in the doi": (_rows(new_row(doi="lab:\u202enotebook")), 2, "doi", "U+202E"),
    "fullwidth digits": (_rows(new_row(overlayer_nm="３０")), 2, "overlayer_nm", "'３０' is not a number"),
    "arabic-indic digits": (_rows(new_row(temperature_c="٢٥")), 2, "temperature_c", "is not a number"),
    "underscore in a number": (
        _rows(new_row(ccd_lower_ma_cm2="5_0", ccd_upper_ma_cm2="5_0")),
        2,
        "ccd_lower_ma_cm2",
        "'5_0' is not a number",
    ),
    "thickness below a monolayer": (_rows(new_row(overlayer_nm="0.01")), 2, "overlayer_nm", "below the minimum 0.1"),
    "underlayer below a monolayer": (_rows(new_row(underlayer_nm="0.01")), 2, "underlayer_nm", "at least 0.1 nm"),
    "the same cell twice in the file": (
        _rows(new_row("synthetic-a", temperature_c="25"), new_row("synthetic-b", temperature_c="25.0")),
        3,
        "",
        "same stack, CCD protocol and result as 'synthetic-a'",
    ),
    "a shipped cell entered again": (
        _rows(_shipped_row("oh2024-w30-mg200") | {"cell_id": "synthetic-w30-again", "notes": "re-entered"}),
        2,
        "",
        "same stack, CCD protocol and result as 'oh2024-w30-mg200'",
    ),
    "more rows than the cap": (_many(1001), 1002, "", "more than 1,000 new cells"),
    "a folder": (_folder(), 0, "", "is a folder"),
}


@pytest.mark.parametrize("case", sorted(REJECTIONS))
def test_rejection_names_line_and_column_and_writes_nothing(case, data_copy, tmp_path):
    make, line, column, fragment = REJECTIONS[case]
    new_file = tmp_path / "new_cells.csv"
    make(new_file)
    before = _snapshot(data_copy)
    with pytest.raises(DataValidationError) as error:
        add_cells(new_file, data_copy)
    problems = error.value.problems
    assert any(p.line == line and p.column == column and fragment in p.message for p in problems), str(error.value)
    assert all(p.file == str(new_file) for p in problems)
    assert _snapshot(data_copy) == before  # byte for byte, and no history or lock file appeared


@pytest.mark.parametrize(
    "case", ["unknown element", "nan", "wrong encoding", "empty file", "duplicate of an existing cell"]
)
def test_cli_rejection_exits_2_and_writes_nothing(case, data_copy, tmp_path):
    make, line, column, fragment = REJECTIONS[case]
    new_file = tmp_path / "new_cells.csv"
    make(new_file)
    before = _snapshot(data_copy)
    result = runner.invoke(app, ["cells", "add", str(new_file), "--data-dir", str(data_copy)])
    assert result.exit_code == 2
    assert "nothing was added" in result.stderr and f"line {line}" in result.stderr and fragment in result.stderr
    assert result.stdout == ""
    assert _snapshot(data_copy) == before


def test_a_fifo_is_refused_at_once_instead_of_blocking(data_copy, tmp_path):
    import os
    import threading

    fifo = tmp_path / "new_cells.csv"
    os.mkfifo(fifo)
    before = _snapshot(data_copy)
    raised = []

    def add():
        try:
            add_cells(fifo, data_copy)
        except DataValidationError as error:
            raised.append(str(error))

    worker = threading.Thread(target=add, daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():  # blocked in open(): give it an end of file, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(30)
        pytest.fail("cells add blocked on a FIFO")
    assert raised and "not a regular file" in raised[0]
    assert _snapshot(data_copy) == before


@pytest.mark.slow
def test_the_row_cap_is_raised_by_a_flag_and_replicates_are_accepted_on_request(data_copy, tmp_path):
    many = _many(1001)
    many(tmp_path / "many.csv")
    assert len(add_cells(tmp_path / "many.csv", data_copy, max_rows=1001).cell_ids) == 1001
    twice = write_cells(
        tmp_path / "twice.csv",
        [new_row("synthetic-r1", temperature_c="25"), new_row("synthetic-r2", temperature_c="25")],
    )
    result = runner.invoke(app, ["cells", "add", str(twice), "--no-train", "--data-dir", str(data_copy)])
    assert result.exit_code == 2 and "--allow-replicates" in result.stderr
    result = runner.invoke(
        app, ["cells", "add", str(twice), "--no-train", "--allow-replicates", "--data-dir", str(data_copy)]
    )
    assert result.exit_code == 0, result.output
    again = write_cells(tmp_path / "again.csv", [new_row("synthetic-r3", temperature_c="25")])
    assert (
        runner.invoke(app, ["cells", "add", str(again), "--no-train", "--data-dir", str(data_copy)]).exit_code == 2
    )  # vs the data now
    result = runner.invoke(
        app,
        ["cells", "add", str(tmp_path / "many.csv"), "--no-train", "--max-rows", "10", "--data-dir", str(data_copy)],
    )
    assert result.exit_code == 2 and "more than 10 new cells" in result.stderr and "--max-rows" in result.stderr


def test_every_bad_row_and_column_is_listed(data_copy, tmp_path):
    rows = [
        new_row("synthetic-ok"),
        new_row("synthetic-bad1", overlayer="Qq", ccd_lower_ma_cm2="nan"),
        new_row("synthetic-ok2"),
        new_row("synthetic-bad2", overlayer_nm="200000", ccd_upper_ma_cm2="150"),
        new_row("oh2024-mg200"),
    ]
    new_file = write_cells(tmp_path / "new.csv", rows)
    before = _snapshot(data_copy)
    with pytest.raises(DataValidationError) as error:
        add_cells(new_file, data_copy)
    found = {(p.line, p.column) for p in error.value.problems}
    assert {
        (3, "overlayer"),
        (3, "ccd_lower_ma_cm2"),
        (5, "overlayer_nm"),
        (5, "ccd_upper_ma_cm2"),
        (6, "cell_id"),
    } <= found
    assert not any(line in {2, 4} for line, _ in found)  # the good rows are not blamed
    assert _snapshot(data_copy) == before


def test_line_numbers_count_quoted_newlines(data_copy, tmp_path):
    rows = [
        new_row("synthetic-multi", notes="line one\nline two\nline three"),
        new_row("synthetic-bad", overlayer="Qq"),
    ]
    new_file = write_cells(tmp_path / "new.csv", rows)
    with pytest.raises(DataValidationError) as error:
        validate_new_cells(new_file, load_cells(data_copy / config.CELLS_FILE))
    assert [(p.line, p.column) for p in error.value.problems] == [(5, "overlayer")]


def test_missing_file_and_broken_existing_data(data_copy, tmp_path):
    with pytest.raises(DataValidationError, match="file not found"):
        add_cells(tmp_path / "nope.csv", data_copy)
    cells = data_copy / config.CELLS_FILE
    cells.write_text(cells.read_text().replace("oh2024-cr30-mg200,Cr,30,", "oh2024-cr30-mg200,Cr,-30,", 1))
    before = _snapshot(data_copy)
    with pytest.raises(DataValidationError, match="cells.csv: line 4"):
        add_cells(write_cells(tmp_path / "new.csv", [new_row()]), data_copy)
    assert _snapshot(data_copy) == before


# --------------------------------------------------------------------------- appending and history


def test_template_is_the_schema_and_its_example_validates(data_copy, tmp_path):
    header = cells_template().strip()
    assert header.split(",") == COLUMNS
    assert (data_copy / config.CELLS_FILE).read_text().splitlines()[0] == header
    example = tmp_path / "example.csv"
    example.write_text(cells_template(example=True))
    validated = validate_new_cells(example, load_cells(data_copy / config.CELLS_FILE))
    assert validated.cell_ids == ["lab-2026-w48-nb30-mg200-01"]


def test_add_appends_rows_and_records_versions(data_copy, tmp_path):
    original = (data_copy / config.CELLS_FILE).read_bytes()
    first = add_cells(
        write_cells(tmp_path / "a.csv", [new_row("synthetic-a"), new_row("synthetic-b", overlayer="Ta")]), data_copy
    )
    second = add_cells(
        write_cells(
            tmp_path / "b.csv",
            [
                new_row(
                    "synthetic-c",
                    overlayer="Cr0.5W0.5",
                    ccd_censoring="lower_bound",
                    ccd_reported="> 5.5",
                    ccd_lower_ma_cm2="5.5",
                    ccd_upper_ma_cm2="",
                )
            ],
        ),
        data_copy,
    )

    content = (data_copy / config.CELLS_FILE).read_bytes()
    assert content.startswith(original)  # appended, the old rows untouched
    cells = load_cells(data_copy / config.CELLS_FILE).set_index("cell_id")
    assert len(cells) == 11
    assert cells.loc["synthetic-b", "overlayer"] == "Ta" and cells.loc["synthetic-a", "ccd_lower_ma_cm2"] == 5.0
    assert cells.loc["synthetic-c", "ccd_censoring"] == "lower_bound" and math.isnan(
        cells.loc["synthetic-c", "ccd_upper_ma_cm2"]
    )

    history = read_history(data_copy)
    assert [(e.seq, e.kind, e.n_rows) for e in history] == [(1, "snapshot", 8), (2, "append", 10), (3, "append", 11)]
    assert history[1].cell_ids_added == ["synthetic-a", "synthetic-b"] and history[2].cell_ids_added == ["synthetic-c"]
    assert first.version == history[1] and second.previous == history[1]
    assert history[2].parent_data_version == history[1].data_version
    # the hash MLflow records (training.data_version) is the history's data version
    from lithioscreen.tracking.training import data_version as training_data_version

    assert (
        history[-1].data_version
        == data_version(versioned_paths(data_copy))
        == training_data_version(versioned_paths(data_copy))
    )
    assert current_version(data_copy)["in_history"] and current_version(data_copy)["history_seq"] == 3


def test_every_version_is_reconstructed_with_its_hash(data_copy, tmp_path):
    contents = [(data_copy / config.CELLS_FILE).read_bytes()]
    for index in range(3):
        add_cells(write_cells(tmp_path / f"{index}.csv", [new_row(f"synthetic-{index}")]), data_copy)
        contents.append((data_copy / config.CELLS_FILE).read_bytes())
    versions = list(reconstruct_versions(data_copy))
    assert [v.content for v in versions] == contents
    assert [v.sha256 for v in versions] == [hashlib.sha256(c).hexdigest() for c in contents]
    assert [v.entry.cells_sha256 for v in versions] == [v.sha256 for v in versions]


def test_tampered_history_is_detected(data_copy, tmp_path):
    add_cells(write_cells(tmp_path / "a.csv", [new_row("synthetic-a")]), data_copy)
    log = data_copy / HISTORY_FILE
    log.write_text(log.read_text().replace("synthetic-a", "synthetic-z"))
    with pytest.raises(HistoryError, match="version 2"):
        list(reconstruct_versions(data_copy))


def test_edit_outside_cells_add_is_recorded_as_a_snapshot(data_copy, tmp_path):
    add_cells(write_cells(tmp_path / "a.csv", [new_row("synthetic-a")]), data_copy)
    cells = data_copy / config.CELLS_FILE
    cells.write_text(cells.read_text().replace("SYNTHETIC TEST ROW: not a measurement", "edited by hand"))
    assert not current_version(data_copy)["in_history"]
    result = add_cells(write_cells(tmp_path / "b.csv", [new_row("synthetic-b")]), data_copy)
    assert [e.kind for e in read_history(data_copy)] == ["snapshot", "append", "snapshot", "append"]
    assert "outside" in result.snapshots_recorded[0].source
    assert len(list(reconstruct_versions(data_copy))) == 4


def test_crlf_file_and_missing_final_newline_are_kept_consistent(data_copy, tmp_path):
    cells = data_copy / config.CELLS_FILE
    cells.write_bytes(cells.read_bytes().replace(b"\n", b"\r\n").rstrip(b"\r\n"))
    add_cells(write_cells(tmp_path / "a.csv", [new_row("synthetic-a")]), data_copy)
    content = cells.read_bytes()
    assert content.endswith(b"not a measurement\r\n") and b"\r\n\r\n" not in content
    assert len(load_cells(cells)) == 9
    assert list(reconstruct_versions(data_copy))[-1].content == content


def test_cli_add_no_train_list_and_history(data_copy, tmp_path):
    new_file = write_cells(tmp_path / "new.csv", [new_row("synthetic-cli")])
    result = runner.invoke(
        app, ["cells", "add", str(new_file), "--no-train", "--data-dir", str(data_copy), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    import json

    report = json.loads(result.stdout)
    assert report["added"] == ["synthetic-cli"] and report["trained"] is False and report["version"] == 2
    listed = runner.invoke(app, ["cells", "list", "--data-dir", str(data_copy), "--format", "json"])
    assert "synthetic-cli" in {row["cell_id"] for row in json.loads(listed.stdout)}
    history = runner.invoke(app, ["cells", "history", "--verify", "--data-dir", str(data_copy), "--format", "json"])
    assert history.exit_code == 0, history.output
    versions = json.loads(history.stdout)
    assert [v["version"] for v in versions] == [1, 2] and all(v["verified"] for v in versions)
    assert versions[1]["data_version"] == report["data_version"] and versions[1]["cell_ids_added"] == ["synthetic-cli"]
    table = runner.invoke(app, ["cells", "history", "--data-dir", str(data_copy)])
    assert table.exit_code == 0 and "synthetic-cli" in table.stdout and "current: version 2" in table.stderr
    template = runner.invoke(app, ["cells", "template"])
    assert template.stdout.strip().split(",") == COLUMNS


def test_cli_add_says_so_when_retraining_fails_after_the_data_landed(data_copy, tmp_path, monkeypatch):
    from lithioscreen.tracking import promotion

    def broken(*args, **kwargs):
        raise RuntimeError("tracking store unreachable")

    monkeypatch.setattr(promotion, "retrain_and_promote", broken)
    new_file = write_cells(tmp_path / "new.csv", [new_row("synthetic-landed")])
    result = runner.invoke(
        app, ["cells", "add", str(new_file), "--data-dir", str(data_copy), "--models-dir", str(tmp_path / "models")]
    )
    assert result.exit_code == 1
    assert "the cells were added (version 2" in result.stderr and "tracking store unreachable" in result.stderr
    assert "synthetic-landed" in set(load_cells(data_copy / config.CELLS_FILE)["cell_id"])
    assert not (tmp_path / "models").exists()
