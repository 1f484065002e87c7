"""`mlgate tune` end to end against real MLflow stores: one parent run per study with
one nested run per trial, only the winner registered, and two processes sharing one budget."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from mlgate.cli import TERMINATED_LINE
from mlgate.report.document import load_report
from support import tuning_plugin
from support.mlflow_server import MlflowServer
from support.project import Project
from support.stores import sqlite_store

pytestmark = pytest.mark.slow  # MLflow training, registration and servers

RMSE = "root_mean_squared_error"
TESTS_DIR = Path(__file__).resolve().parents[2]
CONFIG = """
[data]
train = "data/train.parquet"
validation = "data/validation.parquet"

[model]
plugin = "{plugin}"
estimator = "sklearn.linear_model.Lasso"
params = {{ alpha = 0.5 }}

[tracking]
experiment = "{name}"
registered_model = "{name}"

[report]
latency_batch = 32
latency_repeats = 3

[tuning]
enabled = true
sampler = "{sampler}"
seed = 3
n_trials = {trials}
cv_folds = 3
space.alpha = {alpha}

[tuning.space.estimator]
kind = "categorical"
choices = ["sklearn.linear_model.Lasso", "sklearn.linear_model.Ridge"]
"""
LOG_ALPHA = '{ kind = "float", low = 0.0001, high = 5.0, log = true }'


def make_project(root: Path, uri: str, *, rows: int = 300, **search: object) -> Project:
    """A project on the tests' tiny plug-in, with its own experiment and registered model."""
    project = Project(root, uri, f"tuned-{uuid.uuid4().hex[:8]}")
    tuning_plugin.write_months(root / "data", rows)
    fields = {"sampler": "tpe", "trials": 6, "alpha": LOG_ALPHA, **search}
    text = CONFIG.format(plugin=tuning_plugin.REFERENCE, name=project.name, **fields)
    project.config.write_text(text, encoding="utf-8")
    return project


def subprocess_env(uri: str) -> dict[str, str]:
    """The CLI in another process: this environment without CI settings, the tests' plug-in
    importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GITHUB_"))}
    path = os.pathsep.join(filter(None, [str(TESTS_DIR), env.get("PYTHONPATH", "")]))
    return {**env, "MLFLOW_TRACKING_URI": uri, "PYTHONPATH": path}


def study_runs(project: Project) -> tuple[object, list[object]]:
    """The study's parent run and every run nested under it."""
    client = project.client()
    experiment = client.get_experiment_by_name(project.name)
    runs = client.search_runs([experiment.experiment_id], max_results=500)
    parents = [r for r in runs if r.data.tags.get("tuning.role") == "study"]
    assert len(parents) == 1, "one parent run per study"
    parent = parents[0]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    return parent, children


LIBRARY_LINE = re.compile(r"^(\[[DIW] \d{4}-\d\d-\d\d|\d{4}/\d\d/\d\d .* INFO |INFO  \[)", re.M)
"""Optuna's, MLflow's and alembic's own log lines, which must not mix into progress output."""


def assert_only_our_lines(err: str) -> None:
    found = LIBRARY_LINE.findall(err)
    assert not found, f"library log lines in the output: {found[:3]}"


def trial_numbers(children: list[object]) -> list[int]:
    return sorted(
        int(r.data.tags["tuning.trial"]) for r in children if "tuning.trial" in r.data.tags
    )


