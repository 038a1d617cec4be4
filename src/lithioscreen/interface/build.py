"""Li(100)/X interface supercells, built the way Oh et al. (EES 2024, Fig. 4e-f and 7d) describe.

The paper computes "the Li interfacial energy" of a material X from a series of Li/X interface
models with an increasing number of Li atoms, and reads the interfacial energy off the y-intercept
of the fitted line (the fit is in :mod:`lithioscreen.interface.fit`). Its descriptor for a metal
is the highest value over X planes against Li(100). The paper's methods are in its ESI, which we
do not have; what the main text fixes, and what we chose (protocol v2,
:mod:`lithioscreen.interface.protocol`), is:

* Li(100) against every low-index plane of X: bcc (110), (100), (111); fcc (111), (100), (110);
  hcp (0001), (10-10); and the reference compounds rock-salt LiF (100), (110) and antifluorite
  Li2S (111), (110): their non-polar, stoichiometric planes (LiF(111) and Li2S(100) are polar,
  Tasker type III, and are not built).
* A coherent supercell from pymatgen's Zur-McGill lattice matching
  (:class:`~pymatgen.analysis.interfaces.ZSLGenerator`,
  :class:`~pymatgen.analysis.interfaces.CoherentInterfaceBuilder`) with X as the substrate and Li
  as the film: X keeps its own (bulk, relaxed) lattice, **only Li is strained** in-plane, so the
  strain energy sits in the Li slab and grows linearly with the number of Li atoms (which is what
  lets the intercept remove it). Matches with area up to ``max_area_a2`` (then 1.5x, 2x if there
  are none) and Li strain up to ``max_strain`` are ranked by strain (then area);
  ``supercell_rank`` picks one (0: the least strained).
* A periodic sandwich (no vacuum): X slab | Li slab | X slab ..., so each cell holds two
  identical Li/X interfaces and no free surface. The X slab has at least ``x_layers`` atomic
  planes (whole repeat units of the plane); the Li slabs have ``li_layers`` Li(100) cells (two
  atomic planes each). One X slab and one in-plane cell serve the whole Li series.
* The registry: the supercells of the chosen rank (up to 4 with the same strain and area: different
  orientations of Li on X, which are not equivalent), every allowed termination of X and an n x n
  grid of lateral shifts of Li over X's surface cell (:meth:`InterfaceDesign.registry_candidates`);
  the workflow evaluates them unrelaxed, in one batch, and relaxes only the lowest.

Bulk references: metals start from ASE's reference crystal structures and lattice constants
(:data:`ase.data.reference_states`: experimental low-temperature values compiled from Kittel and
Ashcroft & Mermin); LiF and Li2S are built with pymatgen from their space group and Wyckoff
positions (:data:`COMPOUNDS`). :mod:`lithioscreen.interface.workflow` relaxes them with the
potential before the interface is built, so that bulk energies and the X lattice are the
potential's own.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from lithioscreen.interface.protocol import (
    DEFAULT_GAP_A,
    DEFAULT_LI_LAYERS,
    DEFAULT_MAX_AREA_A2,
    DEFAULT_MAX_STRAIN,
    DEFAULT_REGISTRY_GRID,
    DEFAULT_SUPERCELL_RANK,
    DEFAULT_X_LAYERS,
)

#: X planes by crystal structure (Miller indices of the conventional cell); the first is the
#: close-packed (metals) or lowest-energy non-polar (compounds) plane.
PLANES = {
    "bcc": ("110", "100", "111"),
    "fcc": ("111", "100", "110"),
    "hcp": ("0001", "10-10"),
    "rocksalt": ("100", "110"),
    "antifluorite": ("111", "110"),
}
LI_PLANE = "100"
#: at most this many supercells of equal strain and area (orientations of Li on X) are scanned
MAX_SUPERCELL_VARIANTS = 4


@dataclass(frozen=True)
class Compound:
    """A reference compound built from its space group and Wyckoff positions."""

    structure: str  # key of PLANES
    spacegroup: str
    species: tuple[str, ...]
    coords: tuple[tuple[float, float, float], ...]  # fractional, one per Wyckoff site
    a_angstrom: float  # experimental cubic lattice constant (the potential relaxes it)
    oxidation_states: dict
    citation: str


COMPOUNDS = {
    # rock salt, Fm-3m: Li 4a, F 4b. a = 4.0263 Å at room temperature (R. W. G. Wyckoff,
    # Crystal Structures, Vol. 1, 2nd ed., Interscience 1963, Table III,1); the potential relaxes it.
    "LiF": Compound(
        "rocksalt", "Fm-3m", ("Li", "F"), ((0, 0, 0), (0.5, 0.5, 0.5)), 4.0263, {"Li": 1, "F": -1}, "Wyckoff 1963"
    ),
    # antifluorite, Fm-3m: S 4a, Li 8c. a = 5.7158 Å at room temperature (Wyckoff 1963, Vol. 1,
    # Table IV,1, antifluorite Li2S; neutron data of W. Buehrer et al., J. Phys.: Condens. Matter 3
    # (1991) 1055 agree within 0.01 Å); the potential relaxes it.
    "Li2S": Compound(
        "antifluorite",
        "Fm-3m",
        ("S", "Li"),
        ((0, 0, 0), (0.25, 0.25, 0.25)),
        5.7158,
        {"Li": 1, "S": -2},
        "Wyckoff 1963",
    ),
}


class InterfaceInputError(ValueError):
    """An element, plane or setting the interface builder cannot handle (CLI exit code 2)."""


def is_compound(material: str) -> bool:
    return material in COMPOUNDS


def material_class(material: str) -> str:
    """The data file's ``material_class``: 'sei_component' for LiF and Li2S, else 'metal'."""
    return "sei_component" if is_compound(material) else "metal"


