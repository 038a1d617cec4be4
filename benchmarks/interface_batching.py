"""Speed of batched relaxations (one forward pass for all structures per optimizer step) versus
relaxing the same structures one after another, on CPU or a GPU.

    python benchmarks/interface_batching.py                       # CPU, small
    python benchmarks/interface_batching.py --device cuda --structures 8 32 64 --calculator chgnet

Every relaxation runs exactly ``--steps`` BFGS steps (the force tolerance is set unreachably
low) so both paths do the same work; the structures are Li(100)/Mo(110) sandwiches of the
default protocol with their Li slab randomly perturbed (rattled), so they are all different.
Prints wall time, structures per second and the speed-up. GPU figures come only from running this
on a GPU; none has been measured yet in this repository (see README).
"""

from __future__ import annotations

import argparse
import time
import warnings


def structures(count: int, seed: int = 0):
    from lithioscreen.interface import build

    li, mo = build.reference_bulk("Li"), build.reference_bulk("Mo")
    series = build.build_series(li, mo, "Mo", "110")
    out = []
    for index in range(count):
        atoms = series.structures[index % len(series.structures)].copy()
        atoms.rattle(0.02, seed=seed + index)
        out.append(atoms)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--calculator", default="chgnet")
    parser.add_argument("--structures", type=int, nargs="+", default=[3, 6])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import torch

    from lithioscreen.interface.batch import relax_batched
    from lithioscreen.interface.calculators import make_batched_potential, make_calculator
    from lithioscreen.interface.relax import RelaxTask, relax

    device_name = (
        torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} torch threads"
    )
    print(f"{args.calculator} on {args.device} ({device_name}); {args.steps} BFGS steps per structure")
    calculator = make_calculator(args.calculator, args.device)
    potential = make_batched_potential(args.calculator, args.device, args.batch_size)
    warm = structures(1)
    relax(RelaxTask(("warm",), warm[0], "interface", fmax=1e-9, steps=1), calculator)  # load, compile kernels
    print(
        f"{'structures':>10} {'atoms':>7} {'sequential s':>13} {'batched s':>10} {'speed-up':>9} {'batched structures/s':>21}"
    )
    for count in args.structures:
        atoms_list = structures(count)
        tasks = [
            RelaxTask(("bench", i), atoms, "interface", fmax=1e-9, steps=args.steps)
            for i, atoms in enumerate(atoms_list)
        ]
        if args.device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        sequential = [relax(task, calculator) for task in tasks]
        if args.device == "cuda":
            torch.cuda.synchronize()
        t_sequential = time.perf_counter() - start
        start = time.perf_counter()
        batched = relax_batched(tasks, potential)
        if args.device == "cuda":
            torch.cuda.synchronize()
        t_batched = time.perf_counter() - start
        worst = max(abs(a.energy_ev - b.energy_ev) for a, b in zip(sequential, batched))
        print(
            f"{count:>10} {sum(len(a) for a in atoms_list):>7} {t_sequential:>13.1f} {t_batched:>10.1f} "
            f"{t_sequential / t_batched:>9.2f} {count * args.steps / t_batched:>21.2f}   (max |ΔE| {worst:.1e} eV)"
        )


if __name__ == "__main__":
    main()
