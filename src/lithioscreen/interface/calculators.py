"""Interatomic potentials for the interface calculations: ASE calculators and batched evaluators.

Universal potentials whose weights ship inside their PyPI wheels, so nothing is downloaded at run
time (``pip install -e '.[mlip]'``). The committee of protocol v2 (issue 15):

=================  ================================================  =========================
name               model                                             ``method`` in the data
=================  ================================================  =========================
``chgnet``         CHGNet 0.3.0 (MPtrj, PBE/PBE+U)                   ``mlip:chgnet``
``sevennet``       SevenNet-0 (11 Jul 2024, MPtrj; NequIP-type)      ``mlip:sevennet``
``sevennet-l3i5``  SevenNet-l3i5 (MPtrj; l_max 3, 5 layers)          ``mlip:sevennet-l3i5``
``chgnet-r2scan``  CHGNet r2SCAN (transfer-learned on MP-r2SCAN)     ``mlip:chgnet-r2scan``
``sevennet-mf0``   SevenNet-MF-0, PBE modal (multi-fidelity)         ``mlip:sevennet-mf0``
=================  ================================================  =========================

Any other ASE calculator can be passed to the library functions directly (it then runs
structure by structure). :func:`make_batched_potential` returns an evaluator that computes
energies, forces and stresses of many structures in one forward pass of the model (the lockstep
path of :mod:`lithioscreen.interface.batch`, used on CPU and GPU).

The device is always passed explicitly (``cpu`` or ``cuda``); nothing queries NVML. CHGNet's
``chgnet.utils`` imports ``nvidia_smi`` (nvidia-ml-py3) at import time only to rank GPUs by free
memory, which an explicit device never uses, so when that package is absent a stub stands in
(:func:`_guard_nvidia_smi`) instead of making CHGNet unusable.

The packages are imported only inside these functions, so the rest of lithioscreen works
without the ``mlip`` extra; :class:`PotentialUnavailableError` says what to install.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np


@dataclass(frozen=True)
class PotentialSpec:
    family: str  # 'chgnet' or 'sevennet'
    model: str  # CHGNet.load model_name, or the sevenn checkpoint name
    description: str
    modal: str | None = None  # multi-fidelity SevenNet: the training fidelity to predict


POTENTIALS = {
    "chgnet": PotentialSpec("chgnet", "0.3.0", "CHGNet 0.3.0 (weights in the chgnet wheel)"),
    "sevennet": PotentialSpec("sevennet", "7net-0", "SevenNet-0 11Jul2024 (weights in the sevenn wheel)"),
    "sevennet-l3i5": PotentialSpec("sevennet", "7net-l3i5", "SevenNet-l3i5 (weights in the sevenn wheel)"),
    "chgnet-r2scan": PotentialSpec("chgnet", "r2scan", "CHGNet r2SCAN transfer-learned (weights in the chgnet wheel)"),
    "sevennet-mf0": PotentialSpec(
        "sevennet", "7net-mf-0", "SevenNet-MF-0, PBE modal (weights in the sevenn wheel)", modal="PBE"
    ),
}
#: Names accepted by ``--calculator``, with the model each one loads.
CALCULATORS = {name: spec.description for name, spec in POTENTIALS.items()}
#: The committee of protocol v2: the three every reference and training metal gets.
COMMITTEE = ("chgnet", "sevennet", "sevennet-l3i5")
DEVICES = ("cpu", "cuda")
_PACKAGES = {"chgnet": ("chgnet",), "sevennet": ("sevenn",)}


class PotentialUnavailableError(RuntimeError):
    """The requested potential (or device) cannot be used in this environment."""


def _guard_nvidia_smi() -> None:
    """Let ``import chgnet`` work without nvidia-ml-py3: its ``nvidia_smi`` is only used to pick
    the GPU with the most free memory, and we always name the device."""
    try:
        import nvidia_smi  # noqa: F401
    except ImportError:
        pass
    else:
        return
    stub = types.ModuleType("nvidia_smi")

    def unavailable(*args, **kwargs):
        raise PotentialUnavailableError("nvidia_smi (nvidia-ml-py3) is not installed; pass the device explicitly")

    for name in (
        "nvmlInit",
        "nvmlDeviceGetCount",
        "nvmlDeviceGetHandleByIndex",
        "nvmlDeviceGetMemoryInfo",
        "nvmlShutdown",
    ):
        setattr(stub, name, unavailable)
    stub.__lithioscreen_stub__ = True
    sys.modules["nvidia_smi"] = stub


def check_available(name: str, device: str) -> None:
    """Raise unless the potential ``name`` can run on ``device`` here.

    Parameters
    ----------
    name : str
        A key of :data:`CALCULATORS`.
    device : str
        ``cpu`` or ``cuda``.

    Raises
    ------
    PotentialUnavailableError
        Naming the missing package (and the extra to install), or the missing CUDA device.
    """
    if name not in POTENTIALS:
        raise PotentialUnavailableError(f"unknown calculator {name!r}: choose one of {', '.join(POTENTIALS)}")
    if device not in DEVICES:
        raise PotentialUnavailableError(f"unknown device {device!r}: choose cpu or cuda")
    family = POTENTIALS[name].family
    if family == "chgnet":
        _guard_nvidia_smi()
    for module in ("torch", *_PACKAGES[family]):
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
                "`device` cuda: no CUDA device is visible to torch (this torch build or machine has none)"
            )


def software_versions(name: str) -> str:
    """'package==version' of the potential's package, torch, ASE and pymatgen, ';'-separated."""
    family = POTENTIALS[name].family if name in POTENTIALS else name
    packages = (*_PACKAGES.get(family, ()), "torch", "ase", "pymatgen")
    versions = []
    for package in packages:
        try:
            versions.append(f"{package}=={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    if name in POTENTIALS:
        spec = POTENTIALS[name]
        versions.append(f"model={spec.model}" + (f"[{spec.modal}]" if spec.modal else ""))
    return ";".join(versions)


@contextlib.contextmanager
def _quiet_stdout():
    """CHGNet prints 'CHGNet will run on ...' on stdout; keep stdout for data (--format json)."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


@cache
def _chgnet_model(model: str, device: str):
    _guard_nvidia_smi()
    from chgnet.model import CHGNet

    with _quiet_stdout():
        return CHGNet.load(model_name=model, use_device=device, verbose=False)


@cache
def _sevennet_checkpoint(model: str):
    import sevenn.util

    return sevenn.util.load_checkpoint(model)


def make_calculator(name: str = "chgnet", device: str = "cpu"):
    """An ASE calculator for one structure at a time (cached per process and device)."""
    check_available(name, device)
    return _make_calculator(name, device)


@cache
def _make_calculator(name: str, device: str):
    import warnings

    spec = POTENTIALS[name]
    if spec.family == "chgnet":
        from chgnet.model.dynamics import CHGNetCalculator

        with _quiet_stdout():
            return CHGNetCalculator(model=_chgnet_model(spec.model, device), use_device=device)
    from sevenn.calculator import SevenNetCalculator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no tensor-product accelerator" (cuEquivariance etc.)
        return SevenNetCalculator(model=spec.model, device=device, modal=spec.modal)


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

    def energies(self, atoms_list: Sequence) -> list[float]:
        """Energies only (the registry scan's single points), in chunks of ``batch_size``."""
        out = []
        for start in range(0, len(atoms_list), self.batch_size):
            out += [float(r["energy"]) for r in self.evaluate(list(atoms_list[start : start + self.batch_size]))]
        return out


class BatchedCHGNet(BatchedPotential):
    """CHGNet's graph batching (``CHGNet.predict_graph`` on a list of crystal graphs)."""

    name = "chgnet"

    def __init__(self, device: str = "cpu", batch_size: int = 32, model: str = "0.3.0"):
        super().__init__(device, batch_size)
        self.model = _chgnet_model(model, device)

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

    def energies(self, atoms_list):
        # task "e": no forces or stress, so no autograd graph (a batch of 32 sandwiches with "efs"
        # peaked at 12 GB on the CPU)
        from pymatgen.io.ase import AseAtomsAdaptor

        out = []
        for start in range(0, len(atoms_list), self.batch_size):
            chunk = atoms_list[start : start + self.batch_size]
            graphs = [self.model.graph_converter(AseAtomsAdaptor.get_structure(atoms)) for atoms in chunk]
            predictions = self.model.predict_graph(graphs, task="e", batch_size=self.batch_size)
            if len(graphs) == 1:
                predictions = [predictions]
            self.forward_passes += 1
            out += [float(p["e"]) * len(atoms) for p, atoms in zip(predictions, chunk, strict=True)]
        return out


class BatchedSevenNet(BatchedPotential):
    """SevenNet in batch mode: per-structure graphs collated into one torch_geometric batch."""

    name = "sevennet"

    def __init__(self, device: str = "cpu", batch_size: int = 32, model: str = "7net-0", modal: str | None = None):
        import warnings

        super().__init__(device, batch_size)
        self.modal = modal
        checkpoint = _sevennet_checkpoint(model)
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
            if self.modal:  # multi-fidelity model: which fidelity to predict (as SevenNetCalculator does)
                for graph in graphs:
                    graph[keys.DATA_MODALITY] = self.modal
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
    check_available(name, device)
    return _make_batched(name, device, batch_size)


@cache
def _make_batched(name: str, device: str, batch_size: int) -> BatchedPotential:
    spec = POTENTIALS[name]
    if spec.family == "chgnet":
        potential = BatchedCHGNet(device=device, batch_size=batch_size, model=spec.model)
    else:
        potential = BatchedSevenNet(device=device, batch_size=batch_size, model=spec.model, modal=spec.modal)
    potential.name = name
    return potential