def crystal_structure(material: str) -> str:
    """'bcc', 'fcc', 'hcp' (elements, from ASE's reference states) or the compound's structure;
    InterfaceInputError otherwise."""
    if is_compound(material):
        return COMPOUNDS[material].structure
    from ase.data import atomic_numbers, reference_states

    if material not in atomic_numbers or material == "X":
        raise InterfaceInputError(
            f"{material!r} is not an element symbol or one of the compounds {', '.join(COMPOUNDS)}"
        )
    state = reference_states[atomic_numbers[material]] or {}
    symmetry = state.get("symmetry")
    if symmetry not in ("bcc", "fcc", "hcp"):
        raise InterfaceInputError(
            f"{material}: reference crystal structure {symmetry!r} is not bcc, fcc or hcp; the interface builder handles only those"
        )
    return symmetry


def normalize_plane(material: str, plane: str | None) -> str:
    """'110', '(110)', '0001', '001' (hcp), '10-10', '100' (hcp) -> the canonical plane label; None -> the first plane."""
    structure = crystal_structure(material)
    if plane is None:
        return PLANES[structure][0]
    digits = re.sub(r"[()\s,]", "", str(plane))
    if structure == "hcp":
        digits = {"001": "0001", "100": "10-10", "1010": "10-10", "10-10": "10-10"}.get(digits, digits)
    if digits not in PLANES[structure]:
        raise InterfaceInputError(
            f"{material} ({structure}): plane {plane!r} is not one of {', '.join(PLANES[structure])}"
        )
    return digits


def planes_for(material: str) -> tuple[str, ...]:
    return PLANES[crystal_structure(material)]


def plane_label(plane: str) -> str:
    return f"({plane})"


def miller(plane: str) -> tuple[int, int, int]:
    """Miller indices of the conventional cell: hcp (0001) -> (0, 0, 1), (10-10) -> (1, 0, 0)."""
    if plane == "0001":
        return (0, 0, 1)
    if plane == "10-10":
        return (1, 0, 0)
    return tuple(int(digit) for digit in plane)  # type: ignore[return-value]


