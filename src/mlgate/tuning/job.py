"""`mlgate tune`: search, then send the winner down the normal candidate path.

The process that creates the study opens the parent MLflow run; every process runs trials.
The first to finish its share takes the refit (`refit`: a claim with a heartbeat, so a process
killed on the way is taken over by a survivor or a rerun), waits (bounded) for trials other
processes still run, then refits the best trial on the whole training data through
`mlgate.train.job.train`, so the winner is logged, compared with the champion on the same
validation data, gated, registered and reported exactly like a plain training run, once.
SIGTERM is acted on at safe points (`mlgate.termination`): exit 143, nothing registered.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from mlgate import progress, tasks, termination
from mlgate.config import ESTIMATOR_CHOICE, Choice, ModelConfig, Settings, TuningConfig
from mlgate.contract import ESTIMATOR_STEP, ModelPlugin
from mlgate.datafile import load_data
from mlgate.errors import UserError
from mlgate.report.document import GREATER_IS_BETTER, Report, metric_label
from mlgate.tracking import connection as tracking
from mlgate.tracking.lineage import collect
from mlgate.train import estimator, records
from mlgate.train import job as training
from mlgate.train.estimator import STEP_SEPARATOR
from mlgate.tuning import record, refit, search, space
from mlgate.tuning.objective import FAIL_REASON, Objective
from mlgate.tuning.tracking import PARENT_RUN, StudyRuns

if TYPE_CHECKING:
    from mlgate.report.outputs import ReportOutputs
    from mlgate.tasks.base import Task

EXPERIMENT = "mlgate.experiment_id"
WHERE = "[tool.mlgate] tuning"
DEFAULT_WAIT_S = 600.0


@dataclass(frozen=True)
class Outcome:
    """The report when this process refit the winner; otherwise what it contributed, and who
    refits (or refit) the winner."""

    report: Report | None
    study: str
    ran: int
    budget: int
    elsewhere: str = ""


def effective(
    config: TuningConfig,
    *,
    trials: int | None = None,
    timeout_s: float | None = None,
    seed: int | None = None,
) -> TuningConfig:
    """The configuration with the command line's overrides, validated like the file."""
    flags = {"n_trials": ("--trials", trials), "timeout_s": ("--timeout", timeout_s)}
    flags["seed"] = ("--seed", seed)
    update = {key: value for key, (_, value) in flags.items() if value is not None}
    try:
        return TuningConfig.model_validate({**config.model_dump(), **update})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else ""
        flag = flags[key][0] if key in flags else f"{WHERE}.{key}"
        raise UserError(f"{flag}: {first['msg']}") from None


def with_metric(config: TuningConfig, gate_metric: str, task: Task) -> TuningConfig:
    """The metric trials optimise: the configured one, or the gate's, in its direction; one
    line when it is not a metric of the plug-in's task."""
    metric = config.metric or gate_metric
    known = [m.name for m in task.metrics if m.name != task.train_metric]
    if metric not in known:
        where = f"{WHERE}.metric" if config.metric else "[tool.mlgate] gate.metric"
        raise UserError(
            f"{where} {metric!r} is not a metric of a {task.name} plug-in, so trials cannot be "
            f"scored on it; choose one of: {', '.join(known)}"
        )
    return config.model_copy(update={"metric": metric})


def check_space(settings: Settings, config: TuningConfig, plugin: ModelPlugin) -> None:
    """Every estimator the search can pick exists and takes every parameter offered to it, and
    the configured estimator is among them, before any trial runs: a typo must not turn into a
    study of failed trials, nor a space written for another estimator into a search of it."""
    if not config.space:
        raise UserError(f"{WHERE}.space: the search space is empty; nothing to tune")
    configured = settings.model.estimator
    choice = config.space.get(ESTIMATOR_CHOICE)
    paths = [str(p) for p in choice.choices] if isinstance(choice, Choice) else [configured]
    if configured not in paths:
        default = "" if "estimator" in settings.model.model_fields_set else " (the default)"
        raise UserError(
            f"{WHERE}.space.estimator: the choices ({', '.join(paths)}) do not include "
            f"model.estimator {configured!r}{default}, so the search would never try it: add it "
            "to the choices, or write the space for that estimator"
        )
    for path in paths:
        try:
            estimator.estimator_class(path, plugin.task)
        except UserError as exc:
            detail = str(exc).split(": ", 1)[-1]
            raise UserError(f"{WHERE}.space.estimator {path!r}: {detail}") from None
        # Only the names are checked here: a value the estimator refuses fails its own trial.
        pipeline = estimator.build(plugin, ModelConfig(estimator=path))
        valid = pipeline.get_params(deep=True)
        for name, dimension in config.space.items():
            if name == ESTIMATOR_CHOICE:
                continue
            if dimension.estimators is not None and path not in dimension.estimators:
                continue
            key = name if STEP_SEPARATOR in name else f"{ESTIMATOR_STEP}{STEP_SEPARATOR}{name}"
            if key not in valid:
                raise UserError(
                    f"{WHERE}.space.{name}: {_no_parameter(pipeline, path, key, choice)}"
                )


