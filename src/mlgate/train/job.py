"""The training job: fit, track, compare with the champion, gate, register, report.

Order matters for "nothing half-written": data is validated before MLflow is touched, and the
model version is registered last, after every measurement succeeded and the report was
rehearsed (rendered and written in full), so a failed run leaves a failed MLflow run and no
version that a merge could promote. Registering and writing the report are one step: SIGTERM
is held back across them, and a failure in between takes the version back. The serving
contract (when `[serving] check` is on) runs just before registration for the same reason: a
candidate that MLflow's scoring server cannot serve is reported, with the failing request, and
not registered.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import progress, tasks
from mlgate.config import Settings
from mlgate.contract import Dataset, ModelPlugin
from mlgate.datafile import load_located
from mlgate.errors import UserError
from mlgate.registry import versions as registry
from mlgate.report.document import (
    GREATER_IS_BETTER,
    Candidate,
    Champion,
    Comparison,
    DatasetInfo,
    Delta,
    HistoryPoint,
    Lineage,
    Links,
    ModelInfo,
    Report,
    Serving,
    Status,
    Tuning,
)
from mlgate.serving.check import Options, WarmServers, serve_check
from mlgate.storage import Location, Origin, dataset_source, input_tags, shown
from mlgate.tracking import connection as tracking
from mlgate.tracking.lineage import collect
from mlgate.tracking.newstore import Creation
from mlgate.tracking.runs import tracked_run
from mlgate.tracking.store import Store, choose_store
from mlgate.tracking.store import ephemeral as _ephemeral
from mlgate.train import estimator, evaluation, libraries
from mlgate.train.gate import decide
from mlgate.train.signals import TERMINATED_EXIT, Termination, terminable

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from mlgate.report.outputs import ReportOutputs
    from mlgate.tasks.base import Task

SERVING_PACKAGES = ("mlflow", "scikit-learn", "pandas", "numpy", "scipy", "cloudpickle")


@contextmanager
def _timed(timings: dict[str, float], key: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = round(time.perf_counter() - start, 4)


def train(
    settings: Settings,
    *,
    train_path: Location | None = None,
    val_path: Location | None = None,
    params: dict[str, Any] | None = None,
    fallback_local: bool = False,
    check_requirements: bool = False,
    env: Mapping[str, str] = os.environ,
    estimator_path: str | None = None,
    tuning: Tuning | None = None,
    parent_run_id: str | None = None,
    store: Store | None = None,
    creation: Creation | None = None,
    outputs: ReportOutputs | None = None,
    before_register: Callable[[], None] | None = None,
) -> Report:
    """Run the whole job and return the report; with `outputs`, the report is written too,
    together with the registration (the caller prints it). `before_register` runs just before
    registering and may refuse it by raising (a tuning refit confirms its claim there).

    A tuning search passes its winner (`estimator_path`, `params`), its record (`tuning`), its
    parent run to nest under, and the store it already opened. The CLI passes the store and
    its `creation`, started before the heavy imports, so a new store is made meanwhile.
    With the serving check on, an unservable candidate is not registered: the report comes back
    with a failed status that says why, and the caller exits non-zero.
    """
    serving_on = settings.serving.check or check_requirements
    with (
        terminable() as termination,
        WarmServers(_serving_options(settings, check_requirements), enabled=serving_on) as warm,
    ):
        return _train(
            settings,
            warm,
            termination,
            outputs,
            train_path=train_path,
            val_path=val_path,
            params=params,
            fallback_local=fallback_local,
            check_requirements=check_requirements,
            env=env,
            estimator_path=estimator_path,
            tuning=tuning,
            parent_run_id=parent_run_id,
            store=store,
            creation=creation,
            before_register=before_register,
        )


def _train(
    settings: Settings,
    warm: WarmServers,
    termination: Termination,
    outputs: ReportOutputs | None,
    *,
    train_path: Location | None,
    val_path: Location | None,
    params: dict[str, Any] | None,
    fallback_local: bool,
    check_requirements: bool,
    env: Mapping[str, str],
    estimator_path: str | None,
    tuning: Tuning | None,
    parent_run_id: str | None,
    store: Store | None,
    creation: Creation | None,
    before_register: Callable[[], None] | None = None,
) -> Report:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    chosen = estimator_path or settings.model.estimator
    base = settings.model.params if chosen == settings.model.estimator else {}
    model_config = settings.model.model_copy(
        update={"estimator": chosen, "params": {**base, **(params or {})}}
    )
    store = store or choose_store(env)
    # A store that does not exist yet is created in a side process while the data loads.
    with creation or Creation.start(store.uri) as creation:
        plugin = settings.plugin()
        task = tasks.for_plugin(plugin)
        task.check_gate(settings.gate.metric, settings.gate.bounds)
        task.check_threshold(
            model_config.decision_threshold, "decision_threshold" in model_config.model_fields_set
        )
        pipeline = estimator.build(plugin, model_config)
        progress.say("loading data…")
        with _timed(timings, "load"):
            train_data, train_origin = load_located(plugin, settings.data_path("train", train_path))
            val_data, val_origin = load_located(plugin, settings.data_path("validation", val_path))
        task.check_data(train_data, val_data)
        lineage = collect(settings.root, env)
        if creation.pending:
            _import_ahead()
        creation.wait()
    retries = settings.tracking.connect_retries
    progress.say(f"connecting to tracking store {tracking.display_uri(store.uri)}…")
    try:
        client = tracking.connect(store.uri, retries)
    except tracking.TrackingUnavailableError as exc:
        if not fallback_local:
            raise
        store = _ephemeral(f"the tracking server could not be reached ({exc})")
        client = tracking.connect(store.uri, retries)

    import mlflow

    names = settings.tracking
    if (
        warm.enabled
        and store.skipped_reason is None
        and registry.champion(client, settings.production, names.champion_alias) is not None
    ):
        warm.spawn_champion()
    experiment_id = _experiment(client, settings.experiment, store.artifact_location)
    with tracked_run(
        client, retries, experiment_id=experiment_id, parent_run_id=parent_run_id
    ) as run:
        run_id = run.info.run_id
        mlflow.set_tags(_lineage_tags(lineage))
        progress.say(f"fitting {model_config.estimator} on {train_data.rows:,} rows…")
        with _timed(timings, "fit"):
            _fit_within(
                pipeline, train_data, task.fit_target(train_data), model_config.max_fit_seconds
            )
        used_params = {
            "estimator": model_config.estimator,
            **estimator.logged_params(pipeline),
            **task.params(model_config.decision_threshold),
        }
        mlflow.log_params({k: _param(v) for k, v in used_params.items()})
        datasets = _log_datasets(
            (train_data, train_origin), (val_data, val_origin), settings.root, plugin
        )
        progress.say("logging model…")
        with _timed(timings, "log_model"):
            trusted = estimator.trusted_types(pipeline, plugin)
            info = mlflow.sklearn.log_model(
                pipeline,
                name="model",
                signature=plugin.signature(
                    train_data, task.outputs(pipeline, train_data.features.head(100))
                ),
                input_example=plugin.input_example(val_data),
                pip_requirements=[*_pip_requirements(), *libraries.requirements(trusted)],
                code_paths=estimator.code_paths(trusted) or None,
                skops_trusted_types=trusted,
                pyfunc_predict_fn=task.predict_fn,
                metadata={
                    tasks.METADATA_KEY: task.describe(train_data, model_config.decision_threshold)
                },
            )
        progress.say(f"evaluating on {val_data.rows:,} validation rows…")
        with _timed(timings, "evaluate"):
            served, size = evaluation.load_served(info.model_uri)
            candidate_metrics, breakdown = evaluation.evaluate(task, served, val_data)
            train_score = task.train_score(pipeline, train_data)
            mlflow.log_metric(task.train_metric, train_score)
            candidate_metrics[task.train_metric] = train_score
            lat = evaluation.latency(
                served,
                val_data.features,
                settings.report.latency_batch,
                settings.report.latency_repeats,
            )
            mlflow.log_metrics(
                {
                    "latency_p50_ms": lat.p50_ms,
                    "latency_p95_ms": lat.p95_ms,
                    "model_size_bytes": size,
                }
            )
        with _timed(timings, "compare"):
            champ = None
            if store.skipped_reason is None:
                champ = _champion(client, settings, val_data, task)
            comparable = champ is not None and champ.comparable
            gate = decide(
                settings.gate,
                candidate_metrics,
                champ.metrics if comparable else None,
                f"champion v{champ.version}" if champ else "the champion",
                plugin.target.unit,
            )
            history = _history(client, settings) if store.skipped_reason is None else []
        mlflow.set_tags({"gate.passed": str(gate.passed).lower(), "gate.baseline": gate.baseline})
        serving = None
        if settings.serving.check or check_requirements:
            with _timed(timings, "serving"):
                serving = _serving(settings, info.model_uri, champ, warm, check_requirements)
            mlflow.set_tag("serving.passed", str(serving.passed).lower())
        unservable = serving is not None and not serving.passed
        ui = (env.get("MLFLOW_UI_URL") or settings.tracking.ui_url or "").rstrip("/")
        name = settings.registered_model

        def build(version: ModelVersion | None) -> Report:
            timings["total"] = round(time.perf_counter() - started, 4)
            status = (
                Status(outcome="failure", failed_step="serving contract (nothing registered)")
                if unservable
                else Status(outcome="success")
            )
            return Report(
                generated_at=registry.now(),
                experiment=settings.experiment,
                registered_model=name,
                model=_model_info(plugin),
                tracking_uri=tracking.display_uri(store.uri),
                candidate=Candidate(
                    run_id=run_id,
                    model_uri=info.model_uri,
                    version=str(version.version) if version else None,
                    estimator=model_config.estimator,
                    params={k: _scalar(v) for k, v in used_params.items()},
                    metrics=candidate_metrics,
                    model_size_bytes=size,
                    latency=lat,
                    breakdown=breakdown,
                ),
                champion=champ,
                comparison=Comparison(
                    performed=store.skipped_reason is None, skipped_reason=store.skipped_reason
                ),
                deltas=_deltas(candidate_metrics, champ.metrics) if comparable else {},
                gate=gate,
                data=datasets,
                timings_s=timings,
                lineage=lineage,
                history=history,
                tuning=tuning
                and tuning.model_copy(
                    update={"validation_score": candidate_metrics.get(tuning.metric)}
                ),
                serving=serving,
                status=status,
                links=Links(
                    run=f"{ui}/#/experiments/{experiment_id}/runs/{run_id}" if ui else None,
                    model_version=(
                        f"{ui}/#/models/{name}/versions/{version.version}"
                        if ui and version
                        else None
                    ),
                    workflow_run=lineage.workflow_run_url,
                ),
            )

        if outputs is not None:
            outputs.rehearse(build(None))
        tags = {
            **_lineage_tags(lineage),
            **_data_tags(datasets),
            "gate.passed": str(gate.passed).lower(),
            "gate.baseline": gate.baseline,
            f"gate.{gate.metric}": _tag_value(candidate_metrics.get(gate.metric)),
            "gate.reasons": "; ".join(gate.reasons)[:4000],
            **({"serving.passed": "true"} if serving is not None else {}),
        }
        with termination.held():
            version = None
            try:
                if not unservable:
                    if before_register is not None:
                        before_register()
                    progress.say(
                        f"gate {'passed' if gate.passed else 'failed'}; registering model version…"
                    )
                    version = registry.register(name, info.model_uri, tags)
                report = build(version)
                if outputs is not None and not termination.pending:
                    outputs.commit(report)
                if termination.pending:
                    raise SystemExit(TERMINATED_EXIT)
            except BaseException:
                if outputs is not None:
                    outputs.remove()
                if version is not None:
                    _unregister(client, name, str(version.version))
                raise
    return report


def _fit_within(pipeline: Any, data: Dataset, target: Any, seconds: float) -> None:
    """Fit in a worker thread and wait at most `seconds` for it.

    A fit that never converges (say `tol=0` with a huge `max_iter`) cannot be interrupted
    from inside scikit-learn; past the budget the job fails (the run is marked FAILED) and the
    daemon thread ends with the process.
    """
    failure: list[BaseException] = []

    def fit() -> None:
        try:
            pipeline.fit(data.features, target)
        except BaseException as exc:  # handed to the waiting thread
            failure.append(exc)

    worker = threading.Thread(target=fit, name="mlgate-fit", daemon=True)
    deadline = time.monotonic() + seconds
    worker.start()
    while worker.is_alive():
        left = deadline - time.monotonic()
        if left <= 0:
            raise UserError(
                f"model.max_fit_seconds: the fit did not finish within {seconds:g} s; it was "
                "stopped and nothing was registered (raise [model] max_fit_seconds, or give "
                "the estimator fewer iterations)"
            )
        worker.join(min(left, 0.25))  # short waits, so SIGTERM is handled promptly
    if failure:
        exc = failure[0]
        if isinstance(exc, TypeError | ValueError | OverflowError):
            raise UserError(f"model.params: {_first_line(exc)}") from None
        raise exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _unregister(client: MlflowClient, name: str, version: str) -> None:
    """Take back a version whose report could not be written (or whose job was terminated)."""
    try:
        client.delete_model_version(name, version)
        progress.say(f"version {version} of {name} was taken back: the job did not complete")
    except Exception as exc:
        progress.say(f"version {version} of {name} could not be taken back: {_first_line(exc)}")


def _import_ahead() -> None:
    """The modules this job imports anyway, imported while a side process creates the store."""
    import importlib

    for name in (
        "mlflow.sklearn",
        "mlflow.store.tracking.sqlalchemy_store",
        "mlflow.store.model_registry.sqlalchemy_store",
        "skops.io",
    ):
        importlib.import_module(name)
    # The check `log_model` makes of the pinned requirements against this environment: its
    # first call maps every installed distribution to its modules (a few tenths of a second).
    from mlflow.utils import requirements_utils

    check = getattr(requirements_utils, "warn_dependency_requirement_mismatches", None)
    if check is not None:
        check(_pip_requirements())


def _serving_options(settings: Settings, check_requirements: bool) -> Options:
    config = settings.serving
    return Options(
        batch=config.latency_batch,
        repeats=config.latency_repeats,
        startup_timeout_s=config.startup_timeout_s,
        request_timeout_s=config.request_timeout_s,
        requirements=config.requirements or check_requirements,
    )


def _serving(
    settings: Settings,
    model_uri: str,
    champ: Champion | None,
    warm: WarmServers,
    check_requirements: bool,
) -> Serving:
    """The serving contract on the logged candidate, with the champion's latency beside it."""
    names = settings.tracking
    champion_uri = None
    if champ is not None:
        champion_uri = f"models:/{settings.production}@{names.champion_alias}"
    return serve_check(
        model_uri,
        champion_uri=champion_uri,
        options=_serving_options(settings, check_requirements),
        candidate_server=warm.candidate,
        champion_server=warm.champion,
    )


