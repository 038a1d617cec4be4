"""`lithioscreen rank` and `lithioscreen features`: candidates in, ranking or descriptors out."""

from __future__ import annotations

from typing import Annotated

import typer

from lithioscreen import config
from lithioscreen.cli.common import (
    AlloyOrder,
    CandidatesArg,
    CandidatesFile,
    Format,
    FrameWriter,
    MaxCandidates,
    ModelsDir,
    OutputFormat,
    OverlayerNm,
    Thicknesses,
    Threshold,
    Underlayer,
    UnderlayerNm,
    app,
    candidate_table,
    checked_threshold,
    fail,
    plus_minus,
    print_frame,
    say,
    stderr,
)


def _feasible_text(value, reason) -> str:
    if value is True:
        return "yes"
    if value is False:
        return f"no: {reason}"
    return "unknown"


def _rank_display(ranked):
    """The ranking as people read it: value ± σ, the stack in one column, feasibility with its reason."""
    import pandas as pd

    def stack(row) -> str:
        beneath = "no underlayer" if row.underlayer == "none" else f"{row.underlayer} {row.underlayer_nm:g} nm"
        return f"{row.overlayer_nm:g} nm on {beneath}"

    return pd.DataFrame(
        {
            "#": ranked["rank"],
            "candidate": ranked["candidate"],
            "stack": [stack(row) for row in ranked.itertuples()],
            "feasible": [_feasible_text(v, r) for v, r in zip(ranked["feasible"], ranked["infeasible_reason"])],
            "CCD mA/cm²": [
                plus_minus(m, s, 2) for m, s in zip(ranked["predicted_ccd_ma_cm2"], ranked["predicted_ccd_std"])
            ],
            "measured": ranked["measured_ccd_reported"].map(lambda value: "-" if value is None else value),
            "γ(Li/X) meV/Å²": [
                plus_minus(m, s, 1)
                for m, s in zip(ranked["interfacial_energy_mev_per_a2"], ranked["interfacial_energy_std_mev_per_a2"])
            ],
            "γ source": ranked["interfacial_energy_source"],
            "≥ threshold": ranked["above_threshold"].map({True: "yes", False: "no"}),
            "in domain": ranked["in_training_domain"].map({True: "yes", False: "no"}),
        }
    )


ALLOY_TABLE_ROWS = 50


def _alloy_table(candidates, candidates_file, alloys, grid, thicknesses, underlayer, underlayer_nm, max_candidates):
    """The candidate table of an alloy screen (exit 2 on bad input, or above the cap)."""
    from lithioscreen.candidates import CandidateError, alloy_screen
    from lithioscreen.data import DataValidationError, load_phase_data

    if candidates_file is not None:
        fail("--alloys builds its own candidates from elements; it does not take --candidates")
    try:
        elements = candidates or load_phase_data()["element"].tolist()
        return alloy_screen(elements, alloys, grid, thicknesses, underlayer, underlayer_nm, max_candidates)
    except (CandidateError, DataValidationError) as error:
        fail(str(error))