def _no_parameter(pipeline: Any, path: str, key: str, choice: object) -> str:
    """Who lacks the parameter `key`: the estimator (named by class and path) or a step."""
    step, _, short = key.partition(STEP_SEPARATOR)
    if step not in pipeline.named_steps:
        return f"the pipeline has no step {step!r} (steps: {', '.join(pipeline.named_steps)})"
    if step != ESTIMATOR_STEP:
        owner = type(pipeline.named_steps[step]).__name__
        return f"the plug-in's step {step!r} ({owner}) has no parameter {short!r}"
    hint = ""
    if isinstance(choice, Choice):
        hint = " (offer it only to the estimators that take it: estimators = [...])"
    return f"{type(pipeline[-1]).__name__} ({path}) has no parameter {short!r}{hint}"


def default_study_name(settings: Settings, env: Mapping[str, str]) -> str:
    """Processes tuning the same commit share one study unless told otherwise."""
    lineage = collect(settings.root, env)
    sha = lineage.head_sha or lineage.git_commit
    name = settings.experiment + (f"-{sha[:12]}" if sha else "")
    return re.sub(r"[^\w.-]", "-", name)


def tune(
    settings: Settings,
    *,
    train_path: Path | None = None,
    val_path: Path | None = None,
    trials: int | None = None,
    timeout_s: float | None = None,
    seed: int | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    fallback_local: bool = False,
    wait_s: float = DEFAULT_WAIT_S,
    env: Mapping[str, str] = os.environ,
    outputs: ReportOutputs | None = None,
) -> Outcome:
    """Run (this process's share of) the search; the process that takes the refit (see
    `refit`) also refits, registers and reports, writing `outputs` with the registration."""
    started = time.perf_counter()
    config = effective(settings.tuning, trials=trials, timeout_s=timeout_s, seed=seed)
    plugin = settings.plugin()
    config = with_metric(config, settings.gate.metric, tasks.for_plugin(plugin))
    check_space(settings, config, plugin)
    progress.say("loading the training data")
    train_data = load_data(plugin, settings.data_path("train", train_path))
    load_data(plugin, settings.data_path("validation", val_path))  # fail now, not after the search
    store, client = _open(settings, env, fallback_local)
    experiment_id = _experiment(client, settings.experiment, store.artifact_location)
    name = study_name or default_study_name(settings, env)
    shown = tracking.display_uri(storage) if storage else None
    study = search.open_study(config, storage_url=storage, name=name)
    if study.created:
        lineage = records.lineage_tags(collect(settings.root, env))
        runs = StudyRuns.start(
            client,
            experiment_id,
            study=name,
            config=config,
            budget=study.budget,
            storage=shown,
            tags=lineage,
        )
        search.mark_ready(study, **{PARENT_RUN: runs.parent_run_id, EXPERIMENT: experiment_id})
    else:
        attrs = study.study.user_attrs
        runs = StudyRuns(client, attrs[EXPERIMENT], attrs[PARENT_RUN], name)
    progress.say(f"study {name!r}: budget {study.budget} trial(s), sampler {config.sampler}")
    objective = Objective(settings, plugin, train_data, metric=config.metric)
    with termination.deferred():
        try:
            ran = search.run(
                study,
                objective,
                timeout_s=config.timeout_s,
                on_trial=_progress_hook(runs, study, config),
            )
            taken = refit.take(study, wait_s)
        except BaseException:
            if study.created:
                with contextlib.suppress(Exception):
                    runs.finish("FAILED")
            raise
        if isinstance(taken, refit.Claim):
            return Outcome(None, name, ran, study.budget, _elsewhere(taken))
        with taken:
            report = _refit(
                settings,
                study,
                runs,
                taken,
                Winner(config, started, shown, wait_s),
                train_path=train_path,
                val_path=val_path,
                fallback_local=fallback_local,
                env=env,
                store=store,
                outputs=outputs,
            )
        return Outcome(report, name, ran, study.budget)


