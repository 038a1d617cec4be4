"""``lithioscreen interface``: Li(100)/X interfacial energies with interatomic potentials (protocol v2).

Cached values (``data/interfacial_energies.csv``, method ``mlip:<model>``, same protocol) are
reused; only missing ones are computed, in batched lockstep (default with one process), through
joblib workers (``--n-jobs``) or a Dask cluster (``--scheduler``/``--dask-local``). ``--verify``
recomputes cached values with the protocol they record and compares.
"""

from __future__ import annotations

from typing import Annotated

import typer

# fail and say show a message literally ('[mlip]' is no rich markup)
from lithioscreen.cli.common import Format, OutputFormat, app, fail, print_frame, say, stderr

MLIP_EXTRA_HINT = "install the extra: pip install -e '.[mlip]'"


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
        list[str] | None,
        typer.Option(
            help="Potential(s), repeatable or comma-separated: chgnet, sevennet, sevennet-l3i5, chgnet-r2scan, sevennet-mf0, or 'committee'."
        ),
    ] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    n_jobs: Annotated[int, typer.Option(help="Local joblib workers (processes); >1 turns batching off.")] = 1,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, tcp://HOST:PORT.")] = None,
    dask_local: Annotated[int | None, typer.Option(help="Start a local Dask cluster with N workers.")] = None,
    batch: Annotated[
        bool | None,
        typer.Option(
            "--batch/--no-batch", help="Batched lockstep relaxations in one process (default: on unless --n-jobs/Dask)."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Structures per forward pass with --batch.")] = 32,
    protocol: Annotated[
        str | None,
        typer.Option(help="A recorded protocol string (the data file's 'protocol' column): use exactly its settings."),
    ] = None,
    li_layers: Annotated[
        str | None, typer.Option(help="Li slab thicknesses, Li(100) cells (2 atomic planes each), comma-separated.")
    ] = None,
    x_layers: Annotated[int | None, typer.Option(help="Minimum atomic planes of the X slab.")] = None,
    max_strain: Annotated[float | None, typer.Option(help="Largest in-plane Li strain accepted (fraction).")] = None,
    max_area: Annotated[
        float | None, typer.Option(help="Largest interface area searched first, Å² (then 1.5x, 2x).")
    ] = None,
    supercell: Annotated[
        int | None, typer.Option(help="Which coherent supercell, by increasing strain (0 = least strained).")
    ] = None,
    registry_grid: Annotated[
        int | None, typer.Option(help="Lateral shifts of Li per direction of X's surface cell (n x n).")
    ] = None,
    fmax: Annotated[float | None, typer.Option(help="Force convergence, eV/Å.")] = None,
    steps: Annotated[int | None, typer.Option(help="Maximum optimizer steps per relaxation.")] = None,
    max_stderr: Annotated[
        float | None, typer.Option(help="Acceptance rule: largest intercept standard error, meV/Å².")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Recompute even when a cached value exists.")] = False,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Recompute cached values with their recorded protocol, compare, write nothing."),
    ] = False,
    verify_tolerance: Annotated[
        float, typer.Option(help="Largest |recomputed - cached| accepted by --verify, meV/Å².")
    ] = 0.05,
    write: Annotated[
        bool, typer.Option("--write/--no-write", help="Store new values in data/interfacial_energies.csv.")
    ] = True,
    output: Format = OutputFormat.table,
) -> None:
    """Li(100)/X interfacial energies (meV/Å²) from a committee of potentials, the paper's intercept protocol (v2)."""
    import pandas as pd

    from lithioscreen.data import DataValidationError, load_interfacial_energies
    from lithioscreen.interface import build, cache
    from lithioscreen.interface.calculators import (
        CALCULATORS,
        COMMITTEE,
        DEVICES,
        PotentialUnavailableError,
        software_versions,
    )
    from lithioscreen.interface.protocol import InterfaceSettings, ProtocolError

    if bool(elements) == all_metals:
        fail("name the materials (e.g. 'lithioscreen interface W Mo LiF') or use --all, not both")
    names = [name.strip() for text in (calculator or ["chgnet"]) for name in text.split(",") if name.strip()]
    names = list(dict.fromkeys(n for name in names for n in (COMMITTEE if name == "committee" else (name,))))
    unknown = [name for name in names if name not in CALCULATORS]
    if unknown:
        fail(f"unknown calculator {unknown[0]!r}: choose from {', '.join(CALCULATORS)} or committee")
    if device not in DEVICES:
        fail(f"unknown device {device!r}: choose cpu or cuda")
    if n_jobs == 0 or batch_size < 1 or (steps is not None and steps < 1) or (fmax is not None and not fmax > 0):
        fail("--n-jobs must not be 0; --batch-size, --steps and --fmax must be positive")
    if (scheduler or dask_local) and batch:
        fail("--batch runs in one process; it cannot be combined with --scheduler or --dask-local")
    try:
        settings = InterfaceSettings.from_protocol(protocol) if protocol else InterfaceSettings()
        changes = {
            key: value
            for key, value in dict(
                x_layers=x_layers,
                max_strain=max_strain,
                max_area_a2=max_area,
                supercell_rank=supercell,
                registry_grid=registry_grid,
                fmax=fmax,
                steps=steps,
                max_stderr_mev_per_a2=max_stderr,
            ).items()
            if value is not None
        }
        if li_layers is not None:
            try:
                changes["li_layers"] = tuple(int(text) for text in li_layers.split(","))
            except ValueError:
                raise build.InterfaceInputError(
                    f"--li-layers {li_layers!r}: give whole numbers separated by commas, e.g. 2,3,4"
                ) from None
        if protocol and changes:
            raise build.InterfaceInputError(
                f"--protocol fixes every setting; drop {', '.join('--' + k.replace('_', '-') for k in changes)}"
            )
        settings = settings.replace(**changes)
        if len(set(settings.li_layers)) < 2 or min(settings.li_layers) < 1:
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
        except ImportError as error:  # no ASE (the mlip extra): planes cannot be resolved; cached values still print
            if all_metals or force or verify:
                fail(
                    f"interface {'--all' if all_metals else '--force/--verify'} needs the 'mlip' extra ({error}); {MLIP_EXTRA_HINT}"
                )
            targets = _cached_targets(list(dict.fromkeys(elements)), plane, names, table, settings.protocol())
    except (build.InterfaceInputError, DataValidationError, ProtocolError) as error:
        fail(str(error))

    recorded = settings.protocol()
    batched = (n_jobs == 1 and not (scheduler or dask_local)) if batch is None else batch
    rows, failed = [], False
    for name in names:
        cached = {t: cache.find_cached(table, t[0], name, t[1], recorded) for t in targets}
        if verify:
            todo = [t for t in targets if cached[t] is not None]
            if not todo:
                fail(
                    f"--verify: no cached {cache.method_for(name)} value under protocol {recorded!r} for these targets"
                )
        else:
            todo = [t for t in targets if force or cached[t] is None]
        results = []
        if todo:
            try:
                _check_available(name, device)
            except PotentialUnavailableError as error:
                fail(str(error))
            # each value is stored the moment it is fitted: an interrupted --all run keeps what it finished
            versions = software_versions(name)
            store = (lambda result, v=versions: cache.write_results([result], v)) if write and not verify else None
            results = _compute(todo, name, device, settings, n_jobs, scheduler, dask_local, batched, batch_size, store)
            if store is not None:
                say(
                    stderr,
                    f"stored {sum(r.ok for r in results)} {cache.method_for(name)} value(s) in {cache.interfacial_energies_path()}",
                )
        computed = {(r.element, r.plane): r for r in results}
        for element, x_plane in targets:
            row, result = cached.get((element, x_plane)), computed.get((element, x_plane))
            if verify:
                if row is None:
                    continue
                new = _result_row(result, name)
                difference = new["interfacial_energy_mev_per_a2"] - float(row["interfacial_energy_mev_per_a2"])
                ok = result.ok and abs(difference) <= verify_tolerance
                failed |= not ok
                rows.append(
                    {
                        **new,
                        "cached_mev_per_a2": float(row["interfacial_energy_mev_per_a2"]),
                        "difference_mev_per_a2": difference,
                        "reproduced": ok,
                    }
                )
            elif result is not None:
                rows.append(_result_row(result, name))
            else:
                rows.append(_cached_row(row))
    frame = pd.DataFrame(rows)
    title = (
        f"Li(100)/X interfacial energies, meV/Å² ({', '.join(cache.method_for(n) for n in names)}; raw, not calibrated)"
    )
    print_frame(frame, output, title=title)
    errors = frame[frame["error"].astype(bool)] if "error" in frame else frame.iloc[0:0]
    for _, row in errors.iterrows():
        say(stderr, f"{row['element']}{row['x_plane']} {row['method']}: {row['error']}", "red")
    if verify and failed:
        say(
            stderr,
            f"--verify: a recomputed value differs from the cached one by more than {verify_tolerance} meV/Å² (or failed)",
            "red",
        )
    if failed or not errors.empty:
        raise typer.Exit(code=1)


