"""Score models in a child process that holds the data and nothing else.

A logged model can carry code (pickled objects, `code_paths`) that runs when it is loaded. The
promotion job holds the promotion credential, so it never loads a model itself: it downloads
the artifacts, then a child process with a scrubbed environment (no tracking URI or
credentials, no GitHub token) and only a local folder loads each model and writes its
predictions. This is defence in depth, not a sandbox: the child runs as the same user, so the
trust rests on provenance and review (see CONTRIBUTING, "Who can move the champion"). The
child dies with the job (`mlgate.children`), and the job's temporary folder is named with its
pid, so a folder left by a killed job is removed by the next one.

    python -m mlgate.registry.score FEATURES.parquet OUT_DIR MODEL_DIR [MODEL_DIR ...]

writes OUT_DIR/<i>.parquet (the model's outputs: one column for a regressor, one probability
column per class for a classifier) with OUT_DIR/<i>.json (the task record the model carries,
so the parent scores it by its own classes and threshold), or OUT_DIR/<i>.error (why model i
could not score the features), and exits 0 unless the features themselves cannot be read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlgate import children, preload, termination
from mlgate.errors import UserError
from mlgate.train.evaluation import NotComparableError

KEPT_ENV = (
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT", "PYTHONPATH",
    "VIRTUAL_ENV",
)  # fmt: skip
TIMEOUT_S = 900.0
KIND = "score"


@dataclass(frozen=True)
class Scored:
    """What one model returned for the features, and the task record it was logged with."""

    outputs: np.ndarray  # (n,) for a regressor, (n, classes) for a classifier
    record: dict[str, Any]


def child_env(env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The child's whole environment: locale and paths, never a credential."""
    kept = {name: env[name] for name in KEPT_ENV if name in env}
    quiet = {"MLFLOW_LOGGING_LEVEL": "WARNING", "PYTHONNOUSERSITE": "1"}
    return {**kept, **quiet, **children.parent_env()}


def predict_isolated(
    model_uris: Sequence[str], features: pd.DataFrame
) -> list[Scored | NotComparableError]:
    """Download each model, score `features` with it in the child; one result per model."""
    import mlflow

    children.sweep(KIND)
    with tempfile.TemporaryDirectory(prefix=children.owned_prefix(KIND)) as tmp:
        folder = Path(tmp)
        models = []
        for i, uri in enumerate(model_uris):
            termination.check()
            target = folder / f"model-{i}"
            target.mkdir()
            models.append(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=target))
        features.to_parquet(folder / "features.parquet", index=False)
        out = folder / "out"
        out.mkdir()
        command = [sys.executable, "-m", "mlgate.registry.score"]
        command += [str(folder / "features.parquet"), str(out), *models]
        try:
            with termination.interruptible():  # subprocess.run kills the child as it unwinds
                done = subprocess.run(
                    command,
                    cwd=folder,
                    env=child_env(),
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT_S,
                    check=False,
                )
        except subprocess.TimeoutExpired:
            raise UserError(f"scoring the models took over {TIMEOUT_S:.0f} s: stopped") from None
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
            raise UserError(f"the scoring process failed: {lines[-1][:300]}")
        results: list[Scored | NotComparableError] = []
        for i in range(len(models)):
            error = out / f"{i}.error"
            if error.exists():
                results.append(NotComparableError(error.read_text(encoding="utf-8")))
                continue
            matrix = pd.read_parquet(out / f"{i}.parquet").to_numpy(dtype=np.float64)
            record = json.loads((out / f"{i}.json").read_text(encoding="utf-8"))
            outputs = matrix.reshape(-1) if matrix.shape[1] == 1 else matrix
            results.append(Scored(outputs, record))
        return results


def main(argv: Sequence[str] | None = None) -> int:
    preload.skops_first()
    import mlflow

    from mlgate.tasks import METADATA_KEY
    from mlgate.train.evaluation import outputs_of

    features_path, out_dir, *models = argv if argv is not None else sys.argv[1:]
    features = pd.read_parquet(features_path)
    out = Path(out_dir)
    for i, model_dir in enumerate(models):
        try:
            try:
                # Only the last line of this process's stderr is ever read: MLflow's check
                # of the model's requirements against the installed ones (about 0.3 s of
                # reading every distribution's metadata per model) would print to no one.
                model = mlflow.pyfunc.load_model(model_dir, suppress_warnings=True)
            except Exception as exc:  # any load failure means "cannot score", never a crash
                raise NotComparableError(f"cannot load the model: {exc}".splitlines()[0]) from None
            outputs = outputs_of(model, features)
        except NotComparableError as exc:
            (out / f"{i}.error").write_text(str(exc), encoding="utf-8")
            continue
        matrix = outputs.reshape(len(features), -1)
        frame = pd.DataFrame(matrix, columns=[str(c) for c in range(matrix.shape[1])])
        frame.to_parquet(out / f"{i}.parquet", index=False)
        record = (model.metadata.metadata or {}).get(METADATA_KEY) or {"task": "regression"}
        (out / f"{i}.json").write_text(json.dumps(record), encoding="utf-8")
    return 0


if __name__ == "__main__":
    children.die_with_parent()
    sys.exit(main())
