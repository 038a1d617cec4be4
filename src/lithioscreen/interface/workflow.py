"""From (metal, plane) pairs to fitted Li interfacial energies.

Three stages, each a set of independent relaxations (the unit of parallel work):

1. bulk: Li and every metal X, atoms and cell relaxed with the potential (its own lattice
   constants and bulk energies per atom);
2. interfaces: for each (X, plane), the Li(100)/X sandwiches of the thickness series built on the
   relaxed bulk crystals (:mod:`~lithioscreen.interface.build`), relaxed (atoms and cell length
   along the normal);
3. fit: the excess energy versus N_Li, intercept = interfacial energy
   (:mod:`~lithioscreen.interface.fit`).

Relaxations run through joblib (``n_jobs`` processes, or whatever backend is active: the CLI
activates joblib's Dask backend for ``--scheduler``/``--dask-local``), or all in one process with
batched forward passes (``batch=True``, the GPU path, :mod:`~lithioscreen.interface.batch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from lithioscreen.interface import build, fit, relax
from lithioscreen.interface.build import InterfaceInputError


@dataclass(frozen=True)
class InterfaceSettings:
    """Everything that defines the protocol (recorded with each cached value)."""

    li_layers: tuple[int, ...] = build.DEFAULT_LI_LAYERS
    x_thickness_a: float = build.DEFAULT_X_THICKNESS_A
    max_strain: float = build.DEFAULT_MAX_STRAIN
    max_area_a2: float = build.DEFAULT_MAX_AREA_A2
    gap_a: float = build.DEFAULT_GAP_A
    fmax: float = relax.DEFAULT_FMAX
    steps: int = relax.DEFAULT_STEPS
    min_r2: float = fit.DEFAULT_MIN_R2

    def protocol(self) -> str:
        return (
            f"li_layers={'/'.join(map(str, self.li_layers))};x_min_a={self.x_thickness_a:g};max_strain={self.max_strain:g};"
            f"max_area_a2={self.max_area_a2:g};fmax={self.fmax:g};steps={self.steps}"
        )


@dataclass
class InterfaceResult:
    element: str
    plane: str
    calculator: str
    interfacial_energy_mev_per_a2: float = np.nan
    intercept_stderr_mev_per_a2: float = np.nan
    fit_r2: float = np.nan
    strain_energy_ev_per_li: float = np.nan
    li_strain: float = np.nan
    area_a2: float = np.nan
    n_x: int = 0
    n_li: list[int] = field(default_factory=list)
    excess_mev_per_a2: list[float] = field(default_factory=list)
    all_converged: bool = False
    relax_seconds: float = 0.0
    protocol: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def as_record(self) -> dict:
        return asdict(self)


class Progress:
    """Callbacks: ``stage(name, n_tasks)`` before each stage, ``done(result)`` per relaxation, and
    ``finished(result)`` per (metal, plane) as soon as its last relaxation is in and it is fitted (or
    has failed), so that a long run can store each value when it is known instead of at the end."""

    def stage(self, name: str, total: int) -> None:  # pragma: no cover - trivial
        pass

    def done(self, result: relax.RelaxResult) -> None:  # pragma: no cover - trivial
        pass

    def finished(self, result: InterfaceResult) -> None:  # pragma: no cover - trivial
        pass


class _FitEachWhenRelaxed(Progress):
    """Passes progress on, and fits each (metal, plane) the moment its thickness series is relaxed."""

    def __init__(self, progress: Progress, series: dict, fit_target):
        self.progress, self.fit_target = progress, fit_target
        self.waiting = {pair: set(built.li_layers) for pair, built in series.items()}
        self.relaxed: dict[tuple, relax.RelaxResult] = {}

    def stage(self, name: str, total: int) -> None:
        self.progress.stage(name, total)

    def done(self, result: relax.RelaxResult) -> None:
        self.progress.done(result)
        self.relaxed[result.key] = result
        _, element, plane, layers = result.key
        self.waiting[(element, plane)].discard(layers)
        if not self.waiting[(element, plane)]:
            self.progress.finished(self.fit_target(element, plane, self.relaxed))


def run_relaxations(
    tasks: Sequence[relax.RelaxTask],
    calculator="chgnet",
    device: str = "cpu",
    n_jobs: int = 1,
    batch: bool = False,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> dict[tuple, relax.RelaxResult]:
    """Run independent relaxations; ``calculator`` is a potential name or any ASE calculator."""
    progress = progress or Progress()
    results: dict[tuple, relax.RelaxResult] = {}
    if not tasks:
        return results
    if batch:
        if not isinstance(calculator, str):
            raise ValueError("batched relaxations need a named potential (chgnet or sevennet)")
        from lithioscreen.interface.batch import relax_batched
        from lithioscreen.interface.calculators import make_batched_potential

        potential = make_batched_potential(calculator, device, batch_size)
        for result in relax_batched(tasks, potential, progress=progress.done):
            results[result.key] = result
        return results
    from joblib import Parallel, delayed

    if isinstance(calculator, str):
        jobs = (delayed(relax.relax_named)(task, calculator, device) for task in tasks)
    else:
        jobs = (delayed(relax.relax)(task, calculator) for task in tasks)
    for result in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs):
        results[result.key] = result
        progress.done(result)
    return results


def validate_targets(targets: Sequence[tuple[str, str | None]]) -> list[tuple[str, str]]:
    """Normalise (element, plane) pairs; InterfaceInputError for an unknown element or plane."""
    normalised = []
    for element, plane in targets:
        pair = (element, build.normalize_plane(element, plane))
        if pair not in normalised:
            normalised.append(pair)
    return normalised


def compute_interfacial_energies(
    targets: Sequence[tuple[str, str | None]],
    calculator="chgnet",
    device: str = "cpu",
    settings: InterfaceSettings = InterfaceSettings(),
    n_jobs: int = 1,
    batch: bool = False,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> list[InterfaceResult]:
    """Interfacial energies of Li(100) against each (element, plane); plane None = close-packed.

    A target whose supercell cannot be built, or whose fit is refused, comes back with ``error``
    set (the others are unaffected). Unknown elements or planes raise InterfaceInputError first.
    ``progress.finished`` receives each result as soon as it is final.
    """
    progress = progress or Progress()
    pairs = validate_targets(targets)
    label = calculator if isinstance(calculator, str) else type(calculator).__name__.lower()
    run = dict(calculator=calculator, device=device, n_jobs=n_jobs, batch=batch, batch_size=batch_size)

    elements = ["Li", *sorted({element for element, _ in pairs} - {"Li"})]
    bulk_tasks = [
        relax.RelaxTask(("bulk", element), build.reference_bulk(element), "bulk", settings.fmax, settings.steps)
        for element in elements
    ]
    progress.stage("bulk", len(bulk_tasks))
    bulk = run_relaxations(bulk_tasks, **run, progress=progress)

    results: dict[tuple[str, str], InterfaceResult] = {}
    series: dict[tuple[str, str], build.InterfaceSeries] = {}
    interface_tasks = []
    for element, plane in pairs:
        result = InterfaceResult(element=element, plane=plane, calculator=label, protocol=settings.protocol())
        results[(element, plane)] = result
        if not all(bulk[("bulk", name)].converged for name in ("Li", element)):
            result.error = f"bulk relaxation of Li or {element} did not converge in {settings.steps} steps"
            progress.finished(result)
            continue
        try:
            built = build.build_series(
                bulk[("bulk", "Li")].atoms,
                bulk[("bulk", element)].atoms,
                element,
                plane,
                li_layers=settings.li_layers,
                x_thickness_a=settings.x_thickness_a,
                max_strain=settings.max_strain,
                max_area_a2=settings.max_area_a2,
                gap_a=settings.gap_a,
            )
        except InterfaceInputError as error:
            result.error = str(error)
            progress.finished(result)
            continue
        series[(element, plane)] = built
        result.area_a2, result.li_strain, result.n_x, result.n_li = (
            built.area_a2,
            built.li_strain,
            built.n_x,
            built.n_li,
        )
        for layers, atoms in zip(built.li_layers, built.structures, strict=True):
            interface_tasks.append(
                relax.RelaxTask(
                    ("interface", element, plane, layers), atoms, "interface", settings.fmax, settings.steps
                )
            )

    e_li = bulk[("bulk", "Li")].energy_ev / bulk[("bulk", "Li")].n_atoms

    def fit_target(element: str, plane: str, relaxed: dict) -> InterfaceResult:
        result, built = results[(element, plane)], series[(element, plane)]
        e_x = bulk[("bulk", element)].energy_ev / bulk[("bulk", element)].n_atoms
        runs = [relaxed[("interface", element, plane, layers)] for layers in built.li_layers]
        result.relax_seconds = float(sum(r.seconds for r in runs))
        result.all_converged = all(r.converged for r in runs)
        result.excess_mev_per_a2 = [
            fit.excess_energy_mev_per_a2(
                r.energy_ev, r.counts.get(element, 0), r.counts.get("Li", 0), e_x, e_li, built.area_a2
            )
            for r in runs
        ]
        if not result.all_converged:
            result.error = f"an interface relaxation did not converge in {settings.steps} steps (fmax {settings.fmax})"
            return result
        try:
            fitted = fit.fit_interfacial_energy(
                built.n_li, result.excess_mev_per_a2, built.area_a2, min_r2=settings.min_r2
            )
        except fit.PoorFitError as error:
            result.error = str(error)
            return result
        result.interfacial_energy_mev_per_a2 = fitted.interfacial_energy_mev_per_a2
        result.intercept_stderr_mev_per_a2 = fitted.intercept_stderr_mev_per_a2
        result.fit_r2 = fitted.r2
        result.strain_energy_ev_per_li = fitted.strain_energy_ev_per_li
        return result

    progress.stage("interfaces", len(interface_tasks))
    run_relaxations(interface_tasks, **run, progress=_FitEachWhenRelaxed(progress, series, fit_target))
    return [results[pair] for pair in pairs]
