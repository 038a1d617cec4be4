import json

import pytest
from typer.testing import CliRunner

from lithioscreen.cli import app

runner = CliRunner()


@pytest.mark.slow
def test_rank_json_has_the_documented_fields(champion, trained):
    result = runner.invoke(
        app, ["rank", "W", "Nb", "Ti", "--format", "json", "--models-dir", str(trained["models_dir"])]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["rank"] for row in rows] == [1, 2, 3]
    required = {
        "candidate",
        "predicted_ccd_ma_cm2",
        "predicted_ccd_std",
        "interfacial_energy_mev_per_a2",
        "interfacial_energy_source",
        "above_threshold",
        "li_compounds",
        "rank",
        "in_training_domain",
        "feasible",
        "infeasible_reason",
        "measured_ccd_reported",
    }
    assert required <= set(rows[0])
    by_name = {row["candidate"]: row for row in rows}
    ti = by_name["Ti"]
    assert ti["interfacial_energy_source"] == "mlip:committee+calibrated" and ti["above_threshold"] is False
    assert (
        ti["interfacial_energy_dft_mev_per_a2"] == 66.799 and by_name["Nb"]["interfacial_energy_dft_mev_per_a2"] is None
    )
    assert by_name["Ti"]["measured_ccd_reported"] == "> 3.2" and by_name["Nb"]["measured_ccd_reported"] is None
    assert all(row["feasible"] is True and row["infeasible_reason"] is None for row in rows)


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, named",
    [
        (["W", "--overlayer-nm", "200"], "200 nm"),
        (["W", "--underlayer", "none"], "lithiophilic"),
        (["Ag"], "Li-Ag forms compounds"),
        (["Zn"], "Li-Zn"),
        (["Al"], "Li-Al"),
        (["Cr0.5Sr0.5"], "Li-Sr"),
    ],
)
def test_rank_json_says_which_stacks_cannot_work_and_why(trained, args, named):
    result = runner.invoke(app, ["rank", *args, "--format", "json", "--models-dir", str(trained["models_dir"])])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)[0]
    assert row["feasible"] is False and named in row["infeasible_reason"]
    assert (
        row["predicted_ccd_ma_cm2"] is None and row["predicted_ccd_std"] is None and row["in_training_domain"] is False
    )


@pytest.mark.slow
def test_rank_mg_on_mg_and_an_alloy_between_its_end_members(trained):
    result = runner.invoke(
        app, ["rank", "Mg", "Cr", "W", "Cr0.5W0.5", "--format", "json", "--models-dir", str(trained["models_dir"])]
    )
    rows = {row["candidate"]: row for row in json.loads(result.stdout)}
    mg = rows["Mg"]
    assert abs(mg["predicted_ccd_ma_cm2"] - 1.3) <= mg["predicted_ccd_std"] and "not a bilayer" in mg["prediction_note"]
    low, high = sorted([rows["Cr"]["interfacial_energy_mev_per_a2"], rows["W"]["interfacial_energy_mev_per_a2"]])
    assert low <= rows["Cr0.5W0.5"]["interfacial_energy_mev_per_a2"] <= high


@pytest.mark.slow
def test_rank_table_prints_limits(trained):
    result = runner.invoke(app, ["rank", "--top", "5", "--models-dir", str(trained["models_dir"])])
    assert result.exit_code == 0, result.output
    assert "measured bilayer cells" in result.stderr
    assert (
        result.stdout.count("on Mg 200 nm") == 5
        and "Feasibility:" in result.stderr
        and "Training domain" in result.stderr
    )


@pytest.mark.slow
def test_rank_csv_and_candidates_file(trained, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("candidate,overlayer_nm,underlayer,underlayer_nm\nW,30,Mg,200\nMg,200,none,0\n")
    result = runner.invoke(
        app, ["rank", "--candidates", str(path), "--format", "csv", "--models-dir", str(trained["models_dir"])]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("rank,candidate") and len(lines) == 3
    assert lines[1].split(",")[1] == "W"


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["rank", "Xx"], "Xx"),
        (["rank", "W2Qq"], "Qq"),
        (["rank", "W", "--overlayer-nm", "-5"], "negative"),
        (["features", "Unobtainium"], "Unobtainium"),
        (["features", "W", "--underlayer-nm", "-1"], "negative"),
    ],
)
def test_bad_input_exits_2_naming_the_value(args, fragment):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert result.stdout == ""


