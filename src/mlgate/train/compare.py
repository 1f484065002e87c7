"""The champion as the candidate meets it: scored on the candidate's own validation rows
(and timed the same way), its recent values of the gate metric, and the deltas between
the two."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgate import progress
from mlgate.config import Settings
from mlgate.contract import Dataset
from mlgate.registry import versions as registry
from mlgate.report.document import GREATER_IS_BETTER, Champion, Delta, HistoryPoint
from mlgate.train import evaluation

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from mlgate.tasks.base import Task


def champion(
    client: MlflowClient, settings: Settings, val_data: Dataset, task: Task
) -> Champion | None:
    """The champion scored on the candidate's validation data, or why it could not be."""
    name, alias = settings.production, settings.tracking.champion_alias
    current = registry.champion(client, name, alias)
    if current is None:
        progress.say("no champion yet")
        return None
    progress.say(f"scoring champion v{current.version}…")
    run = client.get_run(current.run_id) if current.run_id else None
    recorded = dict(run.data.metrics) if run else {}
    params = dict(run.data.params) if run else {}
    common = {
        "version": str(current.version),
        "run_id": current.run_id,
        "estimator": params.get("estimator"),
        "params": params,
        "recorded_metrics": {k: v for k, v in recorded.items() if k in task.metric_names},
        "data_digests": {
            role: current.tags[f"data.{role}.digest"]
            for role in ("train", "validation")
            if f"data.{role}.digest" in current.tags
        },
    }
    try:
        model, size = evaluation.load_served(f"models:/{name}@{alias}")
        scored, breakdown = evaluation.evaluate(task, model, val_data, prefix="champion_")
    except evaluation.NotComparableError as exc:
        return Champion(comparable=False, not_comparable_reason=str(exc), **common)
    # Measured like the candidate's, on the same rows, so the comment can set them side by side.
    config = settings.report
    lat = evaluation.latency(model, val_data.features, config.latency_batch, config.latency_repeats)
    return Champion(
        comparable=True,
        metrics=scored,
        model_size_bytes=size,
        latency=lat,
        breakdown=breakdown,
        **common,
    )


def history(client: MlflowClient, settings: Settings) -> list[HistoryPoint]:
    metric = settings.gate.metric
    points = []
    for version in registry.recent_champions(client, settings.production, settings.report.history):
        value = client.get_run(version.run_id).data.metrics.get(metric) if version.run_id else None
        if value is not None:
            points.append(
                HistoryPoint(version=str(version.version), value=value, label=f"v{version.version}")
            )
    return points


def deltas(candidate: dict[str, float], champion: dict[str, float]) -> dict[str, Delta]:
    deltas = {}
    for key, mine in candidate.items():
        if key not in champion:
            continue
        theirs = champion[key]
        diff = mine - theirs
        better = None if diff == 0 else (diff > 0) == GREATER_IS_BETTER.get(key, False)
        deltas[key] = Delta(
            candidate=mine,
            champion=theirs,
            absolute=diff,
            relative=diff / abs(theirs) if theirs else None,
            better=better,
        )
    return deltas