def _experiment(client: MlflowClient, name: str, artifact_location: str | None) -> str:
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    return client.create_experiment(name, artifact_location=artifact_location)


def _lineage_tags(lineage: Lineage) -> dict[str, str]:
    values = lineage.model_dump(exclude_none=True)
    return {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in values.items()
    }


def _model_info(plugin: ModelPlugin) -> ModelInfo:
    target = plugin.target
    return ModelInfo(
        title=plugin.title, target=target.name, target_label=target.label, unit=target.unit
    )


def _log_datasets(
    train: tuple[Dataset, Origin | None],
    validation: tuple[Dataset, Origin | None],
    root: Path,
    plugin: ModelPlugin,
) -> list[DatasetInfo]:
    """Both datasets as MLflow run inputs (source, digest; an object's version or ETag as
    input tags), and as the report's data section."""
    import mlflow

    infos = []
    datasets, contexts, tags = [], [], []
    for role, context, (loaded, origin) in (
        ("train", "training", train),
        ("validation", "validation", validation),
    ):
        dataset = mlflow.data.from_pandas(
            loaded.frame,
            source=dataset_source(loaded.path),
            name=loaded.path.name,
            targets=plugin.target.name,
        )
        datasets.append(dataset)
        contexts.append(context)
        tags.append(input_tags(origin))
        infos.append(
            DatasetInfo(
                role=role,
                path=shown(loaded.path, root),
                rows_raw=loaded.rows_raw,
                rows=loaded.rows,
                digest=dataset.digest,
                version_id=origin.version_id if origin else None,
                etag=origin.etag if origin else None,
            )
        )
    # One store call for both.
    mlflow.log_inputs(datasets=datasets, contexts=contexts, tags_list=tags)
    return infos


