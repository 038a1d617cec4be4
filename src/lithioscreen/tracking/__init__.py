"""MLflow tracking, the model registry and the exported champion.

Importing this package does not import MLflow; :func:`train` does, when it runs.
"""

from lithioscreen.tracking.export import Champion, NoChampionError, load_champion

__all__ = ["Champion", "NoChampionError", "load_champion"]
