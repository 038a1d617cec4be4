"""Li/X interfacial energies from machine-learned interatomic potentials (the paper's protocol).

Modules: :mod:`.build` (coherent Li(100)/X sandwiches), :mod:`.relax` (ASE relaxations),
:mod:`.batch` (many relaxations with batched forward passes, for GPUs), :mod:`.fit` (the
intercept), :mod:`.calculators` (CHGNet, SevenNet), :mod:`.workflow` (the three stages),
:mod:`.cache` (results in ``data/interfacial_energies.csv``). The potentials need the ``mlip``
extra; importing this package does not.
"""
