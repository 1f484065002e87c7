"""`mlgate monitor` for classifier champions (binary and multiclass), end to end on a real
MLflow store: the predicted class's shares and the class probabilities are watched for drift,
and once labels arrive the gate metric is checked against the champion's recorded value, in
its direction.

Current months are resampled from the champion's own training rows, so an unshifted month
matches the reference by construction; a shifted one changes the class prior, or the labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlgate import tasks
from mlgate.errors import EXIT_DRIFT
from mlgate.monitoring.document import MonitoringReport, load_monitoring
from support import classifiers
from support.project import Project
from support.stores import sqlite_store

pytestmark = pytest.mark.slow  # trains and registers classifiers in an MLflow store

ROWS = 600
TASKS = ["binary", "multiclass"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sqlite_store(tmp_path_factory, "classifier-monitor-store")


@pytest.fixture(scope="module")
def champions() -> dict[str, Project]:
    return {}


@pytest.fixture
def project(
    request: pytest.FixtureRequest,
    champions: dict[str, Project],
    store: str,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Project:
    """A classifier project whose v1 is the champion (once per task and module)."""
    task = request.param
    if task not in champions:
        made = classifiers.project(tmp_path_factory.mktemp(f"monitor-{task}"), store, task)
        made.enter(monkeypatch)
        assert made.cli("train") == 0
        assert made.cli("promote", "--version", "1") == 0
        champions[task] = made
    found = champions[task]
    found.enter(monkeypatch)
    return found


def month(
    project: Project, task: str, name: str, *, prior: float = 0.0, shuffle: bool = False
) -> Path:
    """ROWS training rows resampled; `prior` of them replaced by rows of the rarest class;
    `shuffle` permutes the labels (the model stops matching them)."""
    rows = classifiers.frame(task).iloc[: int(len(classifiers.frame(task)) * 0.7)]
    label = classifiers.PLUGINS[task].target.name
    rng = np.random.default_rng(11)
    frame = rows.iloc[rng.integers(0, len(rows), ROWS)].reset_index(drop=True)
    if prior:
        rare = rows[rows[label] == rows[label].value_counts().idxmin()]
        swap = rng.random(ROWS) < prior
        frame.loc[swap] = rare.iloc[rng.integers(0, len(rare), int(swap.sum()))].to_numpy()
    if shuffle:
        frame[label] = rng.permutation(frame[label].to_numpy())
    path = project.root / "current" / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return path


def run(project: Project, current: Path, name: str) -> tuple[int, MonitoringReport]:
    out = project.root / "reports" / name
    status = project.cli("monitor", "--current", str(current), "--out", str(out))
    return status, load_monitoring(out / "monitoring.json")


def outcomes(report: MonitoringReport) -> dict[tuple[str, str], bool]:
    return {(c.subject, c.test): c.passed for c in report.checks if c.kind != "quality"}


@pytest.mark.parametrize("project", TASKS, indirect=True)
def test_an_unshifted_month_passes_with_the_outputs_and_the_gate_metric_checked(
    project: Project,
) -> None:
    task = project_task(project)
    status, report = run(project, month(project, task, "same"), "same")

    assert status == 0, [c for c in report.checks if not c.passed]
    subjects = {c.subject for c in report.checks if c.kind == "prediction"}
    classes = sorted(classifiers.frame(task)[classifiers.PLUGINS[task].target.name].unique())
    expected = {"predicted class"} | (
        {f"probability of {classes[1]}"}
        if task == "binary"
        else {f"probability of {c}" for c in classes}
    )
    assert subjects == expected
    [performance] = [c for c in report.checks if c.kind == "performance"]
    metric = tasks.METRICS[report.champion.metric]
    assert performance.test == metric.label
    assert performance.comparison == (">=" if metric.greater_is_better else "<=")
    run_metrics = project.client().get_run(report.champion.run_id).data.metrics
    assert report.champion.recorded == pytest.approx(run_metrics[report.champion.metric])


@pytest.mark.parametrize("project", TASKS, indirect=True)
def test_a_shifted_class_prior_drifts_the_predicted_class(project: Project) -> None:
    task = project_task(project)
    status, report = run(project, month(project, task, "prior", prior=0.6), "prior")

    assert status == EXIT_DRIFT
    found = outcomes(report)
    assert found[("predicted class", "PSI")] is False
    assert found[("predicted class", "chi-square")] is False


@pytest.mark.parametrize("project", TASKS, indirect=True)
def test_labels_the_model_no_longer_matches_fail_the_gate_metric(project: Project) -> None:
    task = project_task(project)
    status, report = run(project, month(project, task, "labels", shuffle=True), "labels")

    assert status == EXIT_DRIFT
    [performance] = [c for c in report.checks if c.kind == "performance"]
    assert not performance.passed
    assert report.drifted_subjects == [classifiers.PLUGINS[task].target.name]
    # The same rows as the unshifted month: the outputs did not move, the labels alone did.
    assert all(c.passed for c in report.checks if c.kind == "prediction")


def project_task(project: Project) -> str:
    """The task of a project made by `classifiers.project`, read back from its plug-in."""
    config = project.config.read_text(encoding="utf-8")
    return next(task for task, ref in classifiers.REFERENCES.items() if ref in config)