@dataclass(frozen=True)
class Winner:
    """How to find the winner: the search's configuration, start, storage and wait."""

    config: TuningConfig
    started: float
    shown: str | None
    wait_s: float


def _refit(
    settings: Settings,
    study: search.Study,
    runs: StudyRuns,
    claim: refit.Refit,
    winner: Winner,
    *,
    train_path: Path | None,
    val_path: Path | None,
    fallback_local: bool,
    env: Mapping[str, str],
    store: training.Store,
    outputs: ReportOutputs | None,
) -> Report:
    """This process holds the refit: wait for the others' trials, then refit, register and
    report the winner once (a SIGTERM before registering registers nothing)."""
    try:
        running = search.wait_for_others(study, winner.wait_s)
        if running:
            progress.say(f"{running} trial(s) still running elsewhere after {winner.wait_s:g} s")
        tuning = _record(winner.config, study, winner.started, winner.shown)
        runs.summarize(tuning)
        chosen, params = space.split(tuning.best_params, settings.model.estimator)
        short = chosen.rsplit(".", 1)[-1]
        progress.say(f"refitting the best trial ({short}) on the whole training data")
        termination.check()
        report = training.train(
            settings,
            train_path=train_path,
            val_path=val_path,
            params=params,
            fallback_local=fallback_local,
            env=env,
            estimator_path=chosen,
            tuning=tuning,
            parent_run_id=runs.parent_run_id,
            store=store,
            outputs=outputs,
            before_register=claim.confirm,
        )
        claim.finish(report.candidate.version)
        runs.mark_winner(report.candidate.run_id, tuning)
    except BaseException:
        with contextlib.suppress(Exception):
            runs.finish("FAILED")
        raise
    runs.finish()
    return report


def _elsewhere(claim: refit.Claim) -> str:
    """What a process that does not refit says about the one that does."""
    if claim.state == "done":
        version = f" (version {claim.version})" if claim.version else ""
        return f"the winner was refit and registered by {claim.owner}{version}"
    return f"{claim.owner} refits and registers the winner"


def _open(
    settings: Settings, env: Mapping[str, str], fallback_local: bool
) -> tuple[training.Store, Any]:
    store = training.choose_store(env)
    retries = settings.tracking.connect_retries
    try:
        return store, tracking.connect(store.uri, retries)
    except tracking.TrackingUnavailableError as exc:
        if not fallback_local:
            raise
        store = training._ephemeral(f"the tracking server could not be reached ({exc})")
        return store, tracking.connect(store.uri, retries)


def _experiment(client: Any, name: str, artifact_location: str | None) -> str:
    """The experiment's id; processes sharing a study may race to create it."""
    from mlflow.exceptions import MlflowException

    try:
        return training._experiment(client, name, artifact_location)
    except MlflowException:
        existing = client.get_experiment_by_name(name)
        if existing is None:
            raise
        return existing.experiment_id


def _record(config: TuningConfig, study: search.Study, started: float, shown: str | None):
    trials = search.finished(study)
    try:
        return record.build(
            config,
            trials,
            study=study.study,
            budget=study.budget,
            wall_time_s=time.perf_counter() - started,
            storage=shown,
        )
    except ValueError:
        reasons = sorted({t.reason for t in map(record.trial, trials) if t.reason})
        why = f"; failures: {'; '.join(reasons[:3])}" if reasons else ""
        raise UserError(
            f"{WHERE}: none of the {len(trials)} trial(s) completed, so there is no winner "
            f"(nothing registered){why}"
        ) from None


def _progress_hook(runs: StudyRuns, study: search.Study, config: TuningConfig):
    label = metric_label(config.metric)
    greater = GREATER_IS_BETTER[config.metric]
    best: dict[str, float] = {}

    def hook(frozen: Any, seconds: float) -> None:
        runs.trial(frozen, seconds)
        state = record.STATES[frozen.state.name]
        if state == "complete":
            value = float(frozen.value)
            if "v" not in best or (value > best["v"] if greater else value < best["v"]):
                best["v"] = value
            detail = f"CV {label} {value:.4f}"
        else:
            why = frozen.user_attrs.get(FAIL_REASON)
            detail = f"{state} ({why})" if why else state
        so_far = f"; best {best['v']:.4f}" if best else ""
        done = f"trial {frozen.number + 1}/{study.budget}"
        progress.say(f"{done}: {detail}{so_far} ({seconds:.1f} s)")

    return hook
