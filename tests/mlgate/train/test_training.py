"""`mlgate train` end to end on a temporary sqlite store: what lands in MLflow (params,
metrics, the servable model, datasets, lineage), the report, the champion comparison, and the
failures that must leave nothing registered.

Expectations are recomputed from the data and the logged model, never copied from a run.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from sklearn.linear_model import Lasso, LinearRegression
from sklearn.preprocessing import StandardScaler

from mlgate.config import load_settings
from mlgate.report.document import GREATER_IS_BETTER, Report, load_report
from mlgate.report.markdown import MARKER, render_markdown
from mlgate.tracking import connection as tracking
from mlgate.train.evaluation import REPORTED_METRICS
from mlgate.train.job import choose_store
from support import diabetes
from support.mlflow_server import free_port
from support.project import DEFAULT_ALPHA, Project
from support.stores import sqlite_store

pytestmark = pytest.mark.slow  # trains or registers models in an MLflow store

RMSE = "root_mean_squared_error"
INPUTS = list(diabetes.FEATURES)
SKLEARN = {
    RMSE: sk.root_mean_squared_error,
    "mean_absolute_error": sk.mean_absolute_error,
    "r2_score": sk.r2_score,
    "max_error": sk.max_error,
}
LATENCY_BATCH = 64
PR_NUMBER, HEAD_SHA = 42, "5d41402abc4b2a76b9719d911017c592aa0b1c2d"
BRANCH = "feature/better-model"
CI_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_RUN_ID": "9876543210",
    "GITHUB_REPOSITORY": "acme/trips",
    "GITHUB_SERVER_URL": "https://github.example.com",
}
DATASET_CONTEXT = {"train": "training", "validation": "validation"}


def registered(project: Project) -> tuple[list, list]:
    """(registered models, model versions) under this project's name."""
    client = project.client()
    return (
        client.search_registered_models(f"name = '{project.name}'"),
        client.search_model_versions(f"name = '{project.name}'"),
    )


def run_statuses(project: Project) -> list[str]:
    client = project.client()
    experiment = client.get_experiment_by_name(project.name)
    if experiment is None:
        return []
    return [run.info.status for run in client.search_runs([experiment.experiment_id])]


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


def sklearn_metrics(target: pd.Series, predictions: np.ndarray) -> dict[str, float]:
    return {name: float(metric(target, predictions)) for name, metric in SKLEARN.items()}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sqlite_store(tmp_path_factory, "training-store")


@dataclass(frozen=True)
class Shared:
    """One PR training run inside a git repository, read by several tests."""

    project: Project
    report: Report
    stdout: str
    lineage: dict[str, str]


@pytest.fixture(scope="module")
def shared_runs() -> dict[str, Shared]:
    return {}


