"""`mlgate train` end to end for classifier plug-ins (binary on breast-cancer data with string
labels, multiclass on wine data with integer labels) on a temporary sqlite store, with
scikit-learn, LightGBM and XGBoost classifiers: the task's metrics land under their stable
names, the version is registered, and the model loads back and predicts. Then the gate takes a
classifier's metric in its direction against a champion, in training and again in promotion.

Expected values are recomputed by hand with scikit-learn from the registered model's outputs.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk

from mlgate import tasks
from mlgate.report.document import Report, load_report, metric_label
from support import classifiers
from support.project import Project
from support.stores import sqlite_store

pytestmark = pytest.mark.slow  # trains and registers models in an MLflow store

ESTIMATORS = {
    "sklearn": ("sklearn.linear_model.LogisticRegression", "{ max_iter = 2000 }"),
    "lightgbm": ("lightgbm.LGBMClassifier", "{ n_estimators = 30, num_leaves = 15 }"),
    "xgboost": ("xgboost.XGBClassifier", "{ n_estimators = 30, max_depth = 3 }"),
}
THRESHOLD = 0.35
CASES = [(task, library) for task in ("binary", "multiclass") for library in ESTIMATORS]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sqlite_store(tmp_path_factory, "classifier-store")


def _train(project: Project, monkeypatch: pytest.MonkeyPatch) -> Report:
    project.enter(monkeypatch)
    assert project.cli("train") == 0
    return load_report(project.root / "reports" / "report.json")


def _by_hand(task: str, truth: pd.Series, proba: np.ndarray, classes: list) -> dict[str, float]:
    """A few of each task's metrics, straight from scikit-learn on the served probabilities."""
    if task == "binary":
        positive = np.asarray(truth) == classes[1]
        labels = np.where(proba[:, 1] >= THRESHOLD, classes[1], classes[0])
        return {
            "roc_auc": sk.roc_auc_score(positive, proba[:, 1]),
            "log_loss": sk.log_loss(truth, proba, labels=classes),
            "brier_score": sk.brier_score_loss(positive, proba[:, 1]),
            "recall_score": sk.recall_score(truth, labels, pos_label=classes[1]),
            "accuracy_score": sk.accuracy_score(truth, labels),
        }
    labels = [classes[i] for i in proba.argmax(axis=1)]
    return {
        "accuracy_score": sk.accuracy_score(truth, labels),
        "f1_macro": sk.f1_score(truth, labels, average="macro"),
        "log_loss": sk.log_loss(truth, proba, labels=classes),
    }


