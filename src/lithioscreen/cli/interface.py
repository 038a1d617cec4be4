"""``lithioscreen interface``: Li(100)/X interfacial energies with an interatomic potential.

Cached values (``data/interfacial_energies.csv``, method ``mlip:<model>``) are reused; only missing
ones are computed, through joblib workers, a Dask cluster (``--scheduler``/``--dask-local``) or,
with ``--batch`` (the default on ``--device cuda``), batched forward passes in one process.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lithioscreen.cli.common import (  # fail, say: shown literally ('[mlip]' is no markup)
    Format,
    OutputFormat,
    app,
    fail,
    print_frame,
    say,
    stderr,
)

MLIP_EXTRA_HINT = "install the extra: pip install -e '.[mlip]'"


@app.command()
def interface(
    elements: Annotated[list[str] | None, typer.Argument(help="Metals, e.g. W Mo Nb.", show_default=False)] = None,
    all_metals: Annotated[
        bool, typer.Option("--all", help="Every default candidate metal with a bcc, fcc or hcp structure.")
    ] = False,
    plane: Annotated[
        str | None,
        typer.Option(
            help="X plane: 110/100/111 (bcc), 111/100 (fcc), 0001 (hcp), or 'all'. Default: the close-packed plane."
        ),
    ] = None,
    calculator: Annotated[str, typer.Option(help="Potential: chgnet or sevennet.")] = "chgnet",
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    n_jobs: Annotated[int, typer.Option(help="Local joblib workers (processes).")] = 1,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, tcp://HOST:PORT.")] = None,
    dask_local: Annotated[int | None, typer.Option(help="Start a local Dask cluster with N workers.")] = None,
    batch: Annotated[
        bool | None,
        typer.Option("--batch/--no-batch", help="Batched forward passes over all structures (default: on for cuda)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Structures per forward pass with --batch.")] = 32,
    li_layers: Annotated[
        str, typer.Option(help="Li slab thicknesses, Li(100) cells (2 atomic layers each), comma-separated.")
    ] = "2,3,4",
    x_thickness: Annotated[float, typer.Option(help="Minimum X slab thickness, Å.")] = 6.0,
    max_strain: Annotated[float, typer.Option(help="Largest in-plane Li strain accepted (fraction).")] = 0.08,
    max_area: Annotated[float, typer.Option(help="Largest interface area searched, Å².")] = 100.0,
    fmax: Annotated[float, typer.Option(help="Force convergence, eV/Å.")] = 0.05,
    steps: Annotated[int, typer.Option(help="Maximum optimizer steps per relaxation.")] = 300,
    force: Annotated[bool, typer.Option("--force", help="Recompute even when a cached value exists.")] = False,
    write: Annotated[
        bool, typer.Option("--write/--no-write", help="Store new values in data/interfacial_energies.csv.")
    ] = True,
    output: Format = OutputFormat.table,
) -> None:
    """Li(100)/X interfacial energies (meV/Å²) from CHGNet or SevenNet, the paper's intercept protocol."""
    import pandas as pd

    from lithioscreen.data import DataValidationError, load_interfacial_energies
    from lithioscreen.interface import build, cache
    from lithioscreen.interface.calculators import CALCULATORS, DEVICES, PotentialUnavailableError, software_versions
    from lithioscreen.interface.workflow import InterfaceSettings

    if bool(elements) == all_metals:
        fail("name the metals (e.g. 'lithioscreen interface W Mo') or use --all, not both")
    if calculator not in CALCULATORS:
        fail(f"unknown calculator {calculator!r}: choose one of {', '.join(CALCULATORS)}")
    if device not in DEVICES:
        fail(f"unknown device {device!r}: choose cpu or cuda")
    if n_jobs == 0 or batch_size < 1 or steps < 1 or not fmax > 0:
        fail("--n-jobs must not be 0; --batch-size, --steps and --fmax must be positive")
    if (scheduler or dask_local) and batch:
        fail("--batch runs in one process; it cannot be combined with --scheduler or --dask-local")
    try:
        layers = tuple(int(text) for text in li_layers.split(","))
    except ValueError:
        fail(f"--li-layers {li_layers!r}: give whole numbers separated by commas, e.g. 2,3,4")
    settings = InterfaceSettings(
        li_layers=layers, x_thickness_a=x_thickness, max_strain=max_strain, max_area_a2=max_area, fmax=fmax, steps=steps
    )

    try:
        if len(layers) < 2 or min(layers) < 1:
            raise build.InterfaceInputError(
                f"--li-layers {li_layers!r}: need at least two (three for an error bar) positive thicknesses"
            )
        table = load_interfacial_energies()
        try:
            if all_metals:
                metals, skipped = _default_metals()
                if skipped:
                    say(stderr, f"skipped (not bcc/fcc/hcp in ASE's reference states): {', '.join(skipped)}")
            else:
                metals = list(dict.fromkeys(elements))
            targets = []
            for element in metals:
                planes = build.planes_for(element) if plane == "all" else (build.normalize_plane(element, plane),)
                targets += [(element, p) for p in planes]
        except (
            ImportError
        ) as error:  # no ASE (the mlip extra): crystal planes cannot be resolved; cached values still print
            if all_metals or force:
                fail(
                    f"interface {'--all' if all_metals else '--force'} needs the 'mlip' extra ({error}); {MLIP_EXTRA_HINT}"
                )
            targets = _cached_targets(list(dict.fromkeys(elements)), plane, calculator, table, cache)
    except (build.InterfaceInputError, DataValidationError) as error:
        fail(str(error))

    cached = {} if force else {t: cache.find_cached(table, t[0], calculator, t[1]) for t in targets}
    todo = [t for t in targets if cached.get(t) is None]
    results = []
    if todo:
        try:
            _check_available(calculator, device)
        except PotentialUnavailableError as error:
            fail(str(error))
        batched = (device == "cuda" and not (scheduler or dask_local)) if batch is None else batch
        # each value is stored the moment it is fitted: an interrupted --all run keeps what it finished
        versions = software_versions(calculator)
        store = (lambda result: cache.write_results([result], versions)) if write else None
        results = _compute(
            todo, calculator, device, settings, n_jobs, scheduler, dask_local, batched, batch_size, store
        )
        if write:
            stored = sum(result.ok for result in results)
            say(stderr, f"stored {stored} value(s) in {cache.interfacial_energies_path()}")

    rows = []
    for element, x_plane in targets:
        row = cached.get((element, x_plane))
        if row is not None:
            rows.append(_cached_row(row))
            continue
        result = next(r for r in results if (r.element, r.plane) == (element, x_plane))
        rows.append(
            {
                "element": element,
                "x_plane": build.plane_label(x_plane),
                "interfacial_energy_mev_per_a2": result.interfacial_energy_mev_per_a2,
                "intercept_stderr_mev_per_a2": result.intercept_stderr_mev_per_a2,
                "fit_r2": result.fit_r2,
                "li_strain_pct": 100 * result.li_strain,
                "area_a2": result.area_a2,
                "n_li": ";".join(map(str, result.n_li)),
                "method": cache.method_for(calculator),
                "cached": False,
                "relax_seconds": result.relax_seconds,
                "error": result.error,
            }
        )
    frame = pd.DataFrame(rows)
    print_frame(frame, output, title=f"Li(100)/X interfacial energies, meV/Å² ({cache.method_for(calculator)})")
    failed = frame[frame["error"].astype(bool)]
    if not failed.empty:
        for _, row in failed.iterrows():
            say(stderr, f"{row['element']}{row['x_plane']}: {row['error']}", "red")
        raise typer.Exit(code=1)


