"""Computed interfacial energies live in ``data/interfacial_energies.csv`` next to the paper's values.

One row per (material, ``mlip:<model>``, Li plane, X plane, protocol), ``value_kind`` ``exact``,
with the fit's R², the intercept's standard error, the Li strain, the package versions and the
protocol string, and provenance ``doi`` empty, ``source_figure`` naming this code,
``value_origin`` ``computed_mlip``; the registry, termination, X slab and the fitted points are in
``notes``. Rows of another protocol are never replaced (they stay as provenance) and never
returned as the cached value of the current one. A cached row is reused (no recomputation) unless
the caller forces it. Writes are atomic and
serialised: under an exclusive lock (``.interfacial_energies.csv.lock`` beside the file, so that
two runs storing at once do not lose each other's rows) the file is read again, the new table is
validated against the file's schema, written to a temporary file in the same folder and renamed
over the old one, so a crash or a bad row never leaves a half-written file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from lithioscreen import config
from lithioscreen.interface.build import LI_PLANE, material_class, plane_label
from lithioscreen.interface.protocol import current_protocol

SOURCE = "computed here: lithioscreen interface (src/lithioscreen/interface)"


def method_for(calculator: str) -> str:
    return f"mlip:{calculator}"


def interfacial_energies_path() -> Path:
    return config.data_dir() / config.INTERFACIAL_ENERGIES_FILE


def _path(path: Path | str | None) -> Path:
    return Path(path) if path is not None else interfacial_energies_path()


def find_cached(
    table: pd.DataFrame, element: str, calculator: str, plane: str, protocol: str | None = None
) -> pd.Series | None:
    """The cached row for Li(100)/element(plane) computed with ``calculator`` under ``protocol``
    (default: the current protocol), or None."""
    protocol = current_protocol() if protocol is None else protocol
    rows = table[
        (table["material"] == element)
        & (table["method"] == method_for(calculator))
        & (table["li_plane"] == plane_label(LI_PLANE))
        & (table["x_plane"] == plane_label(plane))
        & (table["protocol"].astype(str) == protocol)
    ]
    return None if rows.empty else rows.iloc[-1]


def result_row(result, software_versions: str) -> dict[str, str]:
    """A CSV row (text cells) for a successful :class:`~lithioscreen.interface.workflow.InterfaceResult`."""
    if not result.ok:
        raise ValueError(f"{result.element}({result.plane}): not cached, the calculation failed: {result.error}")
    value = f"{result.interfacial_energy_mev_per_a2:.3f}"
    points = ", ".join(f"{n}:{y:.2f}" for n, y in zip(result.n_li, result.excess_mev_per_a2, strict=True))
    registry = (
        f"registry: termination {result.termination}, Li shift {result.offset_x_cell[0]:.3f},{result.offset_x_cell[1]:.3f} of the X surface cell "
        f"(lowest of {result.registry_candidates} unrelaxed: {result.registry_excess_range_mev_per_a2[0]:.2f} to {result.registry_excess_range_mev_per_a2[1]:.2f} meV/A2); "
        if result.termination
        else ""
    )
    film = (
        " Li film atomic planes unrelaxed->relaxed: "
        + ", ".join(f"{before}->{after}" for before, after in result.li_film_planes)
        + (
            "; every atom stayed in its plane."
            if all(result.li_film_kept)
            else "; atoms left their planes (reconstructed) at "
            + ", ".join(str(n) for n, kept in zip(result.n_li, result.li_film_kept, strict=True) if not kept)
            + " Li."
        )
        if result.li_film_planes
        else ""
    )
    orientations = (
        " Orientations relaxed (v3): "
        + "; ".join(
            f"variant {o['variant'] + 1} (unrelaxed {o['unrelaxed_mev_per_a2']:.2f}): "
            + (o["refused"] or f"{o['interfacial_energy_mev_per_a2']:.2f}")
            for o in result.orientations
        )
        + "."
        if result.orientations
        else ""
    )
    return {
        "material": result.element,
        "material_class": material_class(result.element),
        "method": method_for(result.calculator),
        "li_plane": plane_label(LI_PLANE),
        "x_plane": plane_label(result.plane),
        "value_kind": "exact",
        "interfacial_energy_mev_per_a2": value,
        "lower_mev_per_a2": value,
        "upper_mev_per_a2": value,
        "doi": "",
        "source_figure": SOURCE,
        "value_origin": "computed_mlip",
        "notes": (
            f"Intercept of the excess energy vs N_Li (meV/A2 per N_Li: {points}); interface area {result.area_a2:.2f} A2, "
            f"{result.n_x} X atoms in {result.x_layers} atomic planes; {registry}supercell rank {result.supercell_rank} "
            f"(variant {result.supercell_variant + 1} of {result.supercell_variants}); "
            f"Li strain energy {result.strain_energy_ev_per_li * 1000:.1f} meV/Li atom.{film}{orientations}"
        ),
        "li_strain_pct": f"{100 * result.li_strain:.2f}",
        "fit_r2": f"{result.fit_r2:.4f}",
        "intercept_stderr_mev_per_a2": f"{result.intercept_stderr_mev_per_a2:.3f}",
        "software_versions": software_versions,
        "protocol": result.protocol,
    }


def write_results(
    results: Sequence, software_versions: str, path: Path | str | None = None, lock_timeout_s: float = 60.0
) -> Path:
    """Add (or replace) one row per successful result; failed results are skipped. Atomic, under a lock."""
    from lithioscreen.data._files import atomic_write, exclusive_lock
    from lithioscreen.data.loaders import INTERFACIAL_SCHEMA, read_interfacial_raw
    from lithioscreen.data.schema import validate

    target = _path(path)
    rows = [result_row(result, software_versions) for result in results if result.ok]
    if not rows:
        return target
    new = pd.DataFrame(rows, dtype=str)
    keys = ["material", "method", "li_plane", "x_plane", "protocol"]  # another protocol's row is kept
    with exclusive_lock(
        target.parent / f".{target.name}.lock", lock_timeout_s, "another run storing interfacial energies"
    ):
        raw = read_interfacial_raw(target)
        replaced = raw.merge(new[keys], on=keys, how="left", indicator=True)["_merge"].eq("both").to_numpy()
        table = pd.concat([raw[~replaced], new], ignore_index=True)[raw.columns.tolist()]
        validate(table, INTERFACIAL_SCHEMA, source=str(target))  # never write a file the loader would reject
        atomic_write(target, table.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return target
