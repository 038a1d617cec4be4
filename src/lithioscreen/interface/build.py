"""Li(100)/X interface supercells, built the way Oh et al. (EES 2024, Fig. 4e-f and 7d) describe.

The paper computes "the Li interfacial energy" of a metal X from a series of Li/X interface
models with an increasing number of Li atoms, and reads the interfacial energy off the y-intercept
of the fitted line (the fit is in :mod:`lithioscreen.interface.fit`). The paper's methods are in
its ESI, which we do not have; what the main text fixes, and what we chose, is:

* Li(100) against a low-index plane of X: bcc (110), (100), (111); fcc (111), (100);
  hcp (0001). The close-packed plane is the default (W films grow (110)-textured, Fig. S2).
* A coherent supercell from pymatgen's Zur-McGill lattice matching
  (:class:`~pymatgen.analysis.interfaces.ZSLGenerator`,
  :class:`~pymatgen.analysis.interfaces.CoherentInterfaceBuilder`) with X as the substrate and Li
  as the film: X keeps its own (bulk, relaxed) lattice, **only Li is strained** in-plane, so the
  strain energy sits in the Li slab and grows linearly with the number of Li atoms (which is what
  lets the intercept remove it). Among the matches with area up to ``max_area_a2``, the one with
  the smallest in-plane Li strain is taken (then the smallest area); none above ``max_strain``.
* A periodic sandwich (no vacuum): X slab | Li slab | X slab ..., so each cell holds two
  identical Li/X interfaces and no free surface; an X slab and a series of Li slabs of
  ``li_layers`` thicknesses, all with the same X slab (at least ``x_thickness_a``) and the same
  in-plane cell.

Bulk references: the starting structures are the elements' reference crystal structures and
lattice constants in ASE (:data:`ase.data.reference_states`: experimental low-temperature
values compiled from Kittel and Ashcroft & Mermin); :mod:`lithioscreen.interface.workflow`
relaxes them with the potential before the interface is built, so that the bulk energies and the
X lattice are the potential's own.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np

#: X planes by crystal structure (Miller indices of the conventional cell); the first is the default.
PLANES = {
    "bcc": ("110", "100", "111"),
    "fcc": ("111", "100"),
    "hcp": ("0001",),
}
LI_PLANE = "100"
#: Li slab thicknesses in Li(100) cells along the normal (2 atomic layers each): 4, 6, 8 layers
DEFAULT_LI_LAYERS = (2, 3, 4)
#: minimum X slab thickness, Å (rounded up to whole X unit planes)
DEFAULT_X_THICKNESS_A = 6.0
DEFAULT_MAX_STRAIN = 0.08
DEFAULT_MAX_AREA_A2 = 100.0
DEFAULT_GAP_A = 2.2


class InterfaceInputError(ValueError):
    """An element, plane or setting the interface builder cannot handle (CLI exit code 2)."""


def crystal_structure(element: str) -> str:
    """'bcc', 'fcc' or 'hcp' from ASE's reference states; InterfaceInputError otherwise."""
    from ase.data import atomic_numbers, reference_states

    if element not in atomic_numbers or element == "X":
        raise InterfaceInputError(f"{element!r} is not an element symbol")
    state = reference_states[atomic_numbers[element]] or {}
    symmetry = state.get("symmetry")
    if symmetry not in PLANES:
        raise InterfaceInputError(
            f"{element}: reference crystal structure {symmetry!r} is not bcc, fcc or hcp; the interface builder handles only those"
        )
    return symmetry


def normalize_plane(element: str, plane: str | None) -> str:
    """'110', '(110)', '0001', '001' (hcp) -> the canonical plane label for ``element``; None -> default."""
    structure = crystal_structure(element)
    if plane is None:
        return PLANES[structure][0]
    digits = re.sub(r"[()\s,]", "", str(plane))
    if structure == "hcp" and digits in {"001", "0001"}:
        digits = "0001"
    if digits not in PLANES[structure]:
        raise InterfaceInputError(
            f"{element} ({structure}): plane {plane!r} is not one of {', '.join(PLANES[structure])}"
        )
    return digits


def planes_for(element: str) -> tuple[str, ...]:
    return PLANES[crystal_structure(element)]


def plane_label(plane: str) -> str:
    return f"({plane})"


def miller(plane: str) -> tuple[int, int, int]:
    if plane == "0001":
        return (0, 0, 1)
    return tuple(int(digit) for digit in plane)  # type: ignore[return-value]


def reference_bulk(element: str):
    """The element's reference crystal (ASE) as a conventional ASE Atoms (cubic cell for bcc/fcc)."""
    from ase.build import bulk

    structure = crystal_structure(element)
    return bulk(element, cubic=structure in {"bcc", "fcc"})


@dataclass
class InterfaceSeries:
    """Interfaces of one X plane with Li(100), same X slab and cell, increasing Li thickness."""

    element: str
    plane: str
    structures: list = field(repr=False)  # ASE Atoms, one per Li thickness
    n_li: list[int]
    n_x: int
    li_layers: list[int]
    area_a2: float
    li_strain: float  # largest in-plane principal (Green-Lagrange) strain of Li, signed