def _result_row(result, name: str) -> dict:
    from lithioscreen.interface import build, cache

    return {
        "element": result.element,
        "x_plane": build.plane_label(result.plane),
        "method": cache.method_for(name),
        "interfacial_energy_mev_per_a2": result.interfacial_energy_mev_per_a2,
        "intercept_stderr_mev_per_a2": result.intercept_stderr_mev_per_a2,
        "fit_r2": result.fit_r2,
        "li_strain_pct": 100 * result.li_strain,
        "area_a2": result.area_a2,
        "n_li": ";".join(map(str, result.n_li)),
        "cached": False,
        "relax_seconds": result.relax_seconds,
        "protocol": result.protocol,
        "error": result.error,
    }


def _cached_targets(elements, plane, names, table, protocol) -> list[tuple[str, str]]:
    """Without ASE: the cached (element, plane) pairs of the potentials ``names`` under ``protocol``;
    every cached plane when 'all' is asked for (the planes of a crystal come from ASE)."""
    from lithioscreen.interface import cache

    wanted = None if plane in (None, "all") else "".join(ch for ch in str(plane) if ch.isdigit() or ch == "-")
    wanted = "0001" if wanted == "001" else wanted
    targets = []
    for element in elements:
        rows = table[
            (table["material"] == element)
            & table["method"].isin([cache.method_for(n) for n in names])
            & (table["protocol"].astype(str) == protocol)
        ]
        planes = [label.strip("()") for label in dict.fromkeys(rows["x_plane"])]
        planes = [p for p in planes if wanted is None or p == wanted]
        if not planes:
            fail(
                f"{element}: no cached value under the current protocol; computing one needs the 'mlip' extra (ASE, torch, the potentials): {MLIP_EXTRA_HINT}"
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
        "method": row["method"],
        "interfacial_energy_mev_per_a2": row["interfacial_energy_mev_per_a2"],
        "intercept_stderr_mev_per_a2": row["intercept_stderr_mev_per_a2"],
        "fit_r2": row["fit_r2"],
        "li_strain_pct": row["li_strain_pct"],
        "area_a2": float("nan"),
        "n_li": "",
        "cached": True,
        "relax_seconds": float("nan"),
        "protocol": row["protocol"],
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
            self.task = self.progress.add_task(f"{calculator}: {name}", total=total)

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
