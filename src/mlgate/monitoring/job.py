"""The monitor command: load both datasets, score them with the champion, run every check,
record the result in MLflow.

Data is loaded and validated before anything is written, and the MLflow run is opened only
once every check has a result, so a failed monitor leaves no half-filled monitoring run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from mlgate import progress, tasks
from mlgate.config import Settings
from mlgate.contract import Dataset
from mlgate.datafile import load_located
from mlgate.errors import UserError
from mlgate.monitoring import checks, reference
from mlgate.monitoring.document import ChampionRef, MonitoringReport
from mlgate.registry import versions as registry
from mlgate.storage import Location
from mlgate.tracking import connection as tracking
from mlgate.tracking.lineage import collect

if TYPE_CHECKING:
    from mlflow import MlflowClient

TAG_CHAMPION = "monitoring.champion_version"
TAG_REFERENCE = "monitoring.reference_digest"
TAG_CURRENT = "monitoring.current_digest"
TAG_VERDICT = "monitoring.verdict"


def monitor(
    settings: Settings,
    *,
    current_path: Location,
    reference_path: Location | None = None,
    env: Mapping[str, str] = os.environ,
    engine: str = "local",
    spark_master: str | None = None,
) -> MonitoringReport:
    """Compare `current_path` with the champion's training data (or `reference_path`); the
    statistics are computed in this process, or by Spark (`engine="spark"`)."""
    plugin = settings.plugin()
    if not plugin.watched:
        raise UserError(
            f"model plug-in {settings.model.plugin!r} watches no features "
            "(its `watched` list is empty): nothing to monitor"
        )
    if engine == "spark":
        uri = tracking.resolve_uri(env)
        client = tracking.connect(uri, settings.tracking.connect_retries)
        champion = reference.find_champion(client, settings)
        from mlgate.spark.command import monitor_with_spark

        ref_info, current_info, results, distributions = monitor_with_spark(
            settings, client, champion, current_path, reference_path, spark_master
        )
    else:
        uri, client, champion, ref_info, current_info, results, distributions = _local(
            settings, current_path, reference_path, env
        )
    lineage = collect(settings.root, env)
    report = MonitoringReport(
        generated_at=registry.now(),
        registered_model=settings.production,
        title=f"{plugin.target.label} model monitoring",
        unit=plugin.target.unit,
        champion=champion,
        reference=ref_info,
        current=current_info,
        checks=results,
        distributions=distributions,
        tracking_uri=tracking.display_uri(uri),
        workflow_run_url=lineage.workflow_run_url,
    )
    progress.say("recording the monitoring run in MLflow")
    run_id = _log_run(client, settings, report)
    return report.model_copy(update={"run_id": run_id})


def _local(
    settings: Settings,
    current_path: Location,
    reference_path: Location | None,
    env: Mapping[str, str],
):
    """Load both files through the plug-in, score them with the champion, run every check."""
    config = settings.monitoring
    plugin = settings.plugin()
    progress.say(f"loading current data {current_path}")
    current, read = load_located(plugin, current_path)
    uri = tracking.resolve_uri(env)
    client = tracking.connect(uri, settings.tracking.connect_retries)
    champion = reference.find_champion(client, settings)
    progress.say(f"champion is v{champion.version}; loading its reference data")
    if reference_path is not None:
        ref, ref_info = reference.load_given_reference(plugin, reference_path)
    else:
        ref, ref_info = reference.load_champion_reference(client, settings, plugin, champion)
    current_info = reference.data_ref(
        current, "current", reference.digest(current), "current", read
    )
    progress.say(f"reference {ref.rows:,} rows, current {current.rows:,} rows")

    progress.say(f"scoring both with champion v{champion.version}")
    model = _load_model(champion)
    task = tasks.for_plugin(plugin)
    try:
        description = task.description_of(model)
    except ValueError as exc:
        raise UserError(f"champion v{champion.version}: {exc}") from None
    outputs = checks.Outputs(
        task,
        description,
        _outputs(model, ref, champion, config.prediction_batch),
        _outputs(model, current, champion, config.prediction_batch),
    )

    progress.say("running drift checks")
    results, distributions = checks.run_all(ref, current, plugin.watched, outputs, champion, config)
    return uri, client, champion, ref_info, current_info, results, distributions


def _load_model(champion: ChampionRef):
    from mlgate.train import evaluation

    try:
        model, _ = evaluation.load_served(champion.model_uri)
    except Exception as exc:  # MLflow raises many types for a model it cannot load
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"cannot load champion {champion.model_uri}: {first}") from None
    return model


def _outputs(model, data: Dataset, champion: ChampionRef, batch: int) -> np.ndarray:
    """What the model returns, in batches, so a month of millions of rows is scored in
    bounded memory: one prediction per row, or one probability per class and row."""
    from mlgate.train import evaluation

    parts = []
    for start in range(0, data.rows, batch):
        chunk = data.features.iloc[start : start + batch]
        try:
            parts.append(evaluation.outputs_of(model, chunk))
        except evaluation.NotComparableError as exc:
            raise UserError(
                f"{data.path}: champion v{champion.version} cannot score it: {exc}"
            ) from None
        progress.count(f"scored rows of {data.path.name}", min(start + batch, data.rows), data.rows)
    return np.concatenate(parts) if parts else np.array([])


def _log_run(client: MlflowClient, settings: Settings, report: MonitoringReport) -> str:
    import mlflow

    from mlgate.monitoring.markdown import render_monitoring

    name = settings.monitoring_experiment
    existing = client.get_experiment_by_name(name)
    experiment_id = existing.experiment_id if existing else client.create_experiment(name)
    with mlflow.start_run(experiment_id=experiment_id, run_name="monitor") as run:
        mlflow.set_tags(
            {
                TAG_CHAMPION: report.champion.version,
                TAG_REFERENCE: report.reference.digest,
                TAG_CURRENT: report.current.digest,
                TAG_VERDICT: "drift" if report.drift else "no-drift",
                "monitoring.registered_model": report.registered_model,
                "monitoring.current_path": report.current.path[:500],
                "monitoring.reference_path": report.reference.path[:500],
                "monitoring.drifted": ",".join(report.drifted_subjects)[:500],
            }
        )
        mlflow.log_metrics(
            {
                _metric_key(check.kind, check.subject, check.test): check.statistic
                for check in report.checks
                if check.statistic is not None
            }
        )
        final = report.model_copy(update={"run_id": run.info.run_id})
        mlflow.log_text(final.model_dump_json(indent=2), "monitoring/monitoring.json")
        mlflow.log_text(render_monitoring(final), "monitoring/monitoring.md")
        return run.info.run_id


def _metric_key(kind: str, subject: str, test: str) -> str:
    """An MLflow metric name: letters, digits and `_-./ ` only."""
    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", f"{kind}.{subject}.{test}").replace(" ", "_")