def test_candidate_tunes_and_registers_only_the_winner(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path_factory.mktemp("tuned")
    project = make_project(root, sqlite_store(tmp_path_factory, "tune-store"))
    project.enter(monkeypatch)
    assert project.cli("candidate") == 0
    out = capsys.readouterr().out
    assert "this process ran 6 of study" in out

    report = load_report(root / "reports" / "report.json")
    tuning = report.tuning
    assert tuning is not None
    assert tuning.n_trials == 6
    assert tuning.completed + tuning.pruned + tuning.failed == 6
    assert [t.number for t in tuning.history] == list(range(6))
    assert tuning.validation_score == report.candidate.metrics[RMSE]
    best = min((t for t in tuning.history if t.state == "complete"), key=lambda t: t.value)
    assert tuning.best_params == best.params
    assert tuning.best_cv_score == best.value
    assert report.candidate.estimator == best.params["estimator"]
    assert report.candidate.params["alpha"] == pytest.approx(best.params["alpha"])

    parent, children = study_runs(project)
    assert parent.info.status == "FINISHED"
    assert trial_numbers(children) == list(range(6))
    assert parent.data.params["sampler"] == "tpe"
    assert parent.data.params["seed"] == "3"
    assert parent.data.params["n_trials"] == "6"
    assert parent.data.metrics["completed"] == tuning.completed
    assert parent.data.metrics["best_cv_score"] == pytest.approx(tuning.best_cv_score)
    by_number = {
        int(r.data.tags["tuning.trial"]): r for r in children if "tuning.trial" in r.data.tags
    }
    for trial in tuning.history:
        logged = by_number[trial.number]
        assert logged.data.tags["tuning.state"] == trial.state
        if trial.state == "complete":
            assert logged.data.metrics["cv_score"] == pytest.approx(trial.value)
    winner = [r for r in children if r.info.run_id == report.candidate.run_id]
    assert len(winner) == 1, "the refit winner nests under the study"
    assert winner[0].data.tags["tuning.role"] == "winner"
    assert winner[0].data.tags["tuning.best_trial"] == str(best.number)
    artifacts = {a.path for a in project.client().list_artifacts(parent.info.run_id, "tuning")}
    assert {"tuning/importances.json", "tuning/history.csv"} <= artifacts

    versions = project.client().search_model_versions(f"name='{project.name}'")
    assert [v.run_id for v in versions] == [report.candidate.run_id]
    markdown = (root / "reports" / "report.md").read_text(encoding="utf-8")
    assert "6 of a budget of 6 trials ran" in markdown
    assert "xychart-beta" in markdown


def test_a_study_without_a_completed_trial_registers_nothing(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path_factory.mktemp("all-fail")
    failing = '{ kind = "categorical", choices = [-1.0, -2.0] }'
    uri = sqlite_store(tmp_path_factory, "fail-store")
    project = make_project(root, uri, sampler="grid", trials=10, alpha=failing)
    project.enter(monkeypatch)
    assert project.cli("tune") == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: ")
    assert "none of the 4 trial(s) completed" in error
    assert "alpha" in error
    parent, children = study_runs(project)
    assert parent.info.status == "FAILED"
    assert trial_numbers(children) == list(range(4))
    assert project.client().search_model_versions(f"name='{project.name}'") == []
    assert not (root / "reports" / "report.json").exists()


def test_two_processes_share_one_budget_exactly(
    tmp_path_factory: pytest.TempPathFactory,
    mlflow_server: MlflowServer,
) -> None:
    root = tmp_path_factory.mktemp("shared")
    budget = 20
    project = make_project(root, mlflow_server.url, rows=3000, sampler="random", trials=budget)
    storage = f"sqlite:///{root / 'study.db'}"
    command = [
        sys.executable, "-m", "mlgate.cli", "--config", str(project.config),
        "tune", "--storage", storage, "--study", "shared",
    ]  # fmt: skip
    env = subprocess_env(mlflow_server.url)
    workers = [
        subprocess.Popen(
            command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=600)
            outputs.append((worker.returncode, out, err))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for code, _, err in outputs:
        assert code == 0, err[-2000:]
        assert_only_our_lines(err)
    ran = [int(out.split("this process ran ")[1].split()[0]) for _, out, _ in outputs]
    assert sum(ran) == budget, f"each process ran {ran}"
    assert min(ran) > 0, f"both processes should have run trials of the shared study: {ran}"
    owners = [out for _, out, _ in outputs if "report:" in out]
    assert len(owners) == 1, "exactly one process refits and registers"

    import optuna

    study = optuna.load_study(study_name="shared", storage=storage)
    trials = study.get_trials(deepcopy=False)
    assert sorted(t.number for t in trials) == list(range(budget))
    assert all(t.state.is_finished() for t in trials)

    _, children = study_runs(project)
    assert trial_numbers(children) == list(range(budget)), "each trial tracked exactly once"
    versions = project.client().search_model_versions(f"name='{project.name}'")
    assert len(versions) == 1


def test_sigterm_mid_search_leaves_no_trial_claimed_and_registers_nothing(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    import optuna
    from optuna.trial import TrialState
    from sqlalchemy.exc import SQLAlchemyError

    root = tmp_path_factory.mktemp("terminated")
    uri = sqlite_store(tmp_path_factory, "sigterm-store")
    project = make_project(root, uri, rows=3000, sampler="random", trials=200)
    storage = f"sqlite:///{root / 'study.db'}"
    command = [
        sys.executable, "-m", "mlgate.cli", "--config", str(project.config),
        "tune", "--storage", storage, "--study", "cancelled",
    ]  # fmt: skip
    env = subprocess_env(uri)
    worker = subprocess.Popen(
        command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 180
        finished = 0
        while finished < 2:  # wait (bounded) until the search is well under way
            assert time.monotonic() < deadline, "the search never got going"
            assert worker.poll() is None, worker.communicate()[1][-2000:]
            time.sleep(0.5)
            if (root / "study.db").exists():
                try:
                    study = optuna.load_study(study_name="cancelled", storage=storage)
                except (KeyError, SQLAlchemyError):  # not created yet, or being created
                    continue
                finished = len(study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED)))
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 143, err[-2000:]
    errors = [line for line in err.splitlines() if "error:" in line]
    assert errors == ["error: tune terminated (SIGTERM): " + TERMINATED_LINE]
    assert "Traceback" not in err
    trials = optuna.load_study(study_name="cancelled", storage=storage).get_trials()
    assert not [t.number for t in trials if t.state == TrialState.RUNNING]
    assert len(trials) == 200  # the rest of the budget waits, unclaimed
    parent, _ = study_runs(project)
    assert parent.info.status == "FAILED"
    assert project.client().search_model_versions(f"name='{project.name}'") == []


def _tune_command(project: Project, storage: str, study: str) -> list[str]:
    return [
        sys.executable, "-m", "mlgate.cli", "--config", str(project.config),
        "tune", "--storage", storage, "--study", study,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "cue",
    [
        pytest.param("refitting the best trial", id="before-the-refit"),
        pytest.param("fitting sklearn", id="during-the-refit"),
        pytest.param("logging model", id="while-logging"),
    ],
)
def test_sigterm_during_the_refit_registers_nothing_and_exits_143(
    tmp_path_factory: pytest.TempPathFactory, cue: str
) -> None:
    from mlgate.tuning import refit, search

    root = tmp_path_factory.mktemp("refit-terminated")
    uri = sqlite_store(tmp_path_factory, "refit-sigterm-store")
    project = make_project(root, uri, sampler="random", trials=3)
    storage = f"sqlite:///{root / 'study.db'}"
    worker = subprocess.Popen(
        _tune_command(project, storage, "refit"),
        cwd=root,
        env=subprocess_env(uri),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    try:
        assert worker.stderr is not None
        for line in worker.stderr:
            seen.append(line)
            if cue in line:
                worker.send_signal(signal.SIGTERM)
                break
        _, rest = worker.communicate(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
    err = "".join(seen) + rest
    assert any(cue in line for line in seen), err[-2000:]
    assert worker.returncode == 143, err[-2000:]
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if "error:" in line] == [
        "error: tune terminated (SIGTERM): " + TERMINATED_LINE
    ]
    assert project.client().search_model_versions(f"name='{project.name}'") == []
    parent, _ = study_runs(project)
    assert parent.info.status == "FAILED"
    assert not (root / "reports" / "report.json").exists()
    handle = search.Study(*_load(storage, "refit"), created=False, budget=0)
    assert refit.read(handle)[1].state == "open", "a rerun may refit"


def _load(storage: str, name: str):
    import optuna

    study = optuna.load_study(study_name=name, storage=storage)
    return study, study._storage


@pytest.mark.parametrize("survivor", [False, True], ids=["rerun", "surviving-worker"])
def test_a_killed_creator_is_taken_over_exactly_once(
    tmp_path_factory: pytest.TempPathFactory, survivor: bool
) -> None:
    import optuna
    from optuna.trial import TrialState
    from sqlalchemy.exc import SQLAlchemyError

    root = tmp_path_factory.mktemp("orphaned")
    uri = sqlite_store(tmp_path_factory, "orphaned-store")
    project = make_project(root, uri, rows=3000, sampler="random", trials=8)
    storage = f"sqlite:///{root / 'study.db'}"
    command = _tune_command(project, storage, "orphaned")
    env = subprocess_env(uri)

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    creator, worker = start(), None
    try:
        deadline = time.monotonic() + 180
        finished = 0
        while finished < 2:
            assert time.monotonic() < deadline, "the search never got going"
            assert creator.poll() is None, creator.communicate()[1][-2000:]
            time.sleep(0.3)
            if (root / "study.db").exists():
                try:
                    study = optuna.load_study(study_name="orphaned", storage=storage)
                except (KeyError, SQLAlchemyError):
                    continue
                if survivor and worker is None and "mlgate.ready" in study.user_attrs:
                    worker = start()
                finished = len(study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED)))
        creator.send_signal(signal.SIGKILL)
        creator.wait(timeout=30)
        runs = []
        if worker is not None:
            out, err = worker.communicate(timeout=600)
            runs.append(subprocess.CompletedProcess(command, worker.returncode, out, err))
    finally:
        for process in (creator, worker):
            if process is not None and process.poll() is None:
                process.kill()
    runs += [
        subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        for _ in range(1 if survivor else 2)
    ]
    for done in runs:
        assert done.returncode == 0, done.stderr[-2000:]
        assert_only_our_lines(done.stderr)
    assert "report:" in runs[0].stdout, "the survivor (or the first rerun) refits"
    assert "the winner was refit and registered by" in runs[1].stdout
    versions = project.client().search_model_versions(f"name='{project.name}'")
    assert len(versions) == 1, "exactly one refit registers"
    trials = optuna.load_study(study_name="orphaned", storage=storage).get_trials()
    assert len(trials) == 8
    assert all(t.state.is_finished() for t in trials), "the killed worker's trial is failed"
    parent, _ = study_runs(project)
    assert parent.info.status == "FINISHED"
