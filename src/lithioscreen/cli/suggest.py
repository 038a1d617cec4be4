"""`lithioscreen suggest`: which untested cell to build next, by expected improvement, UCB or exploration."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from lithioscreen import config
from lithioscreen.cli.common import (
    AlloyOrder,
    DataDir,
    Format,
    MaxCandidates,
    ModelsDir,
    OutputFormat,
    Underlayer,
    UnderlayerNm,
    app,
    fail,
    plus_minus,
    print_frame,
    say,
    stderr,
)


class Strategy(str, Enum):
    """``--strategy``: the acquisition function (:data:`lithioscreen.acquisition.STRATEGIES`)."""

    ei = "ei"
    ucb = "ucb"
    explore = "explore"


class Domain(str, Enum):
    """``--domain``: how the training domain orders suggestions (:data:`lithioscreen.suggest.DOMAIN_MODES`)."""

    first = "first"
    only = "only"
    ignore = "ignore"


@app.command()
def suggest(
    n: Annotated[int, typer.Option("--n", help="How many suggestions.", min=1)] = 10,
    strategy: Annotated[
        Strategy,
        typer.Option(help="ei: expected improvement over the best measured CCD; ucb: mean + kappa·σ; explore: σ."),
    ] = Strategy.ei,
    kappa: Annotated[float, typer.Option(help="UCB: how many σ of optimism.", min=0)] = 2.0,
    xi: Annotated[float, typer.Option(help="EI: minimum improvement worth having, mA/cm².", min=0)] = 0.0,
    alloys: Annotated[
        AlloyOrder | None,
        typer.Option(
            help="Also alloys of the elements on a composition grid: every pair (binary) or triple (ternary)."
        ),
    ] = None,
    alloy_step: Annotated[
        float, typer.Option(help="Alloy grid step, atomic fraction (0.25: 25/50/75 %).", min=0.01, max=0.5)
    ] = 0.25,
    alloy_elements: Annotated[
        list[str] | None,
        typer.Option("--alloy-element", help="Alloy only these elements (repeat the option); default: every element."),
    ] = None,
    thickness: Annotated[
        list[float] | None,
        typer.Option(
            "--thickness", help="Overlayer thickness to try, nm; repeat the option for several (default 10, 30, 50)."
        ),
    ] = None,
    underlayer: Underlayer = config.DEFAULT_UNDERLAYER,
    underlayer_nm: UnderlayerNm = config.DEFAULT_UNDERLAYER_NM,
    domain: Annotated[
        Domain,
        typer.Option(
            help="Candidates outside the range of the tested cells (extrapolations): ranked after the others (first), left out (only), or ranked by acquisition alone (ignore)."
        ),
    ] = Domain.first,
    data_dir: DataDir = None,
    models_dir: ModelsDir = None,
    include_unknown: Annotated[
        bool,
        typer.Option(
            "--include-unknown",
            help="Also stacks whose feasibility is unknown (no assessed Li-X diagram); infeasible stacks are never suggested.",
        ),
    ] = False,
    max_candidates: MaxCandidates = config.DEFAULT_MAX_CANDIDATES,
    output: Format = OutputFormat.table,
) -> None:
    """Rank untested candidates by an acquisition function over the champion's mean and σ, and say why."""
    import numpy as np
    import pandas as pd

    from lithioscreen.candidates import DEFAULT_POOL_THICKNESSES_NM, CandidateError, candidate_pool, check_pool_size
    from lithioscreen.data import DataValidationError, load_cells, load_phase_data
    from lithioscreen.models.champion import NoChampionError, load_champion
    from lithioscreen.ranking import limitations
    from lithioscreen.suggest import suggest as run_suggest

    data_dir = Path(data_dir or config.data_dir())
    try:
        cells = load_cells(data_dir / config.CELLS_FILE)
        phase = load_phase_data(data_dir / config.PHASE_DATA_FILE)
        champion = load_champion(models_dir)
        thickness = thickness or list(DEFAULT_POOL_THICKNESSES_NM)
        check_pool_size(
            phase["element"].tolist(),
            underlayer,
            len(thickness),
            alloys and alloys.value,
            alloy_step,
            alloy_elements,
            max_candidates,
        )
        pool = candidate_pool(
            phase["element"].tolist(),
            cells,
            thickness,
            underlayer,
            underlayer_nm,
            alloys=alloys and alloys.value,
            alloy_step=alloy_step,
            alloy_elements=alloy_elements,
        )
        if alloys and len(pool) > 2000:
            say(stderr, f"scoring {len(pool)} candidates ...", "dim")
        table = run_suggest(
            champion, cells, pool, strategy.value, n, kappa, xi, domain=domain.value, include_unknown=include_unknown
        )
    except (CandidateError, DataValidationError, NoChampionError, ValueError) as error:
        fail(str(error))
    incumbent = table.attrs["incumbent"]
    if output is OutputFormat.table:
        display = pd.DataFrame(
            {
                "#": table["rank"],
                "candidate": table["candidate"],
                "stack": [
                    f"{o:g} nm on {u} {un:g} nm" if u != "none" else f"{o:g} nm, no underlayer"
                    for o, u, un in zip(table["overlayer_nm"], table["underlayer"], table["underlayer_nm"])
                ],
                strategy.value: table["acquisition"],
                "CCD mA/cm²": [
                    plus_minus(m, s, 2) for m, s in zip(table["predicted_ccd_ma_cm2"], table["predicted_ccd_std"])
                ],
                f"P(> {incumbent.ccd_ma_cm2:g})": [f"{p:.0%}" for p in table["probability_of_improvement"]],
                "γ(Li/X) meV/Å²": [
                    plus_minus(m, s, 0) + f" ({src})"
                    for m, s, src in zip(
                        table["interfacial_energy_mev_per_a2"],
                        table["interfacial_energy_std_mev_per_a2"],
                        table["interfacial_energy_source"],
                    )
                ],
                "feasible": ["yes" if value is True else "unknown" for value in table["feasible"]],
                "closest tested (distance)": [
                    f"{c} ({d:.2f})"
                    for c, d in zip(table["closest_tested_candidate"], table["closest_tested_distance"])
                ],
                "in domain": table["in_training_domain"].map({True: "yes", False: "no"}),
            }
        )
        print_frame(
            display,
            output,
            title=f"Next cells to build ({strategy.value}; {len(pool)} untested candidates scored)",
            float_digits=3,
        )
    else:
        print_frame(table, output, title="")
    if table.attrs.get("n_not_scored"):
        say(
            stderr,
            f"{table.attrs['n_not_scored']} untested stacks were not scored: infeasible, of unknown feasibility, or without a predicted CCD.",
            "dim",
        )
    say(
        stderr,
        f"Best measured CCD (the EI incumbent): {incumbent.describe()}: the largest CCD any cell is known to reach "
        "(exact values and the lower ends of '> x' and interval results).",
        "dim",
    )
    std = table["predicted_ccd_std"].to_numpy(float)
    if len(std) > 1 and np.ptp(std) < 1e-3 * max(float(np.mean(std)), 1e-12):
        say(
            stderr,
            f"The champion ({champion.metadata.get('model')}) gives every candidate nearly the same σ: "
            "its uncertainty does not tell candidates apart, so 'explore' and the σ-part of ei/ucb carry no information.",
            "yellow",
        )
    for line in limitations(champion):
        say(stderr, line, "dim")
