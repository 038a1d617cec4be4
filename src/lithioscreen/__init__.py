"""lithioscreen: screen protective overlayer metals for anode-less all-solid-state Li batteries.

The package reads as the data flow:

    data/       validated tables shipped in the repository's ``data/`` folder
    candidates  parsing user-written candidates (``W``, ``Cr0.5W0.5``) and layer stacks
    features/   scikit-learn transformers: composition, Li-X phase diagram, Li/X interfacial energy, geometry
    censored    interval-censored targets (CCD "> 5.0") for any scikit-learn regressor
    models/     CCD regressors with uncertainty, cross-validation, the interfacial-energy threshold
    tracking/   MLflow runs, the model registry and the exported champion in ``models/``
    ranking     ranking candidates with the champion
    cli         the ``lithioscreen`` command (typer)
"""

__version__ = "0.1.0"
