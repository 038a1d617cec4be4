"""From (material, plane) pairs to fitted Li interfacial energies (protocol v2).

Four stages; the relaxations are independent tasks (the unit of parallel work):

1. bulk: Li and every material X, atoms and cell relaxed with the potential (its own lattice
   constants and bulk energies; memoised per process, so a run plane by plane relaxes each bulk
   once);
2. registry: for each (X, plane), the supercell and X slab (:class:`~lithioscreen.interface.build.InterfaceDesign`)
   and single-point energies of every termination x lateral shift with the thinnest Li slab,
   unrelaxed, in one batch; the lowest excess energy per area wins (protocol v3: the lowest of
   each non-equivalent Li orientation);
3. interfaces: the Li(100)/X sandwiches of the thickness series at that registry, relaxed (atoms
   and cell length along the normal);
4. fit: the excess energy versus N_Li, intercept = interfacial energy, accepted on its standard
   error (:mod:`~lithioscreen.interface.fit`); every relaxation records the Li film's atomic
   planes before and after (v3 refuses a series whose film reconstructed and keeps the lowest
   accepted orientation).

Relaxations run through joblib (``n_jobs`` processes, or whatever backend is active: the CLI
activates joblib's Dask backend for ``--scheduler``/``--dask-local``), or all in one process with
batched forward passes in lockstep (``batch=True``, :mod:`~lithioscreen.interface.batch`; faster on
CPU too).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from lithioscreen.interface import build, fit, relax
from lithioscreen.interface.build import InterfaceInputError
from lithioscreen.interface.protocol import InterfaceSettings

__all__ = [
    "InterfaceInputError",
    "InterfaceResult",
    "InterfaceSettings",
    "Progress",
    "compute_interfacial_energies",
    "run_relaxations",
]


@dataclass
class InterfaceResult:
    element: str  # the material X
    plane: str
    calculator: str
    interfacial_energy_mev_per_a2: float = np.nan
    intercept_stderr_mev_per_a2: float = np.nan
    fit_r2: float = np.nan
    residual_rms_mev_per_a2: float = np.nan
    strain_energy_ev_per_li: float = np.nan
    li_strain: float = np.nan
    area_a2: float = np.nan
    n_x: int = 0  # atoms of the X slab
    x_formula_units: float = 0.0
    x_layers: int = 0
    n_li: list[int] = field(default_factory=list)
    excess_mev_per_a2: list[float] = field(default_factory=list)
    termination: str = ""
    offset: list[float] = field(default_factory=list)  # Li shift over X, fractions of the supercell vectors
    offset_x_cell: list[float] = field(default_factory=list)  # the same, fractions of X's surface cell
    registry_candidates: int = 0
    registry_excess_range_mev_per_a2: list[float] = field(default_factory=list)  # lowest, highest unrelaxed
    supercell_rank: int = 0
    supercell_variant: int = 0  # which of the rank's equal-strain, equal-area supercells won the scan
    supercell_variants: int = 1
    li_film_planes: list[list[int]] = field(default_factory=list)  # [unrelaxed, relaxed] per Li thickness
    li_film_kept: list[bool] = field(default_factory=list)  # per Li thickness: build.li_film_kept
    li_film_heights_a: list = field(default_factory=list)  # per Li thickness: [unrelaxed, relaxed] film heights
    orientations: list[dict] = field(default_factory=list)  # v3: every relaxed orientation's outcome
    all_converged: bool = False
    steps: list[int] = field(default_factory=list)
    relax_seconds: float = 0.0  # sum over the series' relaxations (elapsed when batched)
    registry_seconds: float = 0.0
    protocol: str = ""
    error: str = ""
    refused: str = ""  # '', 'build', 'bulk_not_converged', 'not_converged', 'li_reconstructed', 'fit'

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
        self.waiting = {
            pair: {(layers, variant) for variant, built in by_variant.items() for layers in built.li_layers}
            for pair, by_variant in series.items()
        }
        self.relaxed: dict[tuple, relax.RelaxResult] = {}

    def stage(self, name: str, total: int) -> None:
        self.progress.stage(name, total)

    def done(self, result: relax.RelaxResult) -> None:
        self.progress.done(result)
        self.relaxed[result.key] = result
        _, element, plane, layers, variant = result.key
        self.waiting[(element, plane)].discard((layers, variant))
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


#: relaxed bulk crystals per (calculator, device, material, fmax, steps): one relaxation per process
_BULK_MEMO: dict[tuple, relax.RelaxResult] = {}
#: bulk crystals relax to fmax / 5: at 0.05 eV/Å the stress criterion (stress x volume) of a 2-atom
#: Li cell still allows ~0.3 GPa, ~2 % strain of soft Li; the bulk cells are tiny, so tighter is cheap
BULK_FMAX_FACTOR = 0.2


def _bulk(elements, calculator, run, settings, progress) -> dict[tuple, relax.RelaxResult]:
    label = calculator if isinstance(calculator, str) else None
    memo_key = lambda element: (label, run["device"], element, settings.fmax, settings.steps)  # noqa: E731
    tasks = [
        relax.RelaxTask(
            ("bulk", element), build.reference_bulk(element), "bulk", settings.fmax * BULK_FMAX_FACTOR, settings.steps
        )
        for element in elements
        if label is None or memo_key(element) not in _BULK_MEMO
    ]
    progress.stage("bulk", len(tasks))
    done = run_relaxations(tasks, **run, progress=progress)
    if label is not None:
        for key, result in done.items():
            _BULK_MEMO[memo_key(key[1])] = result
        return {("bulk", element): _BULK_MEMO[memo_key(element)] for element in elements}
    return done


#: structures per forward pass of the registry scan on the CPU (memory grows with the batch; speed does not)
CPU_SCAN_BATCH = 4


def single_point_energies(
    structures: Sequence, calculator="chgnet", device: str = "cpu", batch: bool = True, batch_size: int = 32
) -> list[float]:
    """Potential energies (eV) of unrelaxed structures: batched passes for a named potential."""
    if not structures:
        return []
    if isinstance(calculator, str):
        if batch:
            from lithioscreen.interface.calculators import make_batched_potential

            size = min(batch_size, CPU_SCAN_BATCH) if device == "cpu" else batch_size
            return make_batched_potential(calculator, device, size).energies(list(structures))
        from lithioscreen.interface.calculators import make_calculator

        calculator = make_calculator(calculator, device)
    energies = []
    for atoms in structures:
        atoms = atoms.copy()
        atoms.calc = calculator
        energies.append(float(atoms.get_potential_energy()))
    return energies


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
    """Interfacial energies of Li(100) against each (material, plane); plane None = the first plane.

    A target whose supercell cannot be built, whose relaxations do not converge or whose fit is
    refused comes back with ``error`` (and ``refused``) set; the others are unaffected. Unknown
    materials or planes raise InterfaceInputError first. ``progress.finished`` receives each result
    as soon as it is final.
    """
    progress = progress or Progress()
    pairs = validate_targets(targets)
    label = calculator if isinstance(calculator, str) else type(calculator).__name__.lower()
    run = dict(calculator=calculator, device=device, n_jobs=n_jobs, batch=batch, batch_size=batch_size)

    elements = ["Li", *sorted({element for element, _ in pairs} - {"Li"})]
    bulk = _bulk(elements, calculator, run, settings, progress)
    e_li = bulk[("bulk", "Li")].energy_ev / bulk[("bulk", "Li")].n_atoms

    def e_x_per_unit(element: str) -> float:
        result = bulk[("bulk", element)]
        atoms_per_unit = sum(build.formula_unit(element).values())
        return result.energy_ev / (result.n_atoms / atoms_per_unit)

    def excess(energy_ev, x_counts, n_li, element, area) -> float:
        # X slab in formula units (atoms for a metal); n_li counts only the Li slab
        symbol, per_unit = next(iter(build.formula_unit(element).items()))
        return fit.excess_energy_mev_per_a2(
            energy_ev, x_counts.get(symbol, 0) / per_unit, n_li, e_x_per_unit(element), e_li, area
        )

    results: dict[tuple[str, str], InterfaceResult] = {}
    designs: dict[tuple[str, str], build.InterfaceDesign] = {}
    scans: dict[tuple[str, str], list] = {}
    for element, plane in pairs:
        result = InterfaceResult(
            element=element,
            plane=plane,
            calculator=label,
            protocol=settings.protocol(),
            supercell_rank=settings.supercell_rank,
        )
        results[(element, plane)] = result
        if not all(bulk[("bulk", name)].converged for name in ("Li", element)):
            result.error, result.refused = (
                f"bulk relaxation of Li or {element} did not converge in {settings.steps} steps",
                "bulk_not_converged",
            )
            progress.finished(result)
            continue
        try:
            design = build.InterfaceDesign(
                bulk[("bulk", "Li")].atoms,
                bulk[("bulk", element)].atoms,
                element,
                plane,
                x_layers=settings.x_layers,
                max_strain=settings.max_strain,
                max_area_a2=settings.max_area_a2,
                supercell_rank=settings.supercell_rank,
                gap_a=settings.gap_a,
            )
            scans[(element, plane)] = design.registry_candidates(min(settings.li_layers), settings.registry_grid)
        except InterfaceInputError as error:
            result.error, result.refused = str(error), "build"
            progress.finished(result)
            continue
        designs[(element, plane)] = design
        result.area_a2, result.li_strain, result.x_layers = design.area_a2, design.li_strain, design.x_layers

    # stage 2: the registry scan, unrelaxed single points of every candidate in one batch
    flat = [(pair, candidate) for pair, candidates in scans.items() for candidate in candidates]
    progress.stage("registry", len(flat))
    start = time.perf_counter()
    energies = single_point_energies(
        [candidate.atoms for _, candidate in flat],
        calculator,
        device,
        batch=True if isinstance(calculator, str) else False,
        batch_size=batch_size,
    )
    scan_seconds = time.perf_counter() - start
    scanned: dict[tuple[str, str], list[tuple[float, object]]] = {}
    for (pair, candidate), energy in zip(flat, energies, strict=True):
        value = excess(energy, candidate.x_counts, candidate.n_li, pair[0], designs[pair].area_a2)
        if np.isfinite(value):
            scanned.setdefault(pair, []).append((float(value), candidate))

    series: dict[tuple[str, str], dict[int, build.InterfaceSeries]] = {}
    picked: dict[tuple[str, str], dict[int, tuple[float, object]]] = {}  # variant -> (unrelaxed, candidate)
    interface_tasks = []
    for pair, design in designs.items():
        result = results[pair]
        if pair not in scanned:
            result.error, result.refused = "the potential returned no finite energy for any registry", "build"
            progress.finished(result)
            continue
        picks = registry_picks(scanned[pair], settings.every_orientation)
        values = [value for value, _ in scanned[pair]]
        result.registry_candidates = len(values)
        result.registry_excess_range_mev_per_a2 = [float(min(values)), float(max(values))]
        result.registry_seconds = scan_seconds * len(values) / max(len(flat), 1)
        result.supercell_variants = len(design.variants)
        series[pair], picked[pair] = {}, {}
        for value, candidate in picks:
            built = design.series(settings.li_layers, candidate.termination, candidate.offset, candidate.variant)
            series[pair][candidate.variant], picked[pair][candidate.variant] = built, (value, candidate)
            for layers, atoms in zip(built.li_layers, built.structures, strict=True):
                interface_tasks.append(
                    relax.RelaxTask(
                        ("interface", pair[0], pair[1], layers, candidate.variant),
                        atoms,
                        "interface",
                        settings.fmax,
                        settings.steps,
                    )
                )
        # the lowest unrelaxed pick describes the result until the fit says otherwise (v3)
        _describe(result, series[pair][picks[0][1].variant], picks[0][1])

    def fit_series(element: str, plane: str, variant: int, relaxed: dict) -> InterfaceResult:
        """The fit of one orientation's series, as a result of its own."""
        built = series[(element, plane)][variant]
        result = InterfaceResult(element=element, plane=plane, calculator=label, protocol=settings.protocol())
        runs = [relaxed[("interface", element, plane, layers, variant)] for layers in built.li_layers]
        result.relax_seconds = float(sum(r.seconds for r in runs)) if not batch else float(max(r.seconds for r in runs))
        result.all_converged = all(r.converged for r in runs)
        result.steps = [int(r.steps) for r in runs]
        result.excess_mev_per_a2 = [
            excess(r.energy_ev, built.x_counts, n_li, element, built.area_a2)
            for r, n_li in zip(runs, built.n_li, strict=True)
        ]
        relaxed_films = [_with_film(r.atoms, atoms) for atoms, r in zip(built.structures, runs, strict=True)]
        result.li_film_planes = [
            [build.li_film_planes(atoms), build.li_film_planes(film)]
            for atoms, film in zip(built.structures, relaxed_films, strict=True)
        ]
        result.li_film_kept = [
            build.li_film_kept(atoms, film) for atoms, film in zip(built.structures, relaxed_films, strict=True)
        ]
        result.li_film_heights_a = [
            [np.round(build.li_film_heights(atoms), 3).tolist(), np.round(build.li_film_heights(film), 3).tolist()]
            for atoms, film in zip(built.structures, relaxed_films, strict=True)
        ]
        if not result.all_converged:
            result.error, result.refused = (
                f"an interface relaxation did not converge in {settings.steps} steps (fmax {settings.fmax})",
                "not_converged",
            )
            return result
        if settings.every_orientation and not all(result.li_film_kept):
            result.error, result.refused = (
                "the Li film reconstructed on relaxation (its atoms left their atomic planes; planes unrelaxed -> "
                "relaxed: "
                + ", ".join(f"{before}->{after}" for before, after in result.li_film_planes)
                + "): not the coherent Li(100) film",
                "li_reconstructed",
            )
            return result
        try:
            fitted = fit.fit_interfacial_energy(
                built.n_li,
                result.excess_mev_per_a2,
                built.area_a2,
                max_stderr_mev_per_a2=settings.max_stderr_mev_per_a2,
            )
        except fit.PoorFitError as error:
            result.error, result.refused = str(error), "fit"
            return result
        result.interfacial_energy_mev_per_a2 = fitted.interfacial_energy_mev_per_a2
        result.intercept_stderr_mev_per_a2 = fitted.intercept_stderr_mev_per_a2
        result.fit_r2 = fitted.r2
        result.residual_rms_mev_per_a2 = fitted.residual_rms_mev_per_a2
        result.strain_energy_ev_per_li = fitted.strain_energy_ev_per_li
        return result

    def fit_target(element: str, plane: str, relaxed: dict) -> InterfaceResult:
        result = results[(element, plane)]
        fitted = {variant: fit_series(element, plane, variant, relaxed) for variant in series[(element, plane)]}
        if settings.every_orientation:
            result.orientations = [
                {
                    "variant": variant,
                    "unrelaxed_mev_per_a2": picked[(element, plane)][variant][0],
                    "interfacial_energy_mev_per_a2": one.interfacial_energy_mev_per_a2,
                    "intercept_stderr_mev_per_a2": one.intercept_stderr_mev_per_a2,
                    "excess_mev_per_a2": one.excess_mev_per_a2,
                    "li_film_planes": one.li_film_planes,
                    "li_film_kept": one.li_film_kept,
                    "li_film_heights_a": one.li_film_heights_a,
                    "refused": one.refused,
                }
                for variant, one in fitted.items()
            ]
        accepted = [variant for variant, one in fitted.items() if one.ok]
        # the lowest accepted γ (v3), or the only series (v2); with none accepted, the lowest unrelaxed one's refusal
        variant = (
            min(accepted, key=lambda v: fitted[v].interfacial_energy_mev_per_a2) if accepted else next(iter(fitted))
        )
        for name in _FIT_FIELDS:
            setattr(result, name, getattr(fitted[variant], name))
        _describe(result, series[(element, plane)][variant], picked[(element, plane)][variant][1])
        result.relax_seconds = float(sum(one.relax_seconds for one in fitted.values()))
        return result

    progress.stage("interfaces", len(interface_tasks))
    run_relaxations(interface_tasks, **run, progress=_FitEachWhenRelaxed(progress, series, fit_target))
    return [results[pair] for pair in pairs]