@pytest.mark.parametrize(("task", "library"), CASES)
def test_a_classifier_trains_logs_registers_and_loads_back(
    task: str, library: str, tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    estimator, params = ESTIMATORS[library]
    threshold = f"decision_threshold = {THRESHOLD}\n" if task == "binary" else ""
    project = classifiers.project(
        tmp_path, store, task, estimator=estimator, params=params, model_extra=threshold
    )
    report = _train(project, monkeypatch)
    adapter = tasks.adapter(task)
    plugin = classifiers.PLUGINS[task](classifiers.PLUGINS[task].Options())
    train = plugin.load(tmp_path / "data" / "train.parquet")
    validation = plugin.load(tmp_path / "data" / "validation.parquet")

    # Stable names, logged on the run as reported.
    assert set(report.candidate.metrics) == {m.name for m in adapter.metrics}
    run = project.client().get_run(report.candidate.run_id)
    for name, value in report.candidate.metrics.items():
        assert run.data.metrics[name] == pytest.approx(value, rel=1e-12)
    assert report.candidate.version == "1"
    version = project.client().get_model_version(project.name, "1")
    assert version.tags["gate.passed"] == str(report.gate.passed).lower()

    # The registered model's outputs: one probability per class, in the training labels' order.
    served = mlflow.pyfunc.load_model(f"models:/{project.name}/1")
    record = served.metadata.metadata[tasks.METADATA_KEY]
    classes = sorted(train.target.unique().tolist())
    assert record["classes"] == classes
    proba = np.asarray(served.predict(validation.features))
    assert proba.shape == (validation.rows, len(classes))
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    for name, value in _by_hand(task, validation.target, proba, classes).items():
        assert report.candidate.metrics[name] == pytest.approx(value, rel=1e-6), name
    if task == "binary":
        assert run.data.params["decision_threshold"] == str(THRESHOLD)
        assert record["decision_threshold"] == THRESHOLD
    _check_breakdown(task, report, validation.target, proba, classes)

    # The scikit-learn flavour loads the same pipeline back; its codes index the classes.
    pipeline = mlflow.sklearn.load_model(f"models:/{project.name}/1")
    codes = pipeline.predict(validation.features.head(20))
    assert set(np.asarray(classes, dtype=object)[codes]) <= set(classes)

    pins = Path(mlflow.pyfunc.get_model_dependencies(f"models:/{project.name}/1")).read_text()
    if library != "sklearn":
        assert f"{library}=={importlib.metadata.version(library)}" in pins.split()


def _check_breakdown(
    task: str, report: Report, truth: pd.Series, proba: np.ndarray, classes: list
) -> None:
    """The comment's breakdown agrees with scikit-learn on the served probabilities."""
    breakdown = report.candidate.breakdown
    assert breakdown is not None
    assert breakdown.classes == [str(c) for c in classes]
    if task == "binary":
        labels = np.where(proba[:, 1] >= THRESHOLD, classes[1], classes[0])
    else:
        labels = np.asarray(classes)[proba.argmax(axis=1)]
    expected = sk.confusion_matrix(truth, labels, labels=classes)
    assert breakdown.confusion == expected.tolist()
    counts = truth.value_counts()
    assert [f.support for f in breakdown.per_class] == [int(counts[c]) for c in classes]
    recall = sk.recall_score(truth, labels, labels=classes, average=None, zero_division=0)
    assert [f.recall for f in breakdown.per_class] == pytest.approx(recall.tolist())
    if task == "binary":
        # The curve read off the grid keeps the model's ranking quality: its area is the AUC's.
        roc = breakdown.roc
        assert roc is not None
        assert breakdown.pr is not None
        assert np.all(np.diff(roc.y) >= 0)
        assert roc.y[-1] == pytest.approx(1.0)
        area = float(np.sum(np.diff(roc.x) * (np.array(roc.y[1:]) + roc.y[:-1]) / 2))
        assert area == pytest.approx(report.candidate.metrics["roc_auc"], abs=0.05)
    else:
        assert breakdown.roc is None


GATES = {
    # task: (gate metric, a weak champion, a stronger candidate, a worse one)
    "binary": ("brier_score",),
    "multiclass": ("balanced_accuracy_score",),
}
STUMP = ("sklearn.tree.DecisionTreeClassifier", "{ max_depth = 1, random_state = 0 }")
STRONG = ("sklearn.linear_model.LogisticRegression", "{ max_iter = 2000 }")
WORSE = ("sklearn.dummy.DummyClassifier", '{ strategy = "prior" }')


@pytest.mark.parametrize("task", GATES)
def test_the_gate_takes_a_classifier_metric_in_its_direction(
    task: str, tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (metric,) = GATES[task]
    greater = tasks.METRICS[metric].greater_is_better
    name = classifiers.project(tmp_path / "first", store, task).name
    reports = {}
    for step, (estimator, params) in {"champion": STUMP, "better": STRONG, "worse": WORSE}.items():
        project = classifiers.project(
            tmp_path / step,
            store,
            task,
            estimator=estimator,
            params=params,
            gate=f'metric = "{metric}"',
            name=name,
        )
        reports[step] = _train(project, monkeypatch)
        if step == "champion":
            assert project.cli("promote", "--version", "1") == 0

    better, worse = reports["better"], reports["worse"]
    champion = reports["champion"].candidate.metrics[metric]
    for report in (better, worse):
        assert report.champion is not None
        assert report.champion.comparable
        assert report.champion.metrics[metric] == pytest.approx(champion, rel=1e-9)
        assert report.gate.baseline == "champion"
    assert better.gate.passed
    assert not worse.gate.passed
    assert (better.candidate.metrics[metric] > champion) is greater
    assert (worse.candidate.metrics[metric] > champion) is not greater
    assert better.deltas[metric].better is True
    assert worse.deltas[metric].better is False

    (line,) = worse.gate.reasons
    direction = "higher is better" if greater else "lower is better"
    assert line.startswith(f"FAIL: {metric_label(metric)} ")
    assert "worse than champion v1" in line
    assert direction in line
    assert better.gate.reasons[0].startswith(f"pass: {metric_label(metric)} ")

    # The comment shows every metric of the task with its delta against the champion.
    markdown = (tmp_path / "worse" / "reports" / "report.md").read_text(encoding="utf-8")
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    for shown in tasks.adapter(task).metrics:
        assert any(shown.label in row for row in rows), shown.label

    # The champion's breakdown is its own, on the same rows, beside the candidate's.
    own = reports["champion"].candidate.breakdown
    assert worse.champion.breakdown == own
    assert worse.candidate.breakdown != own
    assert "#### Classes" in markdown
    assert "columns the candidate's predictions, then Champion v1's" in markdown
    if task == "binary":
        assert markdown.count("xychart-beta") >= 2
        assert "ROC curve: the candidate (first colour) and Champion v1 (second)" in markdown
    else:
        assert "Champion v1's F1" in markdown

    # Promotion scores both models again, in the scoring child, by each model's own record:
    # the worse candidate is refused and the better one moves the champion.
    client = project.client()
    assert project.cli("promote", "--version", "3") == 3
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"
    assert project.cli("promote", "--version", "2") == 0
    assert str(client.get_model_version_by_alias(name, "champion").version) == "2"
    experiment = client.get_experiment_by_name(name)
    for version, report in (("3", worse), ("2", better)):
        [run] = client.search_runs(
            [experiment.experiment_id],
            f"tags.kind = 'promotion' and tags.candidate_version = '{version}'",
        )
        assert run.data.tags["gate.passed"] == str(version == "2").lower()
        for shown in tasks.adapter(task).metric_names:
            assert run.data.metrics[shown] == pytest.approx(report.candidate.metrics[shown])
            assert run.data.metrics[f"champion_{shown}"] == pytest.approx(
                reports["champion"].candidate.metrics[shown]
            )