def test_features_json():
    result = runner.invoke(app, ["features", "W", "Mo", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    mo = rows[1]
    assert (
        mo["interfacial_energy_dft_mev_per_a2"] == 81.742
        and mo["interfacial_energy_source"] == "mlip:committee+calibrated"
    )
    assert "magpie_mean_atomicweight" in rows[0]


@pytest.mark.slow
def test_train_then_rank_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default store, sqlite:///mlflow.db, lands here
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # mlflow.set_tracking_uri exports it
    models = tmp_path / "models"
    result = runner.invoke(app, ["train", "--models-dir", str(models), "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # stdout carries only the JSON summary
    assert summary["registered_version"] and summary["champion"] in summary["metrics"]
    assert (tmp_path / "mlflow.db").exists()  # MLflow's default store, in the working directory
    ranked = runner.invoke(app, ["rank", "--format", "json", "--models-dir", str(models)])
    rows = {row["candidate"]: row for row in json.loads(ranked.stdout)}
    assert rows["W"]["rank"] < rows["Ti"]["rank"]


def test_malformed_data_file_exits_2_naming_file_line_and_column(data_copy):
    path = data_copy / "li_binary_phase_data.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace(lines[2].split(",")[0], "Qq", 1)
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["rank"])
    assert result.exit_code == 2
    assert "li_binary_phase_data.csv" in result.stderr and "line 3" in result.stderr and "'element'" in result.stderr


def test_malformed_cells_stop_training(data_copy, tmp_path):
    path = data_copy / "cells.csv"
    path.write_text(path.read_text().replace("oh2024-cr30-mg200,Cr,30,", "oh2024-cr30-mg200,Cr,-30,", 1))
    result = runner.invoke(
        app, ["train", "--models-dir", str(tmp_path / "models"), "--tracking-uri", f"sqlite:///{tmp_path / 'db'}"]
    )
    assert result.exit_code == 2
    assert "cells.csv: line 4" in result.stderr and "overlayer_nm" in result.stderr
    assert not (tmp_path / "models").exists()


@pytest.mark.slow
def test_executable_runs_main_with_start_up_gc_settings():
    """The installed `lithioscreen` runs cli.main (fewer GC passes, frozen at exit), and exit codes survive it."""
    import importlib.metadata
    import subprocess
    import sys
    from pathlib import Path

    from lithioscreen import cli

    (script,) = [
        entry for entry in importlib.metadata.entry_points(group="console_scripts") if entry.name == "lithioscreen"
    ]
    assert script.value == "lithioscreen.cli:main"
    probe = (
        "import gc, sys; from lithioscreen import cli\n"
        "sys.argv = ['lithioscreen', *sys.argv[1:]]\n"
        "try:\n    cli.main()\n"
        "except SystemExit as exit:\n"
        "    sys.stderr.write(f'\\nthreshold={gc.get_threshold()[0]} frozen={gc.get_freeze_count()} code={exit.code}')\n"
    )
    for args, code in ((["rank", "W", "--format", "json"], 0), (["rank", "--no-such-option"], 2)):
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120)
        tail = done.stderr.strip().splitlines()[-1]
        assert f"threshold={cli.GC_GENERATION0_THRESHOLD}" in tail and f"code={code}" in tail, done.stderr
        assert int(tail.split("frozen=")[1].split()[0]) > 10_000  # what was alive at exit is frozen
    executable = Path(sys.executable).parent / "lithioscreen"
    done = subprocess.run([str(executable), "rank", "--no-such-option"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "no-such-option" in done.stderr


# --------------------------------------------------------------------------- issue 12: hostile input


@pytest.mark.parametrize(
    "args, named",
    [
        (["rank", "[/]"], "'[/]'"),  # was a MarkupError traceback, exit 1
        (["rank", "[red]W"], "'[red]W'"),  # was reported as 'W'
        (["rank", "W", "[bold]"], "'[bold]'"),
        (["features", "[/]W"], "'[/]W'"),
        (["rank", "W", "--underlayer", "[/]"], "'[/]'"),
    ],
)
def test_rich_markup_in_a_value_is_printed_literally(args, named):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert named in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["rank", "W", "--threshold", "nan"], "not a finite number"),
        (["rank", "W", "--threshold", "-1e9"], "outside -1000 to 1000"),
        (["rank", "W", "--threshold", "inf"], "not a finite number"),
        (["report", "--threshold", "nan"], "not a finite number"),
        (["train", "--threshold", "-inf"], "not a finite number"),
        (["rank", "W", "--overlayer-nm", "1e-300"], "below 0.1 nm"),  # gave 268 ± 298 mA/cm², exit 0
        (["rank", "W", "--underlayer-nm", "1e-300"], "below 0.1 nm"),
        (["rank", "W1e308Cr1e308"], "do not normalise"),  # overflowed into a prediction of 4.36
        (["features", "W", "--overlayer-nm", "2e5"], "100 µm"),
    ],
)
def test_meaningless_numbers_exit_2(args, fragment):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and result.stdout == ""


def test_candidates_path_that_is_a_folder_is_a_one_line_error(tmp_path):
    result = runner.invoke(app, ["rank", "--candidates", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.strip() == f"error: {tmp_path}: is a folder, not a file"


def test_csv_output_neutralises_spreadsheet_formulas_in_text_cells_only():
    import contextlib
    import io

    import pandas as pd

    from lithioscreen.cli.common import OutputFormat, print_frame

    frame = pd.DataFrame(
        {
            "text": ['=HYPERLINK("http://x")', "+1", "-x", "@SUM(A1)", "\tcmd", "W", "a=b"],
            "number": [-8.1, 1.0, -70.5, 0.0, 2.0, 3.0, 4.0],
            "list": [["=cmd"], [], ["W"], [], [], [], []],
        }
    )
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        print_frame(frame, OutputFormat.csv, title="")
    rows = list(pd.read_csv(io.StringIO(buffer.getvalue()), dtype=str, keep_default_na=False).itertuples(index=False))
    assert [row.text for row in rows] == ['\'=HYPERLINK("http://x")', "'+1", "'-x", "'@SUM(A1)", "'\tcmd", "W", "a=b"]
    assert [row.number for row in rows][:3] == ["-8.1", "1.0", "-70.5"]  # numbers stay numbers
    assert rows[0].list == "'=cmd"


def test_tables_show_markup_in_cells_and_titles_literally():
    import contextlib
    import io

    import pandas as pd

    from lithioscreen.cli import common

    frame = pd.DataFrame({"[/]col": ["[/]", "[red]W[/red]", "[link=x]y"]})
    buffer = io.StringIO()
    console = common.stdout
    with contextlib.redirect_stdout(buffer):
        common.stdout = type(console)(file=buffer, width=200)
        try:
            common.print_frame(frame, common.OutputFormat.table, title="[/] title")
        finally:
            common.stdout = console
    text = buffer.getvalue()
    assert "[/]col" in text and "[red]W[/red]" in text and "[link=x]y" in text and "[/] title" in text


def test_train_with_an_unsupported_tracking_uri_exits_2(tmp_path):
    result = runner.invoke(app, ["train", "--tracking-uri", "foo://bar", "--models-dir", str(tmp_path / "models")])
    assert result.exit_code == 2, result.output
    assert "foo://bar" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "models").exists()


def test_train_against_an_unreachable_tracking_server_fails_within_the_timeout(tmp_path):
    """`train --tracking-uri http://127.0.0.1:9` hung past 90 s; the probe answers within PROBE_TIMEOUT_S."""
    import time

    from lithioscreen.tracking.stores import PROBE_TIMEOUT_S

    start = time.monotonic()
    result = runner.invoke(
        app, ["train", "--tracking-uri", "http://127.0.0.1:9", "--models-dir", str(tmp_path / "models")]
    )
    assert result.exit_code == 2, result.output
    assert "http://127.0.0.1:9" in result.stderr and "did not answer" in result.stderr
    assert time.monotonic() - start < PROBE_TIMEOUT_S + 30  # data loading included, on a loaded machine
    assert not (tmp_path / "models").exists()


def test_library_parameter_names_are_shown_as_the_cli_flags():
    from lithioscreen.cli.common import as_flags

    assert as_flags("raise the cap (`max_candidates`)") == "raise the cap (--max-candidates)"
    assert as_flags("drop `max_area_a2`, `supercell_rank`") == "drop --max-area, --supercell"
    assert as_flags("run `lithioscreen init DIR` first") == "run `lithioscreen init DIR` first"  # not a parameter
