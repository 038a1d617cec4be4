"""MLflow: training runs, the model registry, promotion, and the served pyfunc.

Importing this package does not import MLflow; :func:`lithioscreen.tracking.training.train` does,
when it runs. The exported champion that ranking loads is :mod:`lithioscreen.models.champion`.
"""