def _rank_with_progress(table, champion, threshold):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from lithioscreen.ranking import rank_screen

    with Progress(
        TextColumn("ranking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=stderr, transient=False
    ) as progress:
        task = progress.add_task("rank", total=len(table))
        ranked = rank_screen(
            table, champion, threshold, progress=lambda done, total: progress.update(task, completed=done)
        )
    return ranked


@app.command()
def rank(
    candidates: CandidatesArg = None,
    candidates_file: CandidatesFile = None,
    overlayer_nm: OverlayerNm = config.DEFAULT_OVERLAYER_NM,
    underlayer: Underlayer = config.DEFAULT_UNDERLAYER,
    underlayer_nm: UnderlayerNm = config.DEFAULT_UNDERLAYER_NM,
    top: Annotated[int | None, typer.Option(help="Show only the best N.", min=1)] = None,
    threshold: Threshold = config.DEFAULT_THRESHOLD_MEV_PER_A2,
    models_dir: ModelsDir = None,
    alloys: Annotated[
        AlloyOrder | None,
        typer.Option(
            help="Screen alloys instead: every pair (binary) or triple (ternary) of the candidates given, default every metal in the phase data."
        ),
    ] = None,
    grid: Annotated[float, typer.Option(help="Composition grid step for --alloys (atomic fraction).")] = 0.1,
    thickness: Thicknesses = None,
    max_candidates: MaxCandidates = config.DEFAULT_MAX_CANDIDATES,
    output: Format = OutputFormat.table,
) -> None:
    """Rank candidate overlayers by predicted CCD (default: every metal in the phase data, 30 nm on 200 nm Mg)."""
    from lithioscreen.data import DataValidationError
    from lithioscreen.models.champion import NoChampionError, load_champion
    from lithioscreen.ranking import limitations, rank_candidates

    threshold = checked_threshold(threshold)
    thicknesses = thickness or [overlayer_nm]
    if candidates_file is not None and thickness:
        fail("--candidates files carry their own thicknesses; --thickness is for named candidates and alloy screens")
    if alloys is None:
        table = candidate_table(candidates, candidates_file, thicknesses, underlayer, underlayer_nm, max_candidates)
    else:
        table = _alloy_table(
            candidates, candidates_file, alloys.value, grid, thicknesses, underlayer, underlayer_nm, max_candidates
        )
    try:
        champion = load_champion(models_dir)
    except NoChampionError as error:
        fail(str(error))
    try:
        if alloys is None:
            ranked = rank_candidates(table, champion, threshold)
        else:
            ranked = _rank_with_progress(table, champion, threshold)
    except DataValidationError as error:
        fail(str(error))
    if top is not None:
        ranked = ranked.head(top)
    elif alloys is not None and output is OutputFormat.table and len(ranked) > ALLOY_TABLE_ROWS:
        say(
            stderr,
            f"showing the best {ALLOY_TABLE_ROWS} of {len(ranked)}; use --top N, or --format csv/json for all.",
            "dim",
        )
        ranked = ranked.head(ALLOY_TABLE_ROWS)
    if output is OutputFormat.table:
        print_frame(
            _rank_display(ranked),
            output,
            title=f"Overlayers ranked by predicted CCD (flag: interfacial energy ≥ {threshold:g} meV/Å²)",
        )
    else:
        print_frame(ranked, output, title="")
    for line in limitations(champion):
        say(stderr, line, "dim")


#: ``features`` shows at most this many candidates as a table (one column each); csv/json carry all.
FEATURES_TABLE_CANDIDATES = 50


@app.command()
def features(
    candidates: CandidatesArg = None,
    magpie: Annotated[bool, typer.Option(help="Include the 132 Magpie composition descriptors.")] = True,
    candidates_file: CandidatesFile = None,
    overlayer_nm: OverlayerNm = config.DEFAULT_OVERLAYER_NM,
    underlayer: Underlayer = config.DEFAULT_UNDERLAYER,
    underlayer_nm: UnderlayerNm = config.DEFAULT_UNDERLAYER_NM,
    max_candidates: MaxCandidates = config.DEFAULT_MAX_CANDIDATES,
    output: Format = OutputFormat.table,
) -> None:
    """The descriptor table, one row per candidate (csv/json are written chunk by chunk, in bounded memory)."""
    from lithioscreen.data import DataValidationError
    from lithioscreen.features.pipeline import featurize_in_chunks

    table = candidate_table(candidates, candidates_file, overlayer_nm, underlayer, underlayer_nm, max_candidates)
    if output is OutputFormat.table and len(table) > FEATURES_TABLE_CANDIDATES:
        say(
            stderr,
            f"showing the first {FEATURES_TABLE_CANDIDATES} of {len(table)} candidates; use --format csv or json for all.",
            "dim",
        )
        table = table.head(FEATURES_TABLE_CANDIDATES)
    try:
        chunks = featurize_in_chunks(table, include_magpie=magpie)  # the data files are loaded before the first chunk
        if output is not OutputFormat.table:
            writer = FrameWriter(output)
            for chunk in chunks:
                writer.write(chunk)
            writer.close()
            return
        import pandas as pd

        frame = pd.concat(list(chunks), ignore_index=True)
    except DataValidationError as error:
        fail(str(error))
    # one row per descriptor reads better than 20 narrow columns
    if magpie:
        frame = frame[[column for column in frame.columns if not column.startswith("magpie_")]]
        say(stderr, "132 Magpie columns hidden in the table; use --format csv or json to see them.", "dim")
    labels = [f"{row.candidate} ({row.overlayer_nm:g} nm / {row.underlayer})" for row in frame.itertuples()]
    transposed = frame.drop(columns=["candidate"]).T
    transposed.columns = labels
    print_frame(transposed.reset_index(names="descriptor"), output, title="Descriptors", float_digits=3)
