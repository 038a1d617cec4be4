"""The settings that define the interface protocol, and the text that records them.

Pure Python (no numpy, ASE, pymatgen or torch): :mod:`lithioscreen.interface.calibration`, which
the ranking imports, needs the current protocol string to select rows without importing the
builder. Every cached value carries :meth:`InterfaceSettings.protocol`; :meth:`~InterfaceSettings.from_protocol`
reads it back, so a stored value can be recomputed with exactly its settings
(``lithioscreen interface X --protocol '<text>'``).

Protocol v2 (issue 15; the values are the converged ones of ``benchmarks/interface_convergence.py``):

* ``x_layers``: at least this many atomic planes of X (whole slab repeat units, so a plane with
  two atomic planes per repeat gets an even count);
* ``li_layers``: Li(100) thicknesses in Li(100) cells (two atomic planes each);
* ``max_strain``/``max_area_a2``: coherent supercells with Li strained by at most this much, area up
  to this (then 1.5x and 2x this if none is found); ``supercell`` = which one in order of increasing
  strain (0 = the least strained);
* ``registry``: an n x n grid of lateral shifts of Li over X's surface cell, for every allowed
  termination of X and every supercell of that rank (up to 4 of equal strain and area: Li in other
  orientations); the lowest single-point energy of the unrelaxed structures wins, only that one
  is relaxed;
* ``gap_a``: Li-X distance of the unrelaxed structures; ``fmax``/``steps``: the BFGS relaxations
  (bulk crystals to ``fmax``/5);
* ``max_stderr``: the acceptance rule of the fit (:mod:`lithioscreen.interface.fit`).

Protocol v3 (not yet the default; ``version="v3"``) keeps every v2 setting and changes two rules,
after ``benchmarks/interface_convergence.py`` showed that the v2 pick across Li orientations is not
converged (CHGNet Mo(110): the orientation v2 relaxes gives 71, the other 38, because there the
Li film reconstructs):

* the lowest unrelaxed registry of *every* non-equivalent orientation of the supercell is relaxed
  (orientations whose lowest single point is equal within 0.01 meV/Å² are symmetry-equivalent);
* a series in which any Li film's atoms leave their atomic planes on relaxation is refused
  (``li_reconstructed``, :func:`lithioscreen.interface.build.li_film_kept`; planes that only
  rumple are kept): it is no longer the coherent Li(100) film the descriptor is about, and its
  excess energy does not follow the intercept model; among the orientations left, the lowest
  accepted γ is kept.

Rows of protocol v1 (the earlier single-registry, 6 Å X slab protocol, whose strings start with
``li_layers=``) stay in the data file for provenance; :func:`is_current` tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

#: the default (current) protocol; v3 is computed only on request until the table is recomputed with it
PROTOCOL_VERSION = "v2"
PROTOCOL_VERSIONS = ("v2", "v3")

#: defaults (protocol v2): fixed from benchmarks/results/interface_convergence.json
DEFAULT_LI_LAYERS = (2, 3, 4)
DEFAULT_X_LAYERS = 6
DEFAULT_MAX_STRAIN = 0.08
DEFAULT_MAX_AREA_A2 = 100.0
DEFAULT_SUPERCELL_RANK = 0
DEFAULT_REGISTRY_GRID = 6
DEFAULT_GAP_A = 2.2
DEFAULT_FMAX = 0.05
DEFAULT_STEPS = 300
#: the fit's acceptance rule (see lithioscreen.interface.fit for the reasoning)
DEFAULT_MAX_STDERR_MEV_PER_A2 = 10.0


class ProtocolError(ValueError):
    """A protocol string that is not a v2 or v3 protocol."""


@dataclass(frozen=True)
class InterfaceSettings:
    """Everything that defines the protocol (recorded with each cached value)."""

    li_layers: tuple[int, ...] = DEFAULT_LI_LAYERS
    x_layers: int = DEFAULT_X_LAYERS
    max_strain: float = DEFAULT_MAX_STRAIN
    max_area_a2: float = DEFAULT_MAX_AREA_A2
    supercell_rank: int = DEFAULT_SUPERCELL_RANK
    registry_grid: int = DEFAULT_REGISTRY_GRID
    gap_a: float = DEFAULT_GAP_A
    fmax: float = DEFAULT_FMAX
    steps: int = DEFAULT_STEPS
    max_stderr_mev_per_a2: float = DEFAULT_MAX_STDERR_MEV_PER_A2
    version: str = PROTOCOL_VERSION

    def __post_init__(self):
        if self.version not in PROTOCOL_VERSIONS:
            raise ProtocolError(f"protocol version {self.version!r}: expected one of {PROTOCOL_VERSIONS}")

    @property
    def every_orientation(self) -> bool:
        """v3: relax each non-equivalent orientation's best registry and refuse reconstructed Li films."""
        return self.version == "v3"

    def protocol(self) -> str:
        return (
            f"{self.version};li_layers={'/'.join(map(str, self.li_layers))};x_layers={self.x_layers};"
            f"max_strain={self.max_strain:g};max_area_a2={self.max_area_a2:g};supercell={self.supercell_rank};"
            f"registry={self.registry_grid}x{self.registry_grid};gap_a={self.gap_a:g};fmax={self.fmax:g};"
            f"steps={self.steps};max_stderr={self.max_stderr_mev_per_a2:g}"
        )

    @classmethod
    def from_protocol(cls, text: str) -> InterfaceSettings:
        """The settings a protocol string records (inverse of :meth:`protocol`)."""
        parts = [part.strip() for part in str(text).split(";") if part.strip()]
        if not parts or parts[0] not in PROTOCOL_VERSIONS:
            raise ProtocolError(
                f"{text!r}: not a {' or '.join(PROTOCOL_VERSIONS)} protocol string (it must start with "
                + " or ".join(f"'{version};'" for version in PROTOCOL_VERSIONS)
                + ")"
            )
        values = {}
        for part in parts[1:]:
            key, _, value = part.partition("=")
            values[key] = value
        names = {
            "li_layers",
            "x_layers",
            "max_strain",
            "max_area_a2",
            "supercell",
            "registry",
            "gap_a",
            "fmax",
            "steps",
            "max_stderr",
        }
        if set(values) != names:
            raise ProtocolError(f"{text!r}: expected the fields {sorted(names)}, got {sorted(values)}")
        try:
            grid = values["registry"].split("x")
            settings = cls(
                li_layers=tuple(int(n) for n in values["li_layers"].split("/")),
                x_layers=int(values["x_layers"]),
                max_strain=float(values["max_strain"]),
                max_area_a2=float(values["max_area_a2"]),
                supercell_rank=int(values["supercell"]),
                registry_grid=int(grid[0]),
                gap_a=float(values["gap_a"]),
                fmax=float(values["fmax"]),
                steps=int(values["steps"]),
                max_stderr_mev_per_a2=float(values["max_stderr"]),
                version=parts[0],
            )
        except (ValueError, IndexError) as error:
            raise ProtocolError(f"{text!r}: {error}") from None
        if settings.protocol() != ";".join(parts):
            raise ProtocolError(f"{text!r}: does not round-trip (reads as {settings.protocol()!r})")
        return settings

    def replace(self, **changes) -> InterfaceSettings:
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        values.update(changes)
        return InterfaceSettings(**values)


def current_protocol() -> str:
    """The protocol string of the default settings: the only rows the calibration uses."""
    return InterfaceSettings().protocol()


def is_current(protocol: str) -> bool:
    return str(protocol) == current_protocol()