def formula_unit(material: str) -> dict[str, int]:
    """Atoms per formula unit: {'Li': 1, 'F': 1} for LiF, {element: 1} for a metal."""
    if not is_compound(material):
        return {material: 1}
    from pymatgen.core import Composition

    return {str(el): int(n) for el, n in Composition(material).items()}


def reference_bulk(material: str):
    """The reference crystal as a conventional ASE Atoms (cubic cell for bcc, fcc and the compounds)."""
    if is_compound(material):
        from pymatgen.core import Lattice, Structure
        from pymatgen.io.ase import AseAtomsAdaptor

        compound = COMPOUNDS[material]
        structure = Structure.from_spacegroup(
            compound.spacegroup, Lattice.cubic(compound.a_angstrom), list(compound.species), list(compound.coords)
        )
        return AseAtomsAdaptor.get_atoms(structure)
    from ase.build import bulk

    structure = crystal_structure(material)
    return bulk(material, cubic=structure in {"bcc", "fcc"})


@dataclass
class InterfaceSeries:
    """Interfaces of one X plane with Li(100): same X slab, cell and registry, increasing Li thickness."""

    element: str  # the material X (an element or a compound formula)
    plane: str
    structures: list = field(repr=False)  # ASE Atoms, one per Li thickness
    n_li: list[int]  # Li atoms of the Li slab (not counting Li of a compound X)
    n_x: int  # atoms of the X slab
    li_layers: list[int]
    area_a2: float
    li_strain: float  # largest in-plane principal (Green-Lagrange) strain of Li, signed
    x_counts: dict = field(default_factory=dict)  # atoms of the X slab per element
    x_formula_units: float = 0.0
    x_layers: int = 0  # atomic planes of the X slab
    termination: str = ""
    offset: tuple[float, float] = (0.0, 0.0)  # Li shift over X, fractions of the supercell vectors
    supercell_rank: int = 0
    supercell_variant: int = 0  # which of the rank's equal-strain, equal-area supercells


@dataclass
class RegistryCandidate:
    """One unrelaxed structure of the registry scan (thinnest Li slab)."""

    termination: str
    offset: tuple[float, float]  # fractions of the supercell vectors
    offset_x_cell: tuple[float, float]  # the same shift in fractions of X's surface cell
    atoms: object = field(repr=False)
    n_li: int = 0
    x_counts: dict = field(default_factory=dict)
    variant: int = 0  # which supercell of the rank (same strain and area, another orientation)


def _in_plane_strain(match) -> float:
    from pymatgen.analysis.elasticity.strain import Deformation

    # the Green-Lagrange strain that takes the Li supercell onto the X supercell (3x3, Cartesian;
    # its out-of-plane eigenvalue is 0): the largest in-plane principal strain, with its sign
    strain = np.asarray(Deformation(match.match_transformation).green_lagrange_strain)
    principal = np.linalg.eigvalsh(strain)
    return float(principal[np.argmax(np.abs(principal))])


def count_atomic_planes(heights_a, tolerance_a: float = 0.3) -> int:
    """Distinct atomic planes among heights (Å) along the normal of a slab that may wrap around
    the periodic cell: planes are heights closer than ``tolerance_a``."""
    values = np.sort(np.asarray(heights_a, dtype=float))
    if values.size == 0:
        return 0
    return int(1 + np.count_nonzero(np.diff(values) > tolerance_a))


#: key of ``atoms.info`` that lists the Li film's atoms (indices) of an interface structure
FILM_INDICES = "li_film_indices"


def li_film_heights(atoms) -> np.ndarray:
    """Heights (Å) along the interface normal of the Li film's atoms (``atoms.info[FILM_INDICES]``,
    in that order), unwrapped around the film's circular mean position along the third cell vector,
    so that a film crossing the periodic boundary stays in one piece."""
    indices = np.asarray(atoms.info[FILM_INDICES], dtype=int)
    along = atoms.get_scaled_positions(wrap=True)[indices, 2]
    centre = (np.angle(np.mean(np.exp(2j * np.pi * along))) / (2 * np.pi)) % 1.0
    unwrapped = (along - centre + 0.5) % 1.0 - 0.5
    cell = np.asarray(atoms.cell)
    normal = np.cross(cell[0], cell[1])
    normal /= np.linalg.norm(normal)
    return unwrapped * float(cell[2] @ normal)


