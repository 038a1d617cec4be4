"""lithioscreen: screen protective overlayer metals for anode-less all-solid-state Li batteries.

The package reads as the data flow, from the ground up:

    config, elements  paths and defaults; element-property tables (matminer's and pymatgen's data files)
    validation        checks shared by every entry point (thicknesses, thresholds, ids, files)
    censored          interval-censored targets (CCD "> 5.0") for any scikit-learn regressor
    acquisition       acquisition functions (EI, UCB, exploration) over a predicted CCD
    compositions      many compositions at once as arrays
    candidates        parsing user-written candidates (``W``, ``Cr0.5W0.5``), layer stacks, every pool and grid
    data/             the validated data tables, their versions and history, the intake of new cells
    features/         scikit-learn transformers: composition, Li-X phase diagram, Li/X interfacial energy, geometry
    interface/        Li/X interfacial energies computed with interatomic potentials
    models/           feasibility, CCD regressors with uncertainty, cross-validation, the threshold, the champion
    ranking, suggest  ranking candidates with the champion; which cell to build next
    reporting/        figures
    tracking/         MLflow: training runs, the model registry, promotion, the served model
    cli/              the ``lithioscreen`` command (typer)
"""

__version__ = "0.1.0"
