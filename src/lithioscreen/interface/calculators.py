"""Interatomic potentials for the interface calculations: ASE calculators and batched evaluators.

Two universal potentials whose weights ship inside their PyPI wheels, so nothing is downloaded at
run time (``pip install -e '.[mlip]'``):

* ``chgnet`` (default): CHGNet 0.3.0, trained on the Materials Project trajectories (PBE/PBE+U);
* ``sevennet``: SevenNet-0 (11 Jul 2024), same training data, an equivariant (NequIP-type) model.

Any other ASE calculator can be passed to the library functions directly (it then runs
structure by structure). :func:`make_batched_potential` returns an evaluator that computes
energies, forces and stresses of many structures in one forward pass of the model (the GPU path
of :mod:`lithioscreen.interface.batch`).

The packages are imported only inside these functions, so the rest of lithioscreen works
without the ``mlip`` extra; :class:`PotentialUnavailableError` says what to install.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import sys
from collections.abc import Sequence
from functools import cache

import numpy as np

#: Names accepted by ``--calculator``, with the model each one loads.
CALCULATORS = {
    "chgnet": "CHGNet 0.3.0 (weights in the chgnet wheel)",
    "sevennet": "SevenNet-0 11Jul2024 (weights in the sevenn wheel)",
}
DEVICES = ("cpu", "cuda")
_PACKAGES = {"chgnet": ("chgnet",), "sevennet": ("sevenn",)}


class PotentialUnavailableError(RuntimeError):
    """The requested potential (or device) cannot be used in this environment."""


def _check(name: str, device: str) -> None:
    if name not in CALCULATORS:
        raise PotentialUnavailableError(f"unknown calculator {name!r}: choose one of {', '.join(CALCULATORS)}")
    if device not in DEVICES:
        raise PotentialUnavailableError(f"unknown device {device!r}: choose cpu or cuda")
    for module in ("torch", *_PACKAGES[name]):
        try:
            __import__(module)
        except ImportError as error:
            raise PotentialUnavailableError(
                f"the {name} potential needs the '{module}' package ({error}); install the extra: pip install -e '.[mlip]'"
            ) from None
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise PotentialUnavailableError(
                "--device cuda: no CUDA device is visible to torch (this torch build or machine has none)"
            )


def model_label(name: str) -> str:
    """The ``method`` tag of results computed with this potential: ``mlip:<name>``."""
    return f"mlip:{name}"


def software_versions(name: str) -> str:
    """'package==version' of the potential's package, torch, ASE and pymatgen, ';'-separated."""
    packages = (*_PACKAGES.get(name, ()), "torch", "ase", "pymatgen")
    versions = []
    for package in packages:
        try:
            versions.append(f"{package}=={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return ";".join(versions)


@contextlib.contextmanager
def _quiet_stdout():
    """CHGNet prints 'CHGNet will run on ...' on stdout; keep stdout for data (--format json)."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


@cache
def _chgnet_model(device: str):
    from chgnet.model import CHGNet

    with _quiet_stdout():
        return CHGNet.load(model_name="0.3.0", use_device=device, verbose=False)


@cache
def _sevennet_checkpoint():
    import sevenn.util

    return sevenn.util.load_checkpoint("7net-0")


def make_calculator(name: str = "chgnet", device: str = "cpu"):
    """An ASE calculator for one structure at a time (cached per process and device)."""
    _check(name, device)
    return _make_calculator(name, device)


@cache
def _make_calculator(name: str, device: str):
    import warnings

    if name == "chgnet":
        from chgnet.model.dynamics import CHGNetCalculator

        with _quiet_stdout():
            return CHGNetCalculator(model=_chgnet_model(device), use_device=device)
    from sevenn.calculator import SevenNetCalculator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no tensor-product accelerator" (cuEquivariance etc.)
        return SevenNetCalculator(model="7net-0", device=device)


class BatchedPotential:
    """Energies (eV), forces (eV/Å) and stresses (eV/Å³, ASE Voigt order and sign) of many
    structures in one forward pass. Subclasses implement :meth:`evaluate`.

    ``batch_size`` caps how many structures go into one pass (GPU memory); the structures of a
    call are split into chunks of that size.
    """

    name = ""

    def __init__(self, device: str = "cpu", batch_size: int = 32):
        self.device = device
        self.batch_size = batch_size
        self.forward_passes = 0

    def evaluate(self, atoms_list: Sequence) -> list[dict[str, np.ndarray | float]]:
        raise NotImplementedError


class BatchedCHGNet(BatchedPotential):
    """CHGNet's graph batching (``CHGNet.predict_graph`` on a list of crystal graphs)."""

    name = "chgnet"

    def __init__(self, device: str = "cpu", batch_size: int = 32):
        super().__init__(device, batch_size)
        self.model = _chgnet_model(device)

    def evaluate(self, atoms_list):
        from ase import units
        from ase.stress import full_3x3_to_voigt_6_stress
        from pymatgen.io.ase import AseAtomsAdaptor

        graphs = [self.model.graph_converter(AseAtomsAdaptor.get_structure(atoms)) for atoms in atoms_list]
        predictions = self.model.predict_graph(graphs, task="efs", batch_size=self.batch_size)
        if len(graphs) == 1:
            predictions = [predictions]
        self.forward_passes += -(-len(graphs) // self.batch_size)
        results = []
        for atoms, prediction in zip(atoms_list, predictions, strict=True):
            # exactly what chgnet.model.dynamics.CHGNetCalculator reports: e is eV/atom, s is GPa
            energy = float(prediction["e"]) * len(atoms)
            results.append(
                {
                    "energy": energy,
                    "free_energy": energy,
                    "forces": np.asarray(prediction["f"], dtype=float),
                    "stress": full_3x3_to_voigt_6_stress(np.asarray(prediction["s"], dtype=float)) * units.GPa,
                }
            )
        return results


class BatchedSevenNet(BatchedPotential):
    """SevenNet in batch mode: per-structure graphs collated into one torch_geometric batch."""

    name = "sevennet"

    def __init__(self, device: str = "cpu", batch_size: int = 32):
        import warnings

        super().__init__(device, batch_size)
        checkpoint = _sevennet_checkpoint()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model = checkpoint.build_model()
        import sevenn._keys as keys

        self.cutoff = checkpoint.config[keys.CUTOFF]
        self.model.set_is_batch_data(True)
        self.model.to(device)
        self.model.eval()

    def evaluate(self, atoms_list):
        import sevenn._keys as keys
        from sevenn.atom_graph_data import AtomGraphData
        from sevenn.train.dataload import unlabeled_atoms_to_graph
        from torch_geometric.loader.dataloader import Collater

        results = []
        collate = Collater([], follow_batch=None, exclude_keys=None)
        for start in range(0, len(atoms_list), self.batch_size):
            chunk = atoms_list[start : start + self.batch_size]
            graphs = [
                AtomGraphData.from_numpy_dict(unlabeled_atoms_to_graph(atoms, self.cutoff, with_shift=False))
                for atoms in chunk
            ]
            batch = collate(graphs).to(self.device)
            output = self.model(batch)
            self.forward_passes += 1
            energies = output[keys.PRED_TOTAL_ENERGY].detach().cpu().numpy().reshape(-1)
            forces = output[keys.PRED_FORCE].detach().cpu().numpy()
            stresses = -output[keys.PRED_STRESS].detach().cpu().numpy().reshape(len(chunk), 6)[:, [0, 1, 2, 4, 5, 3]]
            offset = 0
            for index, atoms in enumerate(chunk):
                energy = float(energies[index])
                results.append(
                    {
                        "energy": energy,
                        "free_energy": energy,
                        "forces": forces[offset : offset + len(atoms)].astype(float),
                        "stress": stresses[index].astype(float),
                    }
                )
                offset += len(atoms)
        return results


def make_batched_potential(name: str = "chgnet", device: str = "cpu", batch_size: int = 32) -> BatchedPotential:
    """A batched evaluator for ``name`` (cached per process, device and batch size)."""
    _check(name, device)
    return _make_batched(name, device, batch_size)


@cache
def _make_batched(name: str, device: str, batch_size: int) -> BatchedPotential:
    return (BatchedCHGNet if name == "chgnet" else BatchedSevenNet)(device=device, batch_size=batch_size)