@pytest.fixture
def shared(
    shared_runs: dict[str, Shared],
    store: str,
    git_repo,
    github_event: Callable[[object], Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Shared:
    """Train once per module, as the PR workflow would, in a feature branch with a local edit."""
    if "pr" not in shared_runs:
        repo = git_repo
        repo.git("checkout", "-q", "-b", BRANCH)
        project = Project.create(repo.path, store, latency_batch=LATENCY_BATCH)
        commit = repo.commit("data and configuration")
        (repo.path / "README.md").write_text("# trips\n\nwork in progress\n", encoding="utf-8")
        event = github_event({"pull_request": {"number": PR_NUMBER, "head": {"sha": HEAD_SHA}}})
        project.enter(monkeypatch, GITHUB_EVENT_PATH=str(event), **CI_ENV)
        capsys.readouterr()
        assert project.cli("train") == 0
        lineage = {
            "git_commit": commit,
            "branch": BRANCH,
            "dirty": "true",
            "lock_hash": hashlib.sha256((repo.path / "uv.lock").read_bytes()).hexdigest(),
            "pr_number": str(PR_NUMBER),
            "head_sha": HEAD_SHA,
            "workflow_run_url": f"{CI_ENV['GITHUB_SERVER_URL']}/{CI_ENV['GITHUB_REPOSITORY']}"
            f"/actions/runs/{CI_ENV['GITHUB_RUN_ID']}",
            "workflow_run_id": CI_ENV["GITHUB_RUN_ID"],
        }
        shared_runs["pr"] = Shared(
            project=project,
            report=load_report(project.root / "reports" / "report.json"),
            stdout=capsys.readouterr().out,
            lineage=lineage,
        )
    run = shared_runs["pr"]
    run.project.enter(monkeypatch)
    return run


def test_train_reports_run_and_version_and_writes_the_report(shared: Shared) -> None:
    report, project = shared.report, shared.project
    client = project.client()
    version = client.get_model_version(project.name, report.candidate.version)

    assert version.run_id == report.candidate.run_id
    assert report.candidate.run_id in shared.stdout
    assert f"{project.name} v{report.candidate.version}" in shared.stdout
    assert report.registered_model == project.name
    assert report.experiment == project.name
    assert report.comparison.performed
    assert report.champion is None
    assert report.gate.baseline == "bounds-only"
    assert report.status.outcome == "success"

    markdown = (
        (project.root / "reports" / "report.json").with_suffix(".md").read_text(encoding="utf-8")
    )
    assert MARKER in markdown
    assert markdown == render_markdown(report)

    assert report.candidate.model_size_bytes > 0
    assert report.candidate.latency.batch_size == LATENCY_BATCH
    assert 0 <= report.candidate.latency.p50_ms <= report.candidate.latency.p95_ms
    timings = report.timings_s
    assert {"load", "fit", "evaluate", "total"} <= set(timings)
    assert all(seconds >= 0 for seconds in timings.values())
    assert timings["total"] >= sum(s for step, s in timings.items() if step != "total")
    assert {d.role: d.rows for d in report.data} == {
        role: project.data(role).rows for role in ("train", "validation")
    }
    assert all(d.rows < d.rows_raw for d in report.data), "cleaning dropped the dirty rows"


def test_every_effective_hyperparameter_is_logged(shared: Shared) -> None:
    import mlflow

    estimator = Lasso(alpha=DEFAULT_ALPHA)
    expected = {
        "estimator": "sklearn.linear_model.Lasso",
        **{f"scale__{k}": v for k, v in StandardScaler().get_params().items()},
        **estimator.get_params(),
    }
    report, project = shared.report, shared.project

    logged = project.client().get_run(report.candidate.run_id).data.params
    assert logged == {key: str(value) for key, value in expected.items()}
    assert report.candidate.params == {k: str(v) if v is None else v for k, v in expected.items()}
    fitted = mlflow.sklearn.load_model(report.candidate.model_uri)
    assert fitted["estimator"].get_params() == estimator.get_params()


def test_metrics_equal_a_recomputation_from_the_logged_model(shared: Shared) -> None:
    import mlflow

    report = shared.report
    model = mlflow.pyfunc.load_model(report.candidate.model_uri)
    validation, training = shared.project.data("validation"), shared.project.data("train")
    expected = sklearn_metrics(validation.target, model.predict(validation.features))
    expected["train_root_mean_squared_error"] = sk.root_mean_squared_error(
        training.target, model.predict(training.features)
    )

    assert report.candidate.metrics == pytest.approx(expected, rel=1e-6)
    logged = shared.project.client().get_run(report.candidate.run_id).data.metrics
    assert {key: logged[key] for key in expected} == pytest.approx(expected, rel=1e-6)


def test_logged_model_is_servable_on_raw_records(shared: Shared) -> None:
    import mlflow

    uri = shared.report.candidate.model_uri
    model = mlflow.pyfunc.load_model(uri)
    assert model.metadata.signature.inputs.input_names() == INPUTS
    example = model.input_example
    assert list(example.columns) == INPUTS
    assert len(example) > 0

    requirements = Path(mlflow.pyfunc.get_model_dependencies(uri)).read_text().split()
    for package in ("mlflow", "scikit-learn"):
        assert f"{package}=={importlib.metadata.version(package)}" in requirements
    assert all("==" in line for line in requirements)

    raw = diabetes.frame().tail(20).reset_index(drop=True)
    raw["clinic"] = "north"
    predictions = model.predict(raw)
    assert predictions.shape == (len(raw),)
    assert np.isfinite(predictions).all()
    np.testing.assert_allclose(predictions, model.predict(raw[INPUTS[::-1]]))


def test_both_datasets_are_logged_with_their_digests(shared: Shared) -> None:
    run = shared.project.client().get_run(shared.report.candidate.run_id)
    by_context = {}
    for item in run.inputs.dataset_inputs:
        tags = {tag.key: tag.value for tag in item.tags}
        if "mlflow.data.context" in tags:
            by_context[tags["mlflow.data.context"]] = item.dataset.digest

    assert by_context == {DATASET_CONTEXT[d.role]: d.digest for d in shared.report.data}
    assert len(set(by_context.values())) == 2, "training and validation months differ"


def test_lineage_and_gate_are_tagged_on_run_and_version(shared: Shared) -> None:
    report, project = shared.report, shared.project
    client = project.client()
    run_tags = client.get_run(report.candidate.run_id).data.tags
    version_tags = client.get_model_version(project.name, report.candidate.version).tags

    assert report.lineage.model_dump(exclude_none=True) == {
        **shared.lineage,
        "pr_number": PR_NUMBER,
        "dirty": True,
        "workflow_run_id": int(CI_ENV["GITHUB_RUN_ID"]),
    }
    assert shared.lineage.items() <= run_tags.items()
    assert shared.lineage.items() <= version_tags.items()
    gate = report.gate
    expected_gate = {
        "gate.passed": str(gate.passed).lower(),
        "gate.baseline": gate.baseline,
        "gate.reasons": "; ".join(gate.reasons),
    }
    assert expected_gate.items() <= version_tags.items()
    assert float(version_tags[f"gate.{gate.metric}"]) == pytest.approx(
        report.candidate.metrics[gate.metric], rel=1e-5
    )
    assert {f"data.{d.role}.digest": d.digest for d in report.data}.items() <= version_tags.items()
    assert {
        "gate.passed": expected_gate["gate.passed"],
        "gate.baseline": gate.baseline,
    }.items() <= (run_tags.items())


@pytest.mark.parametrize(
    ("param", "named"), [("nosuch=1", "nosuch"), ("alpha=abc", "alpha")], ids=["name", "value"]
)
def test_bad_param_is_one_line_and_registers_nothing(
    tmp_path: Path,
    store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    param: str,
    named: str,
) -> None:
    project = Project.create(tmp_path, store, latency_batch=LATENCY_BATCH)
    project.enter(monkeypatch)
    capsys.readouterr()

    assert project.cli("train", "--param", param) == 1

    error = one_line_error(capsys)
    assert "model.params" in error
    assert named in error
    assert registered(project) == ([], [])
    assert "FINISHED" not in run_statuses(project)
    assert not (project.root / "reports" / "report.json").exists()


def _missing_file(project: Project) -> tuple[list[str], Path]:
    missing = project.root / "data" / "march.parquet"
    return ["--val-data", str(missing)], missing


def _missing_column(project: Project) -> tuple[list[str], Path]:
    broken = project.root / "data" / "no-bmi.parquet"
    project.data("train").frame.drop(columns=["bmi"]).to_parquet(broken)
    return ["--train-data", str(broken)], broken


def _corrupt_file(project: Project) -> tuple[list[str], Path]:
    broken = project.root / "data" / "truncated.parquet"
    broken.write_bytes((project.root / "data" / "train.parquet").read_bytes()[:200])
    return ["--train-data", str(broken)], broken


@pytest.mark.parametrize(
    ("setup", "problem"),
    [(_missing_file, "not found"), (_missing_column, "bmi"), (_corrupt_file, "parquet")],
    ids=["missing-file", "missing-column", "corrupt-file"],
)
def test_bad_data_is_one_line_naming_the_file_and_registers_nothing(
    tmp_path: Path,
    store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setup: Callable[..., tuple[list[str], Path]],
    problem: str,
) -> None:
    project = Project.create(tmp_path, store, latency_batch=LATENCY_BATCH)
    args, culprit = setup(project)
    project.enter(monkeypatch)
    capsys.readouterr()

    assert project.cli("train", *args) == 1

    error = one_line_error(capsys)
    assert str(culprit) in error
    assert problem in error
    assert registered(project) == ([], [])
    assert "FINISHED" not in run_statuses(project)
    assert not (project.root / "reports" / "report.json").exists()


@pytest.fixture
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary folders (the ephemeral store's among them) go under this test's tmp_path."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.parametrize(
    "env",
    [
        {"GITHUB_ACTIONS": "true"},
        {"GITHUB_ACTIONS": "true", "MLFLOW_TRACKING_URI": ""},
        {"GITHUB_ACTIONS": "true", "MLFLOW_TRACKING_URI": "  "},
    ],
    ids=["unset", "empty", "blank"],
)
def test_ci_without_a_tracking_uri_uses_an_ephemeral_store(
    private_tempdir: Path, env: dict[str, str]
) -> None:
    store = choose_store(env)

    assert "MLFLOW_TRACKING_URI" in store.skipped_reason
    assert store.uri != tracking.DEFAULT_URI
    assert str(private_tempdir) in store.uri
    assert str(private_tempdir) in store.artifact_location


@pytest.mark.parametrize(
    ("env", "uri"),
    [
        ({}, tracking.DEFAULT_URI),
        ({"MLFLOW_TRACKING_URI": "sqlite:///x.db"}, "sqlite:///x.db"),
        ({"MLFLOW_TRACKING_URI": "sqlite:///x.db", "GITHUB_ACTIONS": "true"}, "sqlite:///x.db"),
    ],
    ids=["laptop", "configured", "configured-in-ci"],
)
def test_a_configured_or_local_store_is_used_as_is(env: dict[str, str], uri: str) -> None:
    store = choose_store(env)

    assert (store.uri, store.skipped_reason) == (uri, None)


def _assert_skipped_but_measured(report: Report, root: Path, reason: str) -> None:
    assert not report.comparison.performed
    assert reason in report.comparison.skipped_reason
    assert report.champion is None
    assert report.gate.baseline == "bounds-only"
    assert set(REPORTED_METRICS) <= set(report.candidate.metrics)
    assert report.candidate.version
    assert not (root / "mlflow.db").exists(), "the project's own store must stay untouched"


def test_fork_pr_without_tracking_uri_trains_on_an_ephemeral_store(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    private_tempdir: Path,
) -> None:
    project = Project.create(tmp_path, uri="", latency_batch=LATENCY_BATCH)
    project.enter(monkeypatch, GITHUB_ACTIONS="true")

    assert project.cli("train") == 0

    report = load_report(project.root / "reports" / "report.json")
    _assert_skipped_but_measured(report, tmp_path, "MLFLOW_TRACKING_URI")
    assert str(private_tempdir) in report.tracking_uri


def test_fallback_local_when_the_server_is_unreachable(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    private_tempdir: Path,
) -> None:
    server = f"127.0.0.1:{free_port()}"
    project = Project.create(
        tmp_path, f"http://{server}", tracking="connect_retries = 0\n", latency_batch=LATENCY_BATCH
    )
    project.enter(monkeypatch, MLFLOW_HTTP_REQUEST_MAX_RETRIES="0")

    assert project.cli("train", "--fallback-local") == 0

    report = load_report(project.root / "reports" / "report.json")
    _assert_skipped_but_measured(report, tmp_path, server)
    assert str(private_tempdir) in report.tracking_uri


def test_second_run_is_compared_with_the_champion_on_the_same_data(
    shared: Shared,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import mlflow

    project, first = shared.project, shared.report
    champion_version = first.candidate.version
    assert project.cli("promote", "--version", champion_version) == 0
    second_path = tmp_path / "second" / "report.json"

    assert project.cli("train", "--param", "alpha=0.5", "--report", str(second_path)) == 0

    report = load_report(second_path)
    assert second_path.with_suffix(".md").is_file()
    assert (
        load_report(project.root / "reports" / "report.json").candidate.run_id
        == first.candidate.run_id
    )
    run = project.client().get_run(report.candidate.run_id)
    assert run.data.params["alpha"] == "0.5"
    assert report.candidate.params["alpha"] == 0.5
    assert mlflow.sklearn.load_model(report.candidate.model_uri)["estimator"].alpha == 0.5

    champion = report.champion
    assert champion.version == champion_version
    assert champion.comparable
    validation = project.data("validation")
    served = mlflow.pyfunc.load_model(f"models:/{project.name}/{champion_version}")
    rescored = sklearn_metrics(validation.target, served.predict(validation.features))
    assert champion.metrics == pytest.approx(rescored, rel=1e-6)
    assert champion.recorded_metrics == pytest.approx(
        {k: v for k, v in first.candidate.metrics.items() if k in REPORTED_METRICS}
    )
    assert champion.data_digests == {d.role: d.digest for d in first.data}
    assert {f"champion_{k}": run.data.metrics[f"champion_{k}"] for k in rescored} == (
        pytest.approx({f"champion_{k}": v for k, v in champion.metrics.items()})
    )

    assert set(report.deltas) == set(report.candidate.metrics) & set(champion.metrics)
    for name, delta in report.deltas.items():
        mine, theirs = report.candidate.metrics[name], champion.metrics[name]
        assert (delta.candidate, delta.champion) == (mine, theirs)
        assert delta.absolute == pytest.approx(mine - theirs)
        assert delta.relative == pytest.approx((mine - theirs) / abs(theirs))
        assert delta.better is (
            None if mine == theirs else (mine > theirs) == GREATER_IS_BETTER[name]
        )

    gate_config = load_settings(project.config).gate
    mine, theirs = report.candidate.metrics, champion.metrics[gate_config.metric]
    slack = abs(theirs) * gate_config.relative_tolerance
    no_worse = (
        mine[gate_config.metric] >= theirs - slack
        if gate_config.greater_is_better
        else mine[gate_config.metric] <= theirs + slack
    )
    within_bounds = all(
        mine[name] <= bound.max if bound.max is not None else mine[name] >= bound.min
        for name, bound in gate_config.bounds.items()
    )
    assert report.gate.baseline == "champion"
    assert report.gate.passed is (no_worse and within_bounds)
    assert [point.version for point in report.history] == [champion_version]


def test_champion_that_cannot_score_the_data_is_not_comparable(
    tmp_path: Path,
    store: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mlflow

    project = Project.create(tmp_path, store, latency_batch=LATENCY_BATCH)
    project.enter(monkeypatch)
    client = project.client()
    needs = "weight_kg"
    training = project.data("train")
    rides = training.features.assign(**{needs: 70.0 + 0.1 * training.target})
    inputs = [*INPUTS, needs]
    other = LinearRegression().fit(rides[inputs], training.target)
    experiment_id = client.create_experiment(project.name)
    recorded = {RMSE: 4.25}
    with mlflow.start_run(experiment_id=experiment_id):
        mlflow.log_metrics(recorded)
        info = mlflow.sklearn.log_model(
            other,
            name="model",
            signature=mlflow.models.infer_signature(rides[inputs], other.predict(rides[inputs])),
        )
    foreign = mlflow.register_model(info.model_uri, project.name)
    client.set_registered_model_alias(project.name, "champion", foreign.version)

    assert project.cli("train") == 0

    report = load_report(project.root / "reports" / "report.json")
    champion = report.champion
    assert champion.version == str(foreign.version)
    assert not champion.comparable
    assert needs in champion.not_comparable_reason
    assert champion.metrics == {}
    assert champion.recorded_metrics == recorded
    assert report.deltas == {}
    assert report.gate.baseline == "bounds-only"
    assert set(REPORTED_METRICS) <= set(report.candidate.metrics)
    assert int(report.candidate.version) == int(foreign.version) + 1


ESTIMATORS = {
    "hist-gradient-boosting": ("sklearn.ensemble.HistGradientBoostingRegressor", "max_iter=30"),
    "random-forest": ("sklearn.ensemble.RandomForestRegressor", "n_estimators=10"),
    "k-neighbours": ("sklearn.neighbors.KNeighborsRegressor", "n_neighbors=7"),
    "support-vector": ("sklearn.svm.SVR", "C=50.0"),
    "lightgbm": ("lightgbm.LGBMRegressor", "n_estimators=40"),
    "xgboost": ("xgboost.XGBRegressor", "n_estimators=40"),
}


@pytest.mark.parametrize(("path", "param"), ESTIMATORS.values(), ids=ESTIMATORS)
def test_any_regressor_trains_logs_serves_and_promotes_from_configuration(
    tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch, path: str, param: str
) -> None:
    import mlflow

    project = Project.create(tmp_path, store, latency_batch=LATENCY_BATCH)
    text = project.config.read_text(encoding="utf-8")
    text = text.replace('estimator = "sklearn.linear_model.Lasso"', f'estimator = "{path}"')
    text = text.replace(f"params = {{ alpha = {DEFAULT_ALPHA} }}", "params = {}")
    project.config.write_text(text, encoding="utf-8")
    project.enter(monkeypatch)

    assert project.cli("train", "--param", param) == 0
    report = load_report(project.root / "reports" / "report.json")
    assert report.candidate.estimator == path
    name, value = param.split("=")
    assert str(report.candidate.params[name]) == value
    library = path.partition(".")[0]
    requirements = Path(mlflow.pyfunc.get_model_dependencies(report.candidate.model_uri))
    requirements = requirements.read_text(encoding="utf-8")
    if library != "sklearn":
        assert f"{library}=={importlib.metadata.version(library)}" in requirements.split()
    assert project.cli("promote", "--version", "latest") == 0

    champion = mlflow.pyfunc.load_model(f"models:/{project.name}@champion")
    validation = project.data("validation")
    predictions = champion.predict(validation.features)
    assert sk.root_mean_squared_error(validation.target, predictions) == pytest.approx(
        report.candidate.metrics[RMSE], rel=1e-9
    )
