"""Many relaxations at once, with one batched forward pass of the potential per optimizer step.

On a GPU, relaxing structures one after another leaves the device mostly idle (a 50-atom
structure is a tiny graph). Here every task gets its own ASE optimizer, and all optimizers are
stepped in lockstep (the same sequence of geometries as :meth:`~ase.optimize.optimize.Dynamics.run`):

1. collect the current geometry of every unfinished task;
2. evaluate all of them in ONE call of a :class:`~lithioscreen.interface.calculators.BatchedPotential`
   (a batched graph on the device);
3. hand each result to that task's :class:`ServedCalculator`, check convergence and, if not
   converged, take one optimizer step (which moves the atoms to the next geometry).

The optimizer then asks its calculator for energy/forces/stress at exactly the geometry just
evaluated, and gets the served result. Should it ask for any other geometry (a line search,
say), the calculator evaluates that structure alone, so the results never depend on the cache:
the batched relaxation follows the same path as the sequential one (up to floating-point
summation order), which the tests check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from lithioscreen.interface.relax import RelaxResult, RelaxTask, finish, make_optimizer


def _same_geometry(a, b) -> bool:
    return (
        len(a) == len(b)
        and np.array_equal(a.numbers, b.numbers)
        and np.array_equal(a.positions, b.positions)
        and np.array_equal(np.asarray(a.cell), np.asarray(b.cell))
        and np.array_equal(a.pbc, b.pbc)
    )


def _served_calculator_class():
    from ase.calculators.calculator import Calculator, all_changes

    class ServedCalculator(Calculator):
        """An ASE calculator that returns results computed elsewhere (in a batch) for the
        geometry they were computed at, and falls back to a single evaluation otherwise."""

        implemented_properties = ["energy", "free_energy", "forces", "stress"]

        def __init__(self, potential):
            super().__init__()
            self.potential = potential
            self.served = None  # (atoms snapshot, results)
            self.hits = 0
            self.misses = 0

        def serve(self, atoms, results) -> None:
            self.served = (atoms.copy(), results)

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            if self.served is not None and _same_geometry(self.served[0], self.atoms):
                self.results = dict(self.served[1])
                self.hits += 1
            else:
                self.results = dict(self.potential.evaluate([self.atoms])[0])
                self.misses += 1

    return ServedCalculator


def relax_batched(
    tasks: Sequence[RelaxTask],
    potential,
    progress: Callable[[RelaxResult], None] | None = None,
) -> list[RelaxResult]:
    """Relax every task, evaluating all unfinished ones together at each step.

    ``potential`` is a :class:`~lithioscreen.interface.calculators.BatchedPotential`. Results come
    back in the order of ``tasks``; ``progress`` is called as each task finishes.
    """
    served_class = _served_calculator_class()
    start = time.perf_counter()
    states = []
    for task in tasks:
        atoms = task.atoms.copy()
        calculator = served_class(potential)
        atoms.calc = calculator
        optimizer = make_optimizer(atoms, task)
        optimizer.fmax = task.fmax
        states.append({"task": task, "atoms": atoms, "calc": calculator, "opt": optimizer})
    results: list[RelaxResult | None] = [None] * len(tasks)
    active = list(range(len(tasks)))
    while active:
        # one forward pass for the current geometry of every unfinished relaxation
        evaluations = potential.evaluate([states[index]["atoms"] for index in active])
        still_active = []
        for index, evaluation in zip(active, evaluations, strict=True):
            state, optimizer = states[index], states[index]["opt"]
            state["calc"].serve(state["atoms"], evaluation)
            # the same sequence as Optimizer.run: check convergence at this geometry, else one step
            # (which reads the served forces and moves the atoms to the next geometry)
            converged = bool(optimizer.gradient_converged(optimizer.optimizable.get_gradient()))
            if converged or optimizer.nsteps >= state["task"].steps:
                result = finish(state["task"], state["atoms"], converged, optimizer.nsteps, time.perf_counter() - start)
                results[index] = result
                if progress is not None:
                    progress(result)
                continue
            optimizer.step()
            optimizer.nsteps += 1
            still_active.append(index)
        active = still_active
    return results  # type: ignore[return-value]
