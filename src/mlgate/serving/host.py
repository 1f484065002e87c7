"""MLflow's scoring app in a process of its own, started before the model exists.

`mlflow models serve -m DIR --env-manager local` runs `uvicorn mlflow.pyfunc.scoring_server.app:app`
with the model's path in the environment: two interpreters, each importing MLflow, after the
model is logged (about 7 s). This host runs the same uvicorn on the same `app` module, but it
is started when training starts, imports MLflow while the model is fitted, and then reads the
model's folder from stdin. It is still a separate process with only this environment, so a
model that needs a module only the training process can import fails here as it would there.

The host exits when stdin closes, so it never outlives the process that started it.
"""

from __future__ import annotations

import os
import sys
import threading


def _exit_when_parent_goes() -> None:
    sys.stdin.read()
    os._exit(0)


def _import_loaders() -> None:
    """What loading a scikit-learn model imports anyway, so it is done before the model comes.

    Only libraries the served environment has: the model's own modules are still imported
    when it loads, from its code paths, as `mlflow models serve` would. skops goes first
    (`mlgate.preload`).
    """
    import importlib

    from mlgate import preload

    preload.skops_first()
    for name in ("mlflow.sklearn", "uvicorn.protocols.http.h11_impl"):
        try:
            importlib.import_module(name)
        except ImportError:
            continue


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m mlgate.serving.host PORT  (model folder on stdin)")
        return 2
    _import_loaders()
    import uvicorn
    from mlflow.environment_variables import MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT
    from mlflow.pyfunc import scoring_server
    from mlflow.utils.file_utils import path_to_local_file_uri

    model_dir = sys.stdin.readline().strip()
    if not model_dir:
        return 0
    threading.Thread(target=_exit_when_parent_goes, daemon=True).start()
    os.environ[scoring_server._SERVER_MODEL_PATH] = path_to_local_file_uri(model_dir)
    os.environ.setdefault(
        MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT.name, str(MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT.get())
    )
    from mlflow.pyfunc.scoring_server import app

    uvicorn.run(app.app, host="127.0.0.1", port=int(argv[0]), workers=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
