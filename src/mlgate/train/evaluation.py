"""Scoring models the way they are served, and measuring what a reviewer weighs.

Candidates and champions are both loaded through MLflow's pyfunc flavour from the store, with
its schema enforcement, so a comparison scores exactly what serving would score, and a
champion whose input schema differs is reported as not comparable instead of crashing.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlgate.report.breakdown import Breakdown
from mlgate.report.document import Latency
from mlgate.tasks.regression import Regression

if TYPE_CHECKING:
    from mlflow.pyfunc import PyFuncModel

    from mlgate.contract import Dataset
    from mlgate.tasks.base import Task

REPORTED_METRICS = Regression.metric_names


class NotComparableError(Exception):
    """A model could not score the data (its signature differs, or it failed to load)."""


def load_served(model_uri: str) -> tuple[PyFuncModel, int]:
    """Download a model as serving would, and load it; returns the model and its size on disk.

    The download lives in a temporary folder for as long as the loaded model does (a flavour
    may read its files lazily, and shipped code stays importable), then is removed.
    """
    import mlflow

    folder = tempfile.mkdtemp(prefix="mlgate-model-")
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=folder))
        size = sum(f.stat().st_size for f in local.rglob("*") if f.is_file())
        model = mlflow.pyfunc.load_model(str(local))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    weakref.finalize(model, shutil.rmtree, folder, ignore_errors=True)
    return model, size


def outputs_of(model: PyFuncModel, features: pd.DataFrame) -> np.ndarray:
    """What the model returns, as floats: one per row, or one probability per class and row."""
    from mlflow.exceptions import MlflowException

    try:
        out = model.predict(features)
        return np.asarray(out, dtype=np.float64)
    except (MlflowException, KeyError, ValueError, TypeError) as exc:
        raise NotComparableError(_cause(exc)) from None


def evaluate(
    task: Task, model: PyFuncModel, data: Dataset, *, prefix: str = ""
) -> tuple[dict[str, float], Breakdown | None]:
    """The task's validation metrics of a served model (logged with `prefix`), and its
    breakdown for the comment (a classifier's confusion matrix and curves; None otherwise).

    The model's outputs come through pyfunc, as serving returns them; what the task needs to
    read them (the classes, the decision threshold) comes from the model's own record, so a
    champion is scored by its threshold, not the candidate's. A model logged for another task,
    or whose outputs do not fit it, is NotComparableError.
    """
    try:
        description = task.description_of(model)
    except ValueError as exc:
        raise NotComparableError(_cause(exc)) from None
    out = outputs_of(model, data.features)
    scores = score_outputs(task, data.target, out, description, prefix=prefix)
    raw = task.breakdown(data.target, out, description)
    return scores, Breakdown.model_validate(raw) if raw is not None else None


def score_outputs(
    task: Task,
    target: pd.Series,
    outputs: np.ndarray,
    record: dict[str, Any],
    *,
    prefix: str = "",
) -> dict[str, float]:
    """The task's metrics of outputs a model returned (here or in the scoring child), logged
    with `prefix`; NotComparableError when the model's record or outputs do not fit the task."""
    import mlflow

    try:
        scores = task.score(target, outputs, task.check_record(record))
    except (KeyError, ValueError, TypeError) as exc:
        raise NotComparableError(_cause(exc)) from None
    if mlflow.active_run() is not None:
        mlflow.log_metrics({f"{prefix}{key}": value for key, value in scores.items()})
    return scores


def _cause(exc: BaseException) -> str:
    """The reason, without the input table MLflow's schema errors print before it."""
    text = str(exc)
    if "Error: " in text:
        text = text.rsplit("Error: ", 1)[1]
    return " ".join(text.split())[:300] or type(exc).__name__


def rmse(target: pd.Series, predictions: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(target, dtype=np.float64) - predictions) ** 2)))


def latency(model: PyFuncModel, features: pd.DataFrame, batch: int, repeats: int) -> Latency:
    """p50/p95 of predicting one batch of raw records, after one warm-up call."""
    rows = features.iloc[np.arange(batch) % len(features)].reset_index(drop=True)
    model.predict(rows)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(rows)
        samples.append((time.perf_counter() - start) * 1000)
    p50, p95 = np.percentile(samples, [50, 95])
    return Latency(batch_size=batch, p50_ms=float(p50), p95_ms=float(p95))
