"""The ASGI app ``lithioscreen serve`` runs: MLflow's own scoring app behind :mod:`scoring_guard`.

uvicorn imports this file as a top-level module (``--app-dir`` this folder, ``serving_app:app``),
with the environment MLflow's ``scoring_server.get_cmd`` prepares (the downloaded model's path and
the request timeout). Nothing from the ``lithioscreen`` package is imported here: the model loads
the package from the copy logged with it (``code_paths``), as under ``mlflow models serve``.
"""

import os

from mlflow.pyfunc import scoring_server
from scoring_guard import GuardedApp  # the sibling file, as a top-level module

app = GuardedApp(
    scoring_server.init(scoring_server.load_model_with_mlflow_config(os.environ[scoring_server._SERVER_MODEL_PATH]))
)