def li_film_planes(atoms) -> int:
    """Atomic planes of the Li(100) film of an interface structure (heights closer than 0.3 Å merged)."""
    return count_atomic_planes(li_film_heights(atoms))


#: a relaxed plane may move towards its neighbour by at most this fraction of their unrelaxed spacing
MIN_PLANE_GAP_FRACTION = 0.5


def li_film_kept(unrelaxed, relaxed, tolerance_a: float = 0.3) -> bool:
    """Is the relaxed film still the unrelaxed film's stack of atomic planes?

    Each atom belongs to its unrelaxed plane. The film is kept when, after relaxation, every atom is
    nearer its own plane's mean height than any other plane's, and consecutive planes stay in order
    and at least half their unrelaxed spacing apart. A plane that rumples (the Li over a compound's
    anions and cations relax differently) is kept; planes that merge, split into their neighbours or
    exchange atoms (a film that turns into another stacking, or disorders) are not. Both structures
    must list the same film atoms in the same order (ASE relaxations keep the order)."""
    before, after = li_film_heights(unrelaxed), li_film_heights(relaxed)
    order = np.argsort(before)
    labels = np.empty(len(before), dtype=int)
    labels[order] = np.concatenate([[0], np.cumsum(np.diff(before[order]) > tolerance_a)])
    planes = np.arange(labels.max() + 1)
    means_before = np.array([before[labels == k].mean() for k in planes])
    means_after = np.array([after[labels == k].mean() for k in planes])
    if np.any(np.diff(means_after) < MIN_PLANE_GAP_FRACTION * np.diff(means_before)):
        return False
    nearest = np.argmin(np.abs(after[:, None] - means_after[None, :]), axis=1)
    return bool(np.all(nearest == labels))


def _conventional(atoms):
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    return SpacegroupAnalyzer(AseAtomsAdaptor.get_structure(atoms)).get_conventional_standard_structure()


