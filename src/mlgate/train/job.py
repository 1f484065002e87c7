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

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mlgate import progress, tasks
from mlgate.config import Settings
from mlgate.datafile import load_located
from mlgate.registry import versions as registry
from mlgate.report.document import (
    Candidate,
    Champion,
    Comparison,
    Links,
    Report,
    Serving,
    Status,
    Tuning,
)
from mlgate.serving.check import Options, WarmServers, serve_check
from mlgate.storage import Location
from mlgate.tracking import connection as tracking
from mlgate.tracking.lineage import collect
from mlgate.tracking.newstore import Creation
from mlgate.tracking.runs import tracked_run
from mlgate.tracking.store import Store, choose_store
from mlgate.tracking.store import ephemeral as _ephemeral
from mlgate.train import compare, estimator, evaluation, libraries, records
from mlgate.train.fitting import first_line, fit_within
from mlgate.train.gate import decide
from mlgate.train.signals import TERMINATED_EXIT, Termination, terminable

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from mlgate.report.outputs import ReportOutputs


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
        mlflow.set_tags(records.lineage_tags(lineage))
        progress.say(f"fitting {model_config.estimator} on {train_data.rows:,} rows…")
        with _timed(timings, "fit"):
            fit_within(
                pipeline, train_data, task.fit_target(train_data), model_config.max_fit_seconds
            )
        used_params = {
            "estimator": model_config.estimator,
            **estimator.logged_params(pipeline),
            **task.params(model_config.decision_threshold),
        }
        mlflow.log_params({k: records.param_text(v) for k, v in used_params.items()})
        datasets = records.log_datasets(
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
                pip_requirements=[*records.pip_requirements(), *libraries.requirements(trusted)],
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
                champ = compare.champion(client, settings, val_data, task)
            comparable = champ is not None and champ.comparable
            gate = decide(
                settings.gate,
                candidate_metrics,
                champ.metrics if comparable else None,
                f"champion v{champ.version}" if champ else "the champion",
                plugin.target.unit,
            )
            history = compare.history(client, settings) if store.skipped_reason is None else []
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
                model=records.model_info(plugin),
                tracking_uri=tracking.display_uri(store.uri),
                candidate=Candidate(
                    run_id=run_id,
                    model_uri=info.model_uri,
                    version=str(version.version) if version else None,
                    estimator=model_config.estimator,
                    params={k: records.scalar(v) for k, v in used_params.items()},
                    metrics=candidate_metrics,
                    model_size_bytes=size,
                    latency=lat,
                    breakdown=breakdown,
                ),
                champion=champ,
                comparison=Comparison(
                    performed=store.skipped_reason is None, skipped_reason=store.skipped_reason
                ),
                deltas=compare.deltas(candidate_metrics, champ.metrics) if comparable else {},
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
            **records.lineage_tags(lineage),
            **records.data_tags(datasets),
            "gate.passed": str(gate.passed).lower(),
            "gate.baseline": gate.baseline,
            f"gate.{gate.metric}": records.tag_value(candidate_metrics.get(gate.metric)),
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


def _unregister(client: MlflowClient, name: str, version: str) -> None:
    """Take back a version whose report could not be written (or whose job was terminated)."""
    try:
        client.delete_model_version(name, version)
        progress.say(f"version {version} of {name} was taken back: the job did not complete")
    except Exception as exc:
        progress.say(f"version {version} of {name} could not be taken back: {first_line(exc)}")


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
        check(records.pip_requirements())


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