def _data_tags(datasets: list[DatasetInfo]) -> dict[str, str]:
    """The version's data lineage: each dataset's digest, and where an object was read, its
    URI and version id or ETag."""
    tags = {}
    for info in datasets:
        tags[f"data.{info.role}.digest"] = info.digest
        if "://" in info.path:
            tags[f"data.{info.role}.uri"] = info.path
        for key in ("version_id", "etag"):
            value = getattr(info, key)
            if value:
                tags[f"data.{info.role}.{key}"] = value
    return tags


def _champion(
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


def _history(client: MlflowClient, settings: Settings) -> list[HistoryPoint]:
    metric = settings.gate.metric
    points = []
    for version in registry.recent_champions(client, settings.production, settings.report.history):
        value = client.get_run(version.run_id).data.metrics.get(metric) if version.run_id else None
        if value is not None:
            points.append(
                HistoryPoint(version=str(version.version), value=value, label=f"v{version.version}")
            )
    return points


def _deltas(candidate: dict[str, float], champion: dict[str, float]) -> dict[str, Delta]:
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


def _pip_requirements() -> list[str]:
    """Pinned to what trained the model; inferring them costs seconds per run."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in SERVING_PACKAGES]


def _tag_value(value: float | None) -> str:
    return f"{value if value is not None else float('nan'):.6g}"


def _param(value: Any) -> str:
    return "None" if value is None else str(value)


def _scalar(value: Any) -> str | int | float | bool:
    """A parameter as the report shows it, matching its logged form where MLflow stringifies."""
    return value if isinstance(value, str | int | float | bool) else _param(value)