class InterfaceDesign:
    """The supercell, the X terminations and the slab thickness of one Li(100)/X(plane) interface.

    ``li_bulk`` and ``x_bulk`` are ASE Atoms (relaxed bulk crystals). Build the registry scan with
    :meth:`registry_candidates`, then the thickness series of the chosen registry with :meth:`series`.
    """

    def __init__(
        self,
        li_bulk,
        x_bulk,
        material: str,
        plane: str,
        x_layers: int = DEFAULT_X_LAYERS,
        max_strain: float = DEFAULT_MAX_STRAIN,
        max_area_a2: float = DEFAULT_MAX_AREA_A2,
        supercell_rank: int = DEFAULT_SUPERCELL_RANK,
        gap_a: float = DEFAULT_GAP_A,
    ):
        from pymatgen.analysis.interfaces import CoherentInterfaceBuilder, ZSLGenerator

        self.material = material
        self.plane = normalize_plane(material, plane)
        if not 0 < max_strain < 0.5:
            raise InterfaceInputError(f"max_strain {max_strain}: must be between 0 and 0.5")
        if int(x_layers) < 1:
            raise InterfaceInputError(f"x_layers {x_layers}: at least one atomic plane of X is needed")
        if int(supercell_rank) < 0:
            raise InterfaceInputError("the supercell rank must be 0 (least strained) or more")
        self.gap_a = gap_a
        self.supercell_rank = int(supercell_rank)
        li = _conventional(li_bulk)
        x = _conventional(x_bulk)
        self.x_structure = x
        self.formula = formula_unit(material)

        matches, builder = [], None
        # the search area grows (1.5x, 2x) only when no supercell fits: open planes with large cells (bcc 111)
        for area in (max_area_a2, 1.5 * max_area_a2, 2.0 * max_area_a2):
            # ZSL's length tolerance bounds the strain of each supercell vector; the area ratio, its product
            zsl = ZSLGenerator(
                max_area_ratio_tol=2.2 * max_strain, max_area=area, max_length_tol=max_strain, max_angle_tol=0.01
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                builder = CoherentInterfaceBuilder(
                    substrate_structure=x,
                    film_structure=li,
                    film_miller=miller(LI_PLANE),
                    substrate_miller=miller(self.plane),
                    zslgen=zsl,
                    label_index=True,
                )
            matches = self._ranked_matches(builder.zsl_matches, max_strain)
            if len(matches) > self.supercell_rank:
                self.searched_area_a2 = area
                break
        if len(matches) <= self.supercell_rank:
            raise InterfaceInputError(
                f"Li(100)/{material}({self.plane}): {len(matches)} coherent supercell(s) with Li strain <= {max_strain:.1%} and area <= "
                f"{2 * max_area_a2:g} Å² (supercell rank {self.supercell_rank} asked); raise `max_strain` or `max_area_a2`"
            )
        self.candidate_matches = [(strain, area, group[0]) for strain, area, group in matches]  # least strained first
        # the supercells of this rank: same strain and area, different orientations of Li on X (they
        # are not equivalent: Mo(110) CHGNet gave 38 and 71 meV/Å² for two of them), all scanned
        self.variants = matches[self.supercell_rank][2][:MAX_SUPERCELL_VARIANTS]
        match = self.variants[0]
        self.match = match
        self.li_strain = _in_plane_strain(match)
        self._variant_strains = [_in_plane_strain(m) for m in self.variants]
        builder.zsl_matches = [match]
        self.builder = builder
        self.terminations = self._allowed_terminations(builder)
        if not self.terminations:
            raise InterfaceInputError(
                f"Li(100)/{material}({self.plane}): no stoichiometric non-polar termination of {material}({self.plane})"
            )
        self.x_units, self.x_layers = self._x_units(int(x_layers))
        self.area_a2 = float(np.linalg.norm(np.cross(match.substrate_sl_vectors[0], match.substrate_sl_vectors[1])))
        # fractions of the supercell vectors per fraction of X's surface cell: sl = T @ primitive
        self._x_cell_to_supercells = [
            np.linalg.inv(
                np.round(np.asarray(m.substrate_sl_vectors) @ np.linalg.pinv(np.asarray(m.substrate_vectors)), 6)
            )
            for m in self.variants
        ]
        self._x_cell_to_supercell = self._x_cell_to_supercells[0]

    @staticmethod
    def _ranked_matches(zsl_matches, max_strain):
        """[(strain, area, [matches])] by increasing strain, then area; the matches of one entry share
        strain and area (to 1e-4 and 0.01 Å²) and keep pymatgen's order. A supercell with the
        strain of a kept one on a whole multiple of its area (the same cell, repeated) is dropped."""
        found = []
        for index, match in enumerate(zsl_matches):
            strain = abs(_in_plane_strain(match))
            if strain <= max_strain + 1e-9:
                found.append((round(strain, 4), round(float(match.match_area), 2), index, strain, match))
        groups: list = []
        for key_strain, key_area, _, strain, match in sorted(found, key=lambda item: item[:3]):
            if groups and (groups[-1][3], groups[-1][4]) == (key_strain, key_area):
                groups[-1][2].append(match)
                continue
            repeated = any(
                key_strain == kept_strain and abs(key_area / kept_area - round(key_area / kept_area)) < 0.01
                for _, _, _, kept_strain, kept_area in groups
            )
            if not repeated:
                groups.append([strain, float(match.match_area), [match], key_strain, key_area])
        return [(strain, area, members) for strain, area, members, _, _ in groups]

    def _allowed_terminations(self, builder) -> list:
        """Every termination of a metal; for a compound only stoichiometric, symmetric, non-polar
        X slabs (pymatgen's dipole test with formal oxidation states)."""
        if not is_compound(self.material):
            return list(builder.terminations)
        from pymatgen.core.surface import SlabGenerator

        oxidized = self.x_structure.copy()
        oxidized.add_oxidation_state_by_element(COMPOUNDS[self.material].oxidation_states)
        generator = SlabGenerator(
            oxidized,
            miller(self.plane),
            min_slab_size=2,
            min_vacuum_size=3,
            in_unit_planes=True,
            center_slab=True,
            primitive=True,
            reorient_lattice=False,
        )
        bulk_formula = self.x_structure.composition.reduced_formula
        allowed = []
        for termination in builder.terminations:
            _, substrate_shift = builder._terminations[termination]
            slab = generator.get_slab(shift=substrate_shift)
            if slab.composition.reduced_formula == bulk_formula and slab.is_symmetric() and not slab.is_polar():
                allowed.append(termination)
        return allowed

    def _interface(self, termination, li_layers: int, x_units: int, variant: int = 0):
        self.builder.zsl_matches = [self.variants[variant]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return next(
                self.builder.get_interfaces(
                    termination,
                    gap=self.gap_a,
                    vacuum_over_film=self.gap_a,
                    film_thickness=li_layers,
                    substrate_thickness=x_units,
                    in_layers=True,
                )
            )

    def _x_planes(self, interface) -> int:
        normal = np.cross(interface.lattice.matrix[0], interface.lattice.matrix[1])
        normal /= np.linalg.norm(normal)
        substrate = interface.substrate_indices
        heights = interface.cart_coords[substrate] @ normal
        return count_atomic_planes(heights)

    def _x_units(self, x_layers: int) -> tuple[int, int]:
        """The fewest slab repeat units with at least ``x_layers`` atomic planes (every termination)."""
        termination = self.terminations[0]
        per_unit = max(1, self._x_planes(self._interface(termination, 1, 1)))
        units = max(1, int(np.ceil(x_layers / per_unit)))
        while True:
            planes = min(self._x_planes(self._interface(t, 1, units)) for t in self.terminations)
            if planes >= x_layers:
                return units, planes
            units += 1

    def _atoms(self, interface, termination, offset, layers):
        from pymatgen.io.ase import AseAtomsAdaptor

        interface.in_plane_offset = np.asarray(offset, dtype=float)
        substrate = set(interface.substrate_indices)
        x_counts: dict[str, int] = {}
        film = []
        for index, site in enumerate(interface):
            symbol = site.specie.symbol
            if index in substrate:
                x_counts[symbol] = x_counts.get(symbol, 0) + 1
            elif symbol == "Li":
                film.append(index)
        n_li = len(film)
        atoms = AseAtomsAdaptor.get_atoms(interface)
        for name in list(atoms.arrays):
            if name not in {"numbers", "positions"}:
                del atoms.arrays[name]  # pymatgen site properties; ASE optimizers do not need them
        atoms.info = {
            "element": self.material,
            "plane": self.plane,
            "li_layers": layers,
            "termination": str(termination),
            FILM_INDICES: film,
        }
        return atoms, n_li, x_counts

    def registry_offsets(
        self, grid: int = DEFAULT_REGISTRY_GRID, variant: int = 0
    ) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        """(supercell fractions, X-cell fractions) of an n x n grid over X's surface cell."""
        if int(grid) < 1:
            raise InterfaceInputError("the registry grid needs at least 1 x 1 shifts")
        steps = np.arange(int(grid)) / int(grid)
        out = []
        for u in steps:
            for v in steps:
                frac = np.mod(np.array([u, v]) @ self._x_cell_to_supercells[variant], 1.0)
                out.append(((float(frac[0]), float(frac[1])), (float(u), float(v))))
        return out

    def registry_candidates(self, li_layers: int, grid: int = DEFAULT_REGISTRY_GRID) -> list[RegistryCandidate]:
        """Unrelaxed structures with the ``li_layers`` Li slab: every supercell variant x termination x shift."""
        candidates = []
        for variant in range(len(self.variants)):
            for termination in self.terminations:
                interface = self._interface(termination, li_layers, self.x_units, variant)
                for offset, offset_x in self.registry_offsets(grid, variant):
                    atoms, n_li, x_counts = self._atoms(interface, termination, offset, li_layers)
                    candidates.append(
                        RegistryCandidate(str(termination), offset, offset_x, atoms, n_li, x_counts, variant)
                    )
        return candidates

    def _termination(self, name: str):
        for termination in self.terminations:
            if str(termination) == str(name):
                return termination
        raise InterfaceInputError(f"{self.material}({self.plane}): unknown termination {name!r}")

    def series(
        self, li_layers=DEFAULT_LI_LAYERS, termination: str | None = None, offset=(0.0, 0.0), variant: int = 0
    ) -> InterfaceSeries:
        """The thickness series for one registry (same X slab, cell and shift for every Li thickness)."""
        li_layers = sorted({int(n) for n in li_layers})
        if len(li_layers) < 2 or li_layers[0] < 1:
            raise InterfaceInputError(f"li_layers {li_layers}: need at least two different positive thicknesses")
        term = self.terminations[0] if termination is None else self._termination(termination)
        structures, n_li, x_counts_seen, areas = [], [], [], set()
        for layers in li_layers:
            interface = self._interface(term, layers, self.x_units, variant)
            atoms, li_count, x_counts = self._atoms(interface, term, offset, layers)
            structures.append(atoms)
            n_li.append(li_count)
            x_counts_seen.append(tuple(sorted(x_counts.items())))
            areas.add(round(float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1]))), 6))
        if len(set(x_counts_seen)) != 1 or len(areas) != 1:
            raise RuntimeError(
                f"Li/{self.material}({self.plane}): the X slab or the cell changed across the Li series ({x_counts_seen}, {areas})"
            )
        if len(set(n_li)) < 2:
            raise InterfaceInputError(
                f"Li/{self.material}({self.plane}): li_layers {li_layers} give only {sorted(set(n_li))} Li atoms; use more different thicknesses"
            )
        x_counts = dict(x_counts_seen[0])
        units = {x_counts.get(element, 0) / count for element, count in self.formula.items()}
        if len(units) != 1:
            raise RuntimeError(
                f"{self.material}({self.plane}): the X slab {x_counts} is not a whole number of formula units {self.formula}"
            )
        return InterfaceSeries(
            element=self.material,
            plane=self.plane,
            structures=structures,
            n_li=n_li,
            n_x=int(sum(x_counts.values())),
            li_layers=li_layers,
            area_a2=areas.pop(),
            li_strain=self._variant_strains[variant],
            x_counts=x_counts,
            x_formula_units=float(units.pop()),
            x_layers=self.x_layers,
            termination=str(term),
            offset=(float(offset[0]), float(offset[1])),
            supercell_rank=self.supercell_rank,
            supercell_variant=int(variant),
        )


def build_series(
    li_bulk,
    x_bulk,
    element: str,
    plane: str,
    li_layers=DEFAULT_LI_LAYERS,
    x_layers: int = DEFAULT_X_LAYERS,
    max_strain: float = DEFAULT_MAX_STRAIN,
    max_area_a2: float = DEFAULT_MAX_AREA_A2,
    gap_a: float = DEFAULT_GAP_A,
    supercell_rank: int = DEFAULT_SUPERCELL_RANK,
    termination: str | None = None,
    offset=(0.0, 0.0),
) -> InterfaceSeries:
    """Li(100)/X(plane) sandwiches with ``li_layers`` Li thicknesses at one registry (default: the
    first termination, no shift). The workflow picks the registry by a scan instead."""
    design = InterfaceDesign(li_bulk, x_bulk, element, plane, x_layers, max_strain, max_area_a2, supercell_rank, gap_a)
    return design.series(li_layers, termination, offset)
