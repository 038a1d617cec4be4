"""``lithioscreen interface``: Li(100)/X interfacial energies with interatomic potentials (protocol v2).

The command parses and prints; :mod:`lithioscreen.interface.campaign` decides what is reused from
the cache, what is computed and stored, and what ``--verify`` compares.
"""

from __future__ import annotations

import contextlib
from enum import Enum
from typing import Annotated

import typer

from lithioscreen.cli.common import Format, OutputFormat, app, fail, print_frame, say, stderr


class Calculator(str, Enum):
    """``--calculator``: a potential (:data:`lithioscreen.interface.calculators.CALCULATORS`) or the committee."""

    chgnet = "chgnet"
    sevennet = "sevennet"
    sevennet_l3i5 = "sevennet-l3i5"
    chgnet_r2scan = "chgnet-r2scan"
    sevennet_mf0 = "sevennet-mf0"
    committee = "committee"


class Device(str, Enum):
    """``--device``: where the potential runs."""

    cpu = "cpu"
    cuda = "cuda"


@app.command()
def interface(
    elements: Annotated[
        list[str] | None,
        typer.Argument(help="Metals or the reference compounds LiF, Li2S, e.g. W Mo LiF.", show_default=False),
    ] = None,
    all_metals: Annotated[
        bool, typer.Option("--all", help="Every default candidate metal with a bcc, fcc or hcp structure.")
    ] = False,
    plane: Annotated[
        str,
        typer.Option(
            help="X plane: 110/100/111 (bcc), 111/100/110 (fcc), 0001/10-10 (hcp), 100/110 (LiF), 111/110 (Li2S), or 'all'."
        ),
    ] = "all",
    calculator: Annotated[
        list[Calculator] | None,
        typer.Option(help="Potential; repeat the option for several; 'committee': chgnet, sevennet, sevennet-l3i5."),
    ] = None,
    device: Annotated[Device, typer.Option(help="Where the potential runs.")] = Device.cpu,
    n_jobs: Annotated[int, typer.Option(help="Local joblib workers (processes); >1 turns batching off.")] = 1,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, tcp://HOST:PORT.")] = None,
    dask_local: Annotated[int | None, typer.Option(min=1, help="Start a local Dask cluster with N workers.")] = None,
    batch: Annotated[
        bool | None,
        typer.Option(
            "--batch/--no-batch", help="Batched lockstep relaxations in one process (default: on unless --n-jobs/Dask)."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Structures per forward pass with --batch.")] = 32,
    protocol: Annotated[
        str | None,
        typer.Option(help="A recorded protocol string (the data file's 'protocol' column): use exactly its settings."),
    ] = None,
    li_layers: Annotated[
        list[int] | None,
        typer.Option(min=1, help="Li slab thickness, Li(100) cells (2 atomic planes each); repeat for the series."),
    ] = None,
    x_layers: Annotated[int | None, typer.Option(min=1, help="Minimum atomic planes of the X slab.")] = None,
    max_strain: Annotated[
        float | None, typer.Option(min=0, help="Largest in-plane Li strain accepted (fraction).")
    ] = None,
    max_area: Annotated[
        float | None, typer.Option(min=0, help="Largest interface area searched first, Å² (then 1.5x, 2x).")
    ] = None,
    supercell: Annotated[
        int | None, typer.Option(min=0, help="Which coherent supercell, by increasing strain (0 = least strained).")
    ] = None,
    registry_grid: Annotated[
        int | None, typer.Option(min=1, help="Lateral shifts of Li per direction of X's surface cell (n x n).")
    ] = None,
    fmax: Annotated[float | None, typer.Option(help="Force convergence, eV/Å.")] = None,
    steps: Annotated[int | None, typer.Option(min=1, help="Maximum optimizer steps per relaxation.")] = None,
    max_stderr: Annotated[
        float | None, typer.Option(min=0, help="Acceptance rule: largest intercept standard error, meV/Å².")
    ] = None,
    protocol_version: Annotated[
        str | None,
        typer.Option(
            help="v2 (the default: relax the lowest unrelaxed registry) or v3 (relax each Li orientation's "
            "lowest, refuse reconstructed Li films, keep the lowest γ)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Recompute even when a cached value exists.")] = False,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Recompute cached values with their recorded protocol, compare, write nothing."),
    ] = False,
    verify_tolerance: Annotated[
        float, typer.Option(min=0, help="Largest |recomputed - cached| accepted by --verify, meV/Å².")
    ] = 0.05,
    write: Annotated[
        bool, typer.Option("--write/--no-write", help="Store new values in data/interfacial_energies.csv.")
    ] = True,
    output: Format = OutputFormat.table,
) -> None:
    """Li(100)/X interfacial energies (meV/Å²) from a committee of potentials, the paper's intercept protocol (v2; v3 on request)."""
    from lithioscreen.data import DataValidationError, load_interfacial_energies
    from lithioscreen.interface import campaign
    from lithioscreen.interface.cache import interfacial_energies_path, method_for
    from lithioscreen.interface.calculators import PotentialUnavailableError
    from lithioscreen.interface.protocol import ProtocolError

    if bool(elements) == all_metals:
        fail("name the materials (e.g. 'lithioscreen interface W Mo LiF') or use --all, not both")
    try:
        calculators = campaign.expand_calculators([name.value for name in calculator or []])
        execution = campaign.Execution(n_jobs, scheduler, dask_local, batch, batch_size)
        settings = campaign.settings_for(
            protocol,
            li_layers=tuple(li_layers) if li_layers else None,
            x_layers=x_layers,
            max_strain=max_strain,
            max_area_a2=max_area,
            supercell_rank=supercell,
            registry_grid=registry_grid,
            fmax=fmax,
            steps=steps,
            max_stderr_mev_per_a2=max_stderr,
            version=protocol_version,
        )
        table = load_interfacial_energies()
        if all_metals:
            materials, skipped = campaign.default_metals()
            if skipped:
                say(stderr, f"skipped (not bcc/fcc/hcp in ASE's reference states): {', '.join(skipped)}")
        else:
            materials = elements
        targets = campaign.plan_targets(
            materials,
            plane,
            calculators=calculators,
            settings=settings,
            table=table,
            needs_mlip=all_metals or force or verify,
        )
        with _progress_bars() as progress_for:
            report = campaign.run_campaign(
                targets,
                calculators,
                settings,
                table=table,
                device=device.value,
                execution=execution,
                force=force,
                verify=verify,
                verify_tolerance_mev_per_a2=verify_tolerance,
                write=write,
                progress_for=progress_for,
                on_cluster=lambda client: say(stderr, f"Dask: {client.dashboard_link or client.scheduler.address}"),
            )
    except ImportError as error:  # no ASE (the mlip extra) where a crystal structure is needed
        fail(f"this needs the 'mlip' extra ({error}); {campaign.MLIP_EXTRA_HINT}")
    except (campaign.InterfaceInputError, DataValidationError, ProtocolError, PotentialUnavailableError) as error:
        fail(str(error))
    except OSError as error:  # an unreachable Dask scheduler
        fail(f"Dask scheduler {scheduler}: {error}")

    for name, count in report.stored.items():
        say(stderr, f"stored {count} {method_for(name)} value(s) in {interfacial_energies_path()}")
    methods = ", ".join(method_for(name) for name in calculators)
    print_frame(report.table, output, title=f"Li(100)/X interfacial energies, meV/Å² ({methods}; raw, not calibrated)")
    for _, row in report.failures.iterrows():
        say(stderr, f"{row['element']}{row['x_plane']} {row['method']}: {row['error']}", "red")
    if report.verify_failed:
        say(
            stderr,
            f"--verify: a recomputed value differs from the cached one by more than {verify_tolerance} meV/Å² (or failed)",
            "red",
        )
    if report.verify_failed or not report.failures.empty:
        raise typer.Exit(code=1)


@contextlib.contextmanager
def _progress_bars():
    """Rich progress bars on stderr, one per potential and stage; yields the factory run_campaign takes."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from lithioscreen.interface.workflow import Progress as WorkflowProgress

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr) as bars:

        class Bar(WorkflowProgress):
            def __init__(self, calculator: str):
                self.calculator, self.task = calculator, None

            def stage(self, name, total):
                self.task = bars.add_task(f"{self.calculator}: {name}", total=total)

            def done(self, result):
                bars.advance(self.task)

        yield Bar