def _in_plane_strain(match) -> float:
    from pymatgen.analysis.elasticity.strain import Deformation

    # the Green-Lagrange strain that takes the Li supercell onto the X supercell (3x3, Cartesian;
    # its out-of-plane eigenvalue is 0): the largest in-plane principal strain, with its sign
    strain = np.asarray(Deformation(match.match_transformation).green_lagrange_strain)
    principal = np.linalg.eigvalsh(strain)
    return float(principal[np.argmax(np.abs(principal))])


def build_series(
    li_bulk,
    x_bulk,
    element: str,
    plane: str,
    li_layers=DEFAULT_LI_LAYERS,
    x_thickness_a: float = DEFAULT_X_THICKNESS_A,
    max_strain: float = DEFAULT_MAX_STRAIN,
    max_area_a2: float = DEFAULT_MAX_AREA_A2,
    gap_a: float = DEFAULT_GAP_A,
) -> InterfaceSeries:
    """Li(100)/X(plane) sandwiches with ``li_layers`` Li thicknesses (in Li(100) slab units).

    ``li_bulk`` and ``x_bulk`` are ASE Atoms (relaxed bulk crystals); the Li thicknesses must
    give at least two distinct Li counts.
    """
    from pymatgen.analysis.interfaces import CoherentInterfaceBuilder, ZSLGenerator
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    plane = normalize_plane(element, plane)
    li_layers = sorted({int(n) for n in li_layers})
    if len(li_layers) < 2 or li_layers[0] < 1:
        raise InterfaceInputError(f"li_layers {li_layers}: need at least two different positive thicknesses")
    if not x_thickness_a > 0:
        raise InterfaceInputError("the X slab thickness must be positive")
    if not 0 < max_strain < 0.5:
        raise InterfaceInputError(f"max_strain {max_strain}: must be between 0 and 0.5")

    li = SpacegroupAnalyzer(AseAtomsAdaptor.get_structure(li_bulk)).get_conventional_standard_structure()
    x = SpacegroupAnalyzer(AseAtomsAdaptor.get_structure(x_bulk)).get_conventional_standard_structure()
    # ZSL's length tolerance bounds the strain of each supercell vector; the area ratio, its product
    zsl = ZSLGenerator(
        max_area_ratio_tol=2.2 * max_strain, max_area=max_area_a2, max_length_tol=max_strain, max_angle_tol=0.01
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        builder = CoherentInterfaceBuilder(
            substrate_structure=x,
            film_structure=li,
            film_miller=miller(LI_PLANE),
            substrate_miller=miller(plane),
            zslgen=zsl,
        )
    candidates = [
        (match.match_area, abs(_in_plane_strain(match)), index) for index, match in enumerate(builder.zsl_matches)
    ]
    candidates = [c for c in candidates if c[1] <= max_strain + 1e-9]
    if not candidates:
        raise InterfaceInputError(
            f"Li(100)/{element}({plane}): no coherent supercell with Li strain <= {max_strain:.1%} and area <= {max_area_a2:g} Å²; "
            "raise --max-strain or --max-area"
        )
    _, _, best = min((strain, area, index) for area, strain, index in candidates)
    match = builder.zsl_matches[best]
    builder.zsl_matches = [match]
    termination = builder.terminations[0]
    x_layers = max(1, int(np.ceil(x_thickness_a / x.lattice.d_hkl(miller(plane)) - 1e-6)))

    structures, n_li, n_x, areas = [], [], set(), set()
    for layers in li_layers:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            interface = next(
                builder.get_interfaces(
                    termination,
                    gap=gap_a,
                    vacuum_over_film=gap_a,
                    film_thickness=layers,
                    substrate_thickness=x_layers,
                    in_layers=True,
                )
            )
        counts = interface.composition.as_dict()
        atoms = AseAtomsAdaptor.get_atoms(interface)
        for name in list(atoms.arrays):
            if name not in {"numbers", "positions"}:
                del atoms.arrays[name]  # pymatgen site properties; ASE optimizers do not need them
        atoms.info = {"element": element, "plane": plane, "li_layers": layers}
        structures.append(atoms)
        n_li.append(int(round(counts.get("Li", 0))))
        n_x.add(int(round(counts.get(element, 0))))
        areas.add(round(float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1]))), 6))
    if len(n_x) != 1 or len(areas) != 1:
        raise RuntimeError(
            f"Li/{element}({plane}): the X slab or the cell changed across the Li series ({n_x}, {areas})"
        )
    if len(set(n_li)) < 2:
        raise InterfaceInputError(
            f"Li/{element}({plane}): li_layers {li_layers} give only {sorted(set(n_li))} Li atoms; use more different thicknesses"
        )
    return InterfaceSeries(
        element=element,
        plane=plane,
        structures=structures,
        n_li=n_li,
        n_x=n_x.pop(),
        li_layers=li_layers,
        area_a2=areas.pop(),
        li_strain=_in_plane_strain(match),
    )