def _cached_targets(elements, plane, calculator, table, cache) -> list[tuple[str, str]]:
    """Without ASE: the cached (element, plane) pairs of ``calculator``; every cached plane when no
    plane (or 'all') is asked for, since the default plane comes from ASE's crystal structures."""
    wanted = None if plane in (None, "all") else "".join(ch for ch in str(plane) if ch.isdigit())
    wanted = "0001" if wanted == "001" else wanted
    targets = []
    for element in elements:
        rows = table[(table["material"] == element) & (table["method"] == cache.method_for(calculator))]
        planes = [label.strip("()") for label in dict.fromkeys(rows["x_plane"])]
        planes = [p for p in planes if wanted is None or p == wanted]
        if not planes:
            fail(
                f"{element}: no cached {calculator} value; computing one needs the 'mlip' extra (ASE, torch, {calculator}): {MLIP_EXTRA_HINT}"
            )
        targets += [(element, p) for p in planes]
    return targets


def _default_metals() -> tuple[list[str], list[str]]:
    from lithioscreen.data import load_phase_data
    from lithioscreen.interface.build import InterfaceInputError, crystal_structure

    metals, skipped = [], []
    for element in load_phase_data()["element"]:
        try:
            crystal_structure(element)
        except InterfaceInputError:
            skipped.append(element)
        else:
            metals.append(element)
    return metals, skipped


def _check_available(calculator: str, device: str) -> None:
    from lithioscreen.interface.calculators import _check

    _check(calculator, device)


def _cached_row(row) -> dict:
    return {
        "element": row["material"],
        "x_plane": row["x_plane"],
        "interfacial_energy_mev_per_a2": row["interfacial_energy_mev_per_a2"],
        "intercept_stderr_mev_per_a2": row["intercept_stderr_mev_per_a2"],
        "fit_r2": row["fit_r2"],
        "li_strain_pct": row["li_strain_pct"],
        "area_a2": float("nan"),
        "n_li": "",
        "method": row["method"],
        "cached": True,
        "relax_seconds": float("nan"),
        "error": "",
    }


def _compute(todo, calculator, device, settings, n_jobs, scheduler, dask_local, batch, batch_size, store=None):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from lithioscreen.interface import workflow
    from lithioscreen.interface.parallel import execution

    class Bar(workflow.Progress):
        def __init__(self, progress):
            self.progress, self.task = progress, None

        def stage(self, name, total):
            self.task = self.progress.add_task(f"{name} relaxations", total=total)

        def done(self, result):
            self.progress.advance(self.task)

        def finished(self, result):
            if store is not None and result.ok:
                store(result)

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with execution(scheduler, dask_local) as client, Progress(*columns, console=stderr) as progress:
            if client is not None:
                say(stderr, f"Dask: {client.dashboard_link or client.scheduler.address}")
            return workflow.compute_interfacial_energies(
                todo,
                calculator,
                device,
                settings,
                n_jobs=-1 if client is not None else n_jobs,
                batch=batch,
                batch_size=batch_size,
                progress=Bar(progress),
            )
    except OSError as error:  # an unreachable scheduler
        fail(f"Dask scheduler {scheduler}: {error}")
