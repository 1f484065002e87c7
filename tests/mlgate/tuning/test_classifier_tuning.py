"""`mlgate tune` for classifier plug-ins: stratified folds, trials scored by the task on the
gate's metric in its direction, a search that may choose among classifiers, and the winner
registered like a trained candidate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlgate import tasks
from mlgate.config import TuningConfig
from mlgate.errors import UserError
from mlgate.report.document import load_report
from mlgate.tuning.job import with_metric
from mlgate.tuning.objective import folds
from support import classifiers
from support.stores import sqlite_store

LOGISTIC = "sklearn.linear_model.LogisticRegression"
TREE = "sklearn.tree.DecisionTreeClassifier"
SEARCH = f"""[tuning]
sampler = "tpe"
seed = 1
n_trials = 5
cv_folds = 3
space.C = {{ kind = "float", low = 0.001, high = 10.0, log = true, estimators = ["{LOGISTIC}"] }}
space.max_depth = {{ kind = "int", low = 1, high = 4, estimators = ["{TREE}"] }}

[tuning.space.estimator]
kind = "categorical"
choices = ["{LOGISTIC}", "{TREE}"]
"""


@pytest.mark.parametrize("share", [0.1, 0.3, 0.5])
def test_folds_of_a_classifier_keep_each_label_share(share: float) -> None:
    labels = np.array([1] * int(300 * share) + [0] * (300 - int(300 * share)))
    np.random.default_rng(0).shuffle(labels)
    config = TuningConfig(cv_folds=3, seed=2)
    for _, held_out in folds(config, len(labels), labels):
        assert abs(labels[held_out].mean() - share) <= 1 / len(held_out)
    plain = [labels[held].mean() for _, held in folds(config, len(labels))]
    assert len(plain) == 3  # unstratified folds exist too; their shares are left to chance


@pytest.mark.parametrize(
    ("task", "configured", "gate", "expected"),
    [
        ("binary", None, "roc_auc", "roc_auc"),
        ("binary", "brier_score", "roc_auc", "brier_score"),
        ("multiclass", None, "f1_macro", "f1_macro"),
        ("regression", None, "root_mean_squared_error", "root_mean_squared_error"),
    ],
)
def test_trials_optimise_the_gate_metric_unless_one_is_configured(
    task: str, configured: str | None, gate: str, expected: str
) -> None:
    config = with_metric(TuningConfig(metric=configured), gate, tasks.adapter(task))
    assert config.metric == expected


@pytest.mark.parametrize(
    ("task", "configured", "gate", "where"),
    [
        ("binary", "root_mean_squared_error", "roc_auc", "[tool.mlgate] tuning.metric"),
        ("multiclass", None, "root_mean_squared_error", "gate.metric"),
        ("regression", "roc_auc", "r2_score", "[tool.mlgate] tuning.metric"),
    ],
)
def test_a_metric_of_another_task_is_one_line_naming_the_setting(
    task: str, configured: str | None, gate: str, where: str
) -> None:
    with pytest.raises(UserError) as caught:
        with_metric(TuningConfig(metric=configured), gate, tasks.adapter(task))
    message = str(caught.value)
    assert "\n" not in message
    assert where in message
    assert f"not a metric of a {task} plug-in" in message


@pytest.mark.slow  # trains and registers classifiers in an MLflow store
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_tuning_a_classifier_registers_the_best_trial(
    task: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch
) -> None:
    store = sqlite_store(tmp_path_factory, f"tune-{task}")
    project = classifiers.project(tmp_path, store, task, extra=SEARCH)
    project.enter(monkeypatch)

    assert project.cli("tune") == 0

    report = load_report(project.root / "reports" / "report.json")
    search = report.tuning
    assert search is not None
    metric = "roc_auc" if task == "binary" else "accuracy_score"  # the project's gate metric
    assert search.metric == metric
    finished = [t.value for t in search.history if t.state == "complete"]
    assert finished
    assert all(0 <= value <= 1 for value in finished)
    assert search.best_cv_score == max(finished)  # higher is better for both metrics
    assert report.candidate.version == "1"
    assert report.candidate.estimator in (LOGISTIC, TREE)
    assert search.validation_score == pytest.approx(report.candidate.metrics[metric])
