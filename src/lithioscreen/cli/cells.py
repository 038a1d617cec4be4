"""`lithioscreen cells`: add newly tested cells (then retrain), list them, show the data versions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from lithioscreen import config
from lithioscreen.cli.common import (
    DataDir,
    Experiment,
    Format,
    ModelsDir,
    OutputFormat,
    TrackingUri,
    app,
    fail,
    json_ready,
    print_frame,
    say,
    stderr,
    stdout,
)

cells_app = typer.Typer(
    help="The tested cells: add new results (validated, appended atomically, versioned; then retrain), list, history, template.",
    no_args_is_help=True,
)
app.add_typer(cells_app, name="cells")


@cells_app.command()
def template(
    example: Annotated[
        bool, typer.Option("--example", help="Add one filled-in example row (replace every value).")
    ] = False,
) -> None:
    """Print the CSV header of cells.csv: fill in one row per tested cell, then `cells add FILE`."""
    from lithioscreen.data.intake import cells_template

    sys.stdout.write(cells_template(example=example))
    stderr.print(
        "[dim]One row per cell. ccd_censoring: exact (lower = upper), lower_bound ('> x': lower only), interval (lower < upper), "
        "not_measured (no CCD). Units are in the column names (nm, mA/cm², °C, MPa, %). Lab cells: ccd_value_origin = measured_here, "
        "doi = lab:<notebook/cell reference>.[/]",
        highlight=False,
    )


@cells_app.command()
def add(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV of new cells, same columns as data/cells.csv (see `cells template`).", show_default=False
        ),
    ],
    train: Annotated[
        bool,
        typer.Option(
            "--train/--no-train",
            help="Retrain every model after adding, and promote the best if it beats the champion.",
        ),
    ] = True,
    data_dir: DataDir = None,
    tracking_uri: TrackingUri = None,
    experiment: Experiment = config.EXPERIMENT_NAME,
    models_dir: ModelsDir = None,
    max_rows: Annotated[
        int, typer.Option("--max-rows", min=1, help="Refuse files with more new cells than this.")
    ] = config.MAX_NEW_CELLS,
    allow_replicates: Annotated[
        bool,
        typer.Option(
            "--allow-replicates",
            help="Accept a row with the same stack, CCD protocol and result as another cell (a deliberate replicate).",
        ),
    ] = False,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or json (json: one object on stdout).")
    ] = OutputFormat.table,
) -> None:
    """Validate FILE, append its cells to cells.csv atomically (with a versioned history), then retrain."""
    import dataclasses

    from lithioscreen.data import DataValidationError
    from lithioscreen.data.intake import add_cells

    if output is OutputFormat.csv:
        fail("cells add prints a table or json, not csv")
    if train:  # a tracking store that cannot be used is found before the cells are added, not after
        from lithioscreen.tracking.stores import TrackingStoreError, check_tracking_uri
        from lithioscreen.tracking.training import resolve_tracking_uri

        try:
            check_tracking_uri(resolve_tracking_uri(tracking_uri))
        except TrackingStoreError as error:
            fail(f"nothing was added. {error}")
    try:
        result = add_cells(file, data_dir, max_rows=max_rows, allow_replicates=allow_replicates)
    except DataValidationError as error:
        fail(f"nothing was added. {error}")
    except TimeoutError as error:
        fail(f"nothing was added. {error}")
    version = result.version
    report: dict = {
        "added": result.cell_ids,
        "cells_file": result.cells_path,
        "history_file": result.history_path,
        "version": version.seq,
        "data_version": version.data_version,
        "cells_sha256": version.cells_sha256,
        "parent_data_version": version.parent_data_version,
        "n_rows": version.n_rows,
        "trained": False,
    }
    # cell ids and paths are user text: say() prints them literally ('[/]' in an id must not crash after the write)
    say(
        stderr,
        f"added {len(result.cell_ids)} cell(s) ({', '.join(result.cell_ids)}) to {result.cells_path}: "
        f"version {version.seq}, data {version.data_version[:12]} (was {version.parent_data_version[:12]}), {version.n_rows} cells in the file",
    )
    for snapshot in result.snapshots_recorded:
        say(stderr, f"history: recorded version {snapshot.seq} first ({snapshot.source})", "dim")
    if train:
        from lithioscreen.tracking.promotion import retrain_and_promote

        try:
            with stderr.status("retraining every model on the new data version ..."):
                decision = retrain_and_promote(
                    Path(result.cells_path).parent, tracking_uri, models_dir, experiment_name=experiment
                )
        except DataValidationError as error:  # another data file is broken; the cells are in, training is not
            fail(f"the cells were added (version {version.seq}) but training failed: {error}")
        except Exception as error:  # tracking store unreachable, ...: the cells are in; say so, then fail
            say(
                stderr,
                f"error: the cells were added (version {version.seq}, data {version.data_version[:12]}) but retraining failed: "
                f"{type(error).__name__}: {error}\nretrain with `lithioscreen train` once the problem is fixed.",
                "red",
            )
            raise typer.Exit(code=1) from None
        report["trained"] = True
        report["promotion"] = dataclasses.asdict(decision)
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(json_ready(report), indent=2) + "\n")
        return
    if not train:
        say(
            stdout,
            f"added {', '.join(result.cell_ids)}; data version {version.data_version[:12]} (not retrained: --no-train)",
        )
        return
    _print_decision(decision)


def _print_decision(decision) -> None:
    import pandas as pd
    from rich.text import Text

    frame = pd.DataFrame(decision.all_models_metrics).T.reset_index(names="model")
    frame["best in run"] = frame["model"] == decision.new_model
    columns = [
        column
        for column in (
            "model",
            "nlpd",
            "mae",
            "rmse",
            "spearman",
            "coverage_2sigma",
            "order_checks_passed",
            "best in run",
        )
        if column in frame
    ]
    print_frame(
        frame[columns],
        OutputFormat.table,
        title=f"Leave-one-overlayer-out CV on {decision.n_cells} cells (data {decision.data_version[:12]}, run {decision.parent_run_id[:8]})",
        float_digits=3,
    )
    verdict = ("champion changed", "bold green") if decision.promoted else ("champion kept", "bold yellow")
    stdout.print(
        Text.assemble(verdict, f": {config.REGISTERED_MODEL_NAME} v{decision.new_version} ({decision.new_model})"),
        highlight=False,
    )
    say(stdout, decision.reason)
    say(
        stdout,
        f"models/ re-exported to {decision.exported_to}"
        if decision.promoted
        else "models/ unchanged (the new version is registered without the alias)",
    )


@cells_app.command("list")
def list_cells(
    data_dir: DataDir = None,
    output: Format = OutputFormat.table,
) -> None:
    """The tested cells in cells.csv (validated)."""
    from lithioscreen.data import DataValidationError, load_cells

    path = (data_dir or config.data_dir()) / config.CELLS_FILE
    try:
        cells = load_cells(path)
    except DataValidationError as error:
        fail(str(error))
    if output is not OutputFormat.table:
        print_frame(cells, output, title="")
        return
    import pandas as pd

    def stack(row) -> str:
        beneath = "no underlayer" if row.underlayer == "none" else f"{row.underlayer} {row.underlayer_nm:g} nm"
        return f"{row.overlayer} {row.overlayer_nm:g} nm on {beneath}"

    display = pd.DataFrame(
        {
            "cell_id": cells["cell_id"],
            "stack": [stack(row) for row in cells.itertuples()],
            "CCD reported": cells["ccd_reported"],
            "censoring": cells["ccd_censoring"],
            "lower": cells["ccd_lower_ma_cm2"],
            "upper": cells["ccd_upper_ma_cm2"],
            "origin": cells["ccd_value_origin"],
            "source": cells["doi"] + " " + cells["ccd_source_figure"],
        }
    )
    print_frame(display, output, title=f"{len(cells)} cells in {path}")


@cells_app.command()
def history(
    data_dir: DataDir = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Rebuild every version from the log and check its hash.")
    ] = False,
    output: Format = OutputFormat.table,
) -> None:
    """The versions of cells.csv: when, which cells were added, and the data version MLflow records."""
    import pandas as pd

    from lithioscreen.data import DataValidationError
    from lithioscreen.data.versions import HistoryError, current_version, read_history, reconstruct_versions

    data_dir = Path(data_dir or config.data_dir())
    try:
        entries = read_history(data_dir)
        now = current_version(data_dir)
    except DataValidationError as error:
        fail(str(error))
    verified: dict[int, bool] = {}
    if verify:
        try:
            for version in reconstruct_versions(data_dir):
                verified[version.entry.seq] = True
        except HistoryError as error:
            fail(f"history does not reproduce its hashes: {error}")
    frame = pd.DataFrame(
        [
            {
                "version": entry.seq,
                "created_utc": entry.created_utc,
                "kind": entry.kind,
                "data_version": entry.data_version,
                "cells_sha256": entry.cells_sha256,
                "parent_data_version": entry.parent_data_version,
                "n_rows": entry.n_rows,
                "cell_ids_added": entry.cell_ids_added,
                "source": entry.source,
                **({"verified": verified.get(entry.seq, False)} if verify else {}),
            }
            for entry in entries
        ],
        columns=[
            "version",
            "created_utc",
            "kind",
            "data_version",
            "cells_sha256",
            "parent_data_version",
            "n_rows",
            "cell_ids_added",
            "source",
        ]
        + (["verified"] if verify else []),
    )
    if output is not OutputFormat.table:
        print_frame(frame, output, title="")
    else:
        shown = frame.assign(
            data_version=frame["data_version"].str[:12],
            created_utc=frame["created_utc"].str[:19],
            parent=frame["parent_data_version"].map(lambda v: v[:12] if isinstance(v, str) else ""),
        )
        columns = ["version", "created_utc", "kind", "data_version", "parent", "n_rows", "cell_ids_added", "source"] + (
            ["verified"] if verify else []
        )
        print_frame(shown, output, title=f"Versions of {data_dir / config.CELLS_FILE}", columns=columns)
    if not entries:
        say(
            stderr,
            f"no versions recorded yet: the first `cells add` records the current file ({now['data_version'][:12]}) as version 1.",
            "dim",
        )
    elif not now["in_history"]:
        say(
            stderr,
            f"cells.csv now ({now['cells_sha256'][:12]}) is not the last recorded version: it was changed outside `cells add`; "
            "the next addition records it as a snapshot.",
            "yellow",
        )
    else:
        say(
            stderr,
            f"current: version {now['history_seq']}, data {now['data_version'][:12]}{' (verified)' if verify else ''}",
            "dim",
        )
        if now["data_version"] != entries[-1].data_version:
            say(
                stderr,
                f"the phase-data or interfacial-energy file changed since version {entries[-1].seq}: "
                f"training now records data version {now['data_version'][:12]}, not {entries[-1].data_version[:12]}.",
                "yellow",
            )