#: what one orientation's fit decides (copied to the result from the orientation kept)
_FIT_FIELDS = (
    "interfacial_energy_mev_per_a2",
    "intercept_stderr_mev_per_a2",
    "fit_r2",
    "residual_rms_mev_per_a2",
    "strain_energy_ev_per_li",
    "excess_mev_per_a2",
    "li_film_planes",
    "li_film_kept",
    "li_film_heights_a",
    "all_converged",
    "steps",
    "error",
    "refused",
)

#: single points closer than this (meV/Å²) are one orientation seen twice (symmetry-equivalent)
EQUIVALENT_ORIENTATION_MEV_PER_A2 = 0.01


def registry_picks(scanned: Sequence[tuple[float, object]], every_orientation: bool) -> list[tuple[float, object]]:
    """The registries to relax from the scan's (unrelaxed excess, candidate) pairs, lowest first:
    the lowest overall (v2), or the lowest of each orientation (``candidate.variant``) whose lowest
    is not equal to an earlier one's (v3). Ties keep the first candidate (no shift, first termination)."""
    best: dict[int, tuple[float, object]] = {}
    for value, candidate in scanned:
        if candidate.variant not in best or value < best[candidate.variant][0]:
            best[candidate.variant] = (value, candidate)
    ranked = sorted(best.values(), key=lambda pick: pick[0])
    if not every_orientation:
        return ranked[:1]
    picks: list[tuple[float, object]] = []
    for value, candidate in ranked:
        if all(abs(value - kept) > EQUIVALENT_ORIENTATION_MEV_PER_A2 for kept, _ in picks):
            picks.append((value, candidate))
    return picks


def _describe(result: InterfaceResult, built: build.InterfaceSeries, candidate) -> None:
    """Copy the registry and cell of the series and its scan candidate into the result."""
    result.termination, result.offset = built.termination, list(built.offset)
    result.offset_x_cell = list(candidate.offset_x_cell)
    result.supercell_variant, result.li_strain = built.supercell_variant, built.li_strain
    result.n_x, result.x_formula_units, result.n_li = built.n_x, built.x_formula_units, built.n_li


def _with_film(relaxed_atoms, unrelaxed_atoms):
    """The relaxed structure with the film's atom list of the unrelaxed one (ASE keeps the order)."""
    atoms = relaxed_atoms.copy()
    atoms.info[build.FILM_INDICES] = unrelaxed_atoms.info[build.FILM_INDICES]
    return atoms
