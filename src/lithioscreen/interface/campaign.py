"""A request for interfacial energies: which to reuse from the cache, which to compute, and the table of both.

``lithioscreen interface`` is this module behind a command line. A request names materials (or
every default metal), a plane (or all of a crystal's low-index planes), potentials and the protocol
settings; :func:`plan_targets` turns it into (material, plane) pairs and :func:`run_campaign`
answers it per potential:

- a value cached under the same protocol (``data/interfacial_energies.csv``, method
  ``mlip:<potential>``) is reused unless ``force``;
- the missing ones are computed (:func:`lithioscreen.interface.workflow.compute_interfacial_energies`)
  and, with ``write``, each is stored the moment it is fitted, so an interrupted run keeps what
  it finished;
- with ``verify``, only cached values are recomputed under the protocol they record and compared;
  nothing is written.

Without the ``mlip`` extra (no ASE), cached values can still be listed: the planes then come from
the cache instead of from the crystal structure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from lithioscreen.interface.build import InterfaceInputError
from lithioscreen.interface.protocol import InterfaceSettings

MLIP_EXTRA_HINT = "install the extra: pip install -e '.[mlip]'"
#: The word that names the whole committee (:data:`lithioscreen.interface.calculators.COMMITTEE`).
COMMITTEE_NAME = "committee"


class MlipExtraMissingError(InterfaceInputError):
    """The request needs ASE and the potentials (the ``mlip`` extra), which are not installed."""


@dataclass(frozen=True)
class Execution:
    """Where the relaxations run.

    Attributes
    ----------
    n_jobs : int
        Local joblib worker processes (-1: one per core); above 1, batching is off by default.
    scheduler : str or None
        The address of a running Dask scheduler (``tcp://HOST:PORT``).
    dask_local : int or None
        Start a local Dask cluster with this many workers.
    batch : bool or None
        Batched lockstep relaxations in one process; None: on unless ``n_jobs`` > 1 or Dask.
    batch_size : int
        Structures per forward pass when batched.
    """

    n_jobs: int = 1
    scheduler: str | None = None
    dask_local: int | None = None
    batch: bool | None = None
    batch_size: int = 32

    def __post_init__(self):
        if self.n_jobs == 0 or self.batch_size < 1:
            raise InterfaceInputError("`n_jobs` must not be 0 and `batch_size` must be positive")
        if self.uses_dask and self.batch:
            raise InterfaceInputError(
                "`batch` runs in one process; it cannot be combined with `scheduler` or `dask_local`"
            )

    @property
    def uses_dask(self) -> bool:
        """Whether the relaxations go to a Dask cluster."""
        return bool(self.scheduler or self.dask_local)

    @property
    def batched(self) -> bool:
        """Whether the relaxations run batched in this process."""
        return (self.n_jobs == 1 and not self.uses_dask) if self.batch is None else self.batch


@dataclass
class CampaignReport:
    """What :func:`run_campaign` found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (potential, target): the value, its fit, ``cached`` and ``error``; with
        ``verify``, also ``cached_mev_per_a2``, ``difference_mev_per_a2`` and ``reproduced``.
    stored : dict
        The number of values stored per potential.
    verify_failed : bool
        With ``verify``: a recomputed value failed or differs from the cached one.
    """

    table: pd.DataFrame
    stored: dict[str, int] = field(default_factory=dict)
    verify_failed: bool = False

    @property
    def failures(self) -> pd.DataFrame:
        """The rows whose calculation failed."""
        if "error" not in self.table:
            return self.table.iloc[0:0]
        return self.table[self.table["error"].astype(bool)]


def expand_calculators(names: Sequence[str] | None) -> list[str]:
    """The potentials a request names, in order, without repeats; ``committee`` stands for all its members.

    Parameters
    ----------
    names : sequence of str or None
        Names, each possibly a comma-separated list; None or empty: ``chgnet``.

    Returns
    -------
    list of str

    Raises
    ------
    InterfaceInputError
        On a name that is not a potential.
    """
    from lithioscreen.interface.calculators import CALCULATORS, COMMITTEE

    given = [name.strip() for text in (names or ["chgnet"]) for name in text.split(",") if name.strip()]
    expanded = [member for name in given for member in (COMMITTEE if name == COMMITTEE_NAME else (name,))]
    for name in expanded:
        if name not in CALCULATORS:
            raise InterfaceInputError(
                f"unknown calculator {name!r}: choose from {', '.join(CALCULATORS)} or {COMMITTEE_NAME}"
            )
    return list(dict.fromkeys(expanded)) or ["chgnet"]


def settings_for(protocol: str | None = None, **changes) -> InterfaceSettings:
    """The protocol settings of a request: a recorded protocol string, or the defaults with ``changes``.

    Parameters
    ----------
    protocol : str or None
        A recorded protocol string (the data file's ``protocol`` column); it fixes every setting.
    **changes
        Settings of :class:`~lithioscreen.interface.protocol.InterfaceSettings` to change (None: keep).

    Returns
    -------
    InterfaceSettings

    Raises
    ------
    InterfaceInputError
        When a protocol and changes are both given, or the Li thickness series cannot be fitted.
    lithioscreen.interface.protocol.ProtocolError
        On a protocol string that is not a v2 or v3 protocol, or an unknown ``version``.
    """
    changes = {key: value for key, value in changes.items() if value is not None}
    if protocol and changes:
        raise InterfaceInputError(
            f"`protocol` fixes every setting; drop {', '.join('`' + key + '`' for key in changes)}"
        )
    settings = InterfaceSettings.from_protocol(protocol) if protocol else InterfaceSettings().replace(**changes)
    if len(set(settings.li_layers)) < 2 or min(settings.li_layers) < 1:
        raise InterfaceInputError(
            f"`li_layers` {'/'.join(map(str, settings.li_layers))}: the intercept needs at least two (three for "
            "an error bar) different positive thicknesses"
        )
    if settings.fmax <= 0 or settings.steps < 1:
        raise InterfaceInputError("`fmax` and `steps` must be positive")
    return settings


def default_metals(phase_data: pd.DataFrame | None = None) -> tuple[list[str], list[str]]:
    """The default candidate metals the builder can handle, and those it cannot.

    Parameters
    ----------
    phase_data : pandas.DataFrame or None
        The phase-data table; None: the data folder's.

    Returns
    -------
    metals, skipped : list of str
        Metals with a bcc, fcc or hcp reference state in ASE, and the rest.
    """
    from lithioscreen.data import load_phase_data
    from lithioscreen.interface.build import crystal_structure

    phase_data = load_phase_data() if phase_data is None else phase_data
    metals, skipped = [], []
    for element in phase_data["element"]:
        try:
            crystal_structure(element)
        except InterfaceInputError:
            skipped.append(element)
        else:
            metals.append(element)
    return metals, skipped


def plan_targets(
    materials: Sequence[str],
    plane: str,
    *,
    calculators: Sequence[str],
    settings: InterfaceSettings,
    table: pd.DataFrame,
    needs_mlip: bool = False,
) -> list[tuple[str, str]]:
    """The (material, plane) pairs of a request.

    Parameters
    ----------
    materials : sequence of str
        Metals or reference compounds (``LiF``, ``Li2S``).
    plane : str
        An X plane (``110``, ``0001``, ...) or ``all``: every low-index plane of the crystal.
    calculators : sequence of str
        The potentials (for the cache lookup without ASE).
    settings : InterfaceSettings
        The protocol (for the cache lookup without ASE).
    table : pandas.DataFrame
        The interfacial-energy table.
    needs_mlip : bool
        The request computes something (``force``, ``verify``), so ASE is required.

    Returns
    -------
    list of (str, str)

    Raises
    ------
    InterfaceInputError
        On an unknown material or plane.
    MlipExtraMissingError
        Without ASE, when ``needs_mlip`` or a material has no cached value under the protocol.
    """
    from lithioscreen.interface import build

    materials = list(dict.fromkeys(materials))
    try:
        targets = []
        for material in materials:
            planes = build.planes_for(material) if plane == "all" else (build.normalize_plane(material, plane),)
            targets += [(material, p) for p in planes]
        return targets
    except ImportError as error:  # no ASE: a crystal's planes are unknown, cached values still print
        if needs_mlip:
            raise MlipExtraMissingError(f"computing needs the 'mlip' extra ({error}); {MLIP_EXTRA_HINT}") from None
        return _cached_targets(materials, plane, calculators, table, settings.protocol())


def _cached_targets(materials, plane, calculators, table, protocol) -> list[tuple[str, str]]:
    """Without ASE: the cached (material, plane) pairs of ``calculators`` under ``protocol``."""
    from lithioscreen.interface.cache import method_for

    wanted = None if plane in (None, "all") else "".join(ch for ch in str(plane) if ch.isdigit() or ch == "-")
    wanted = "0001" if wanted == "001" else wanted
    targets = []
    for material in materials:
        rows = table[
            (table["material"] == material)
            & table["method"].isin([method_for(name) for name in calculators])
            & (table["protocol"].astype(str) == protocol)
        ]
        planes = [label.strip("()") for label in dict.fromkeys(rows["x_plane"])]
        planes = [p for p in planes if wanted is None or p == wanted]
        if not planes:
            raise MlipExtraMissingError(
                f"{material}: no cached value under the current protocol; computing one needs the 'mlip' extra "
                f"(ASE, torch, the potentials): {MLIP_EXTRA_HINT}"
            )
        targets += [(material, p) for p in planes]
    return targets


def run_campaign(
    targets: Sequence[tuple[str, str]],
    calculators: Sequence[str],
    settings: InterfaceSettings,
    *,
    table: pd.DataFrame,
    device: str = "cpu",
    execution: Execution = Execution(),
    force: bool = False,
    verify: bool = False,
    verify_tolerance_mev_per_a2: float = 0.05,
    write: bool = True,
    progress_for: Callable[[str], object] | None = None,
    on_cluster: Callable[[object], None] | None = None,
) -> CampaignReport:
    """Reuse, compute (and store) or verify the interfacial energy of every target with every potential.

    Parameters
    ----------
    targets : sequence of (str, str)
        (material, plane) pairs (:func:`plan_targets`).
    calculators : sequence of str
        The potentials (:func:`expand_calculators`).
    settings : InterfaceSettings
        The protocol.
    table : pandas.DataFrame
        The interfacial-energy table (the cache).
    device : str
        ``cpu`` or ``cuda``.
    execution : Execution
        Where the relaxations run.
    force : bool
        Recompute cached values too.
    verify : bool
        Recompute only cached values, compare them and write nothing.
    verify_tolerance_mev_per_a2 : float
        The largest |recomputed - cached| that ``verify`` accepts, meV/Å².
    write : bool
        Store new values in the data folder's ``interfacial_energies.csv``.
    progress_for : callable or None
        ``progress_for(potential)`` returns a :class:`~lithioscreen.interface.workflow.Progress` to show
        a computation; None: silent.
    on_cluster : callable or None
        Called with the ``distributed.Client`` when a Dask cluster is used.

    Returns
    -------
    CampaignReport

    Raises
    ------
    InterfaceInputError
        With ``verify``, when a potential has no cached value for these targets.
    lithioscreen.interface.calculators.PotentialUnavailableError
        When a potential (or the device) is not usable here and something must be computed.
    """
    from lithioscreen.interface import cache
    from lithioscreen.interface.calculators import check_available, software_versions

    recorded = settings.protocol()
    rows, stored, verify_failed = [], {}, False
    for name in calculators:
        cached = {target: cache.find_cached(table, target[0], name, target[1], recorded) for target in targets}
        if verify:
            todo = [target for target in targets if cached[target] is not None]
            if not todo:
                raise InterfaceInputError(
                    f"`verify`: no cached {cache.method_for(name)} value under protocol {recorded!r} for these targets"
                )
        else:
            todo = [target for target in targets if force or cached[target] is None]
        computed = {}
        if todo:
            check_available(name, device)
            versions = software_versions(name)
            store = (lambda result, v=versions: cache.write_results([result], v)) if write and not verify else None
            progress = progress_for(name) if progress_for is not None else None
            results = _compute(todo, name, device, settings, execution, _Storing(progress, store), on_cluster)
            computed = {(result.element, result.plane): result for result in results}
            if store is not None:
                stored[name] = sum(result.ok for result in results)
        for target in targets:
            row, result = cached[target], computed.get(target)
            if verify:
                if row is None:
                    continue
                new = _result_row(result, name)
                difference = new["interfacial_energy_mev_per_a2"] - float(row["interfacial_energy_mev_per_a2"])
                reproduced = bool(result.ok and abs(difference) <= verify_tolerance_mev_per_a2)
                verify_failed |= not reproduced
                rows.append(
                    new
                    | {
                        "cached_mev_per_a2": float(row["interfacial_energy_mev_per_a2"]),
                        "difference_mev_per_a2": difference,
                        "reproduced": reproduced,
                    }
                )
            else:
                rows.append(_result_row(result, name) if result is not None else _cached_row(row))
    return CampaignReport(pd.DataFrame(rows), stored, verify_failed)


class _Storing:
    """Shows progress (when asked) and stores each value the moment it is fitted."""

    def __init__(self, progress, store):
        from lithioscreen.interface.workflow import Progress

        self.progress, self.store = progress or Progress(), store

    def stage(self, name, total):
        self.progress.stage(name, total)

    def done(self, result):
        self.progress.done(result)

    def finished(self, result):
        self.progress.finished(result)
        if self.store is not None and result.ok:
            self.store(result)


def _compute(todo, calculator, device, settings, execution: Execution, progress, on_cluster):
    from lithioscreen.interface import workflow
    from lithioscreen.interface.parallel import execution as dask_execution

    with dask_execution(execution.scheduler, execution.dask_local) as client:
        if client is not None and on_cluster is not None:
            on_cluster(client)
        return workflow.compute_interfacial_energies(
            todo,
            calculator,
            device,
            settings,
            n_jobs=-1 if client is not None else execution.n_jobs,
            batch=execution.batched,
            batch_size=execution.batch_size,
            progress=progress,
        )


def _result_row(result, calculator: str) -> dict:
    from lithioscreen.interface import build, cache

    return {
        "element": result.element,
        "x_plane": build.plane_label(result.plane),
        "method": cache.method_for(calculator),
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


def _cached_row(row: pd.Series) -> dict:
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
