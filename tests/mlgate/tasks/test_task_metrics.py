"""Each task's metrics equal scikit-learn's computed by hand from the same fitted model, for
string and integer labels, and binary label metrics follow the configured threshold."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from mlgate import tasks
from mlgate.contract import Dataset
from support import classifiers

LABELINGS = {
    "binary": {"as given": None, "integers": {"benign": 0, "malignant": 1}},
    "multiclass": {"as given": None, "strings": {0: "barolo", 1: "grignolino", 2: "barbera"}},
}
CASES = [(task, name) for task, names in LABELINGS.items() for name in names]


@cache
def fitted(task: str, labeling: str = "as given"):
    """A logistic regression fitted as training fits it (the adapter's target) on the task's
    training rows, one fitted on the raw labels to check against, and the validation rows;
    fitted once per labeling, which the tests only read."""
    from sklearn.pipeline import make_pipeline

    data = classifiers.frame(task)
    label = classifiers.PLUGINS[task].target.name
    relabel = LABELINGS[task][labeling]
    if relabel is not None:
        data[label] = data[label].map(relabel)
    cut = int(len(data) * classifiers.TRAIN_SHARE)
    train = Dataset(
        Path("train.parquet"), data.iloc[:cut].drop(columns=label), data[label][:cut], cut
    )
    val = data.iloc[cut:]
    models = [
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.05)) for _ in range(2)
    ]
    models[0].fit(train.features, tasks.adapter(task).fit_target(train))
    models[1].fit(train.features, train.target)
    return models[0], train, val.drop(columns=label), val[label], models[1]


def by_hand(task: str, truth: pd.Series, proba: np.ndarray, classes: list, threshold: float):
    if task == "multiclass":
        predicted = [classes[i] for i in proba.argmax(axis=1)]
        return {
            "accuracy_score": sk.accuracy_score(truth, predicted),
            "balanced_accuracy_score": sk.balanced_accuracy_score(truth, predicted),
            "f1_macro": sk.f1_score(truth, predicted, average="macro"),
            "f1_weighted": sk.f1_score(truth, predicted, average="weighted"),
            "log_loss": sk.log_loss(truth, proba, labels=classes),
        }
    positive = classes[1]
    score = proba[:, 1]
    predicted = np.where(score >= threshold, positive, classes[0])
    return {
        "roc_auc": sk.roc_auc_score(truth == positive, score),
        "average_precision": sk.average_precision_score(truth, score, pos_label=positive),
        "log_loss": sk.log_loss(truth, proba, labels=classes),
        "brier_score": sk.brier_score_loss(truth == positive, score),
        "f1_score": sk.f1_score(truth, predicted, pos_label=positive, zero_division=0),
        "precision_score": sk.precision_score(truth, predicted, pos_label=positive),
        "recall_score": sk.recall_score(truth, predicted, pos_label=positive),
        "accuracy_score": sk.accuracy_score(truth, predicted),
    }


@pytest.mark.parametrize(("task", "labeling"), CASES)
@pytest.mark.parametrize("threshold", [0.5, 0.8])
def test_metrics_equal_scikit_learn_by_hand(task: str, labeling: str, threshold: float) -> None:
    model, train, features, truth, reference = fitted(task, labeling)
    adapter = tasks.adapter(task)
    description = adapter.describe(train, threshold)
    classes = list(reference.classes_)

    scores = adapter.score(truth, adapter.outputs(model, features), description)

    expected = by_hand(task, truth, reference.predict_proba(features), classes, threshold)
    assert set(scores) == set(adapter.metric_names)
    for name, value in expected.items():
        assert scores[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    assert description["classes"] == [c.item() if hasattr(c, "item") else c for c in classes]
    assert adapter.train_score(model, train) == pytest.approx(
        sk.log_loss(train.target, reference.predict_proba(train.features)), rel=1e-9
    )


def test_the_threshold_moves_the_label_metrics_only() -> None:
    """A stricter threshold makes fewer positives: precision up, recall down, ranking kept."""
    model, train, features, truth, _ = fitted("binary")
    adapter = tasks.adapter("binary")
    outputs = adapter.outputs(model, features)
    low = adapter.score(truth, outputs, adapter.describe(train, 0.2))
    high = adapter.score(truth, outputs, adapter.describe(train, 0.95))
    for name in ("roc_auc", "average_precision", "log_loss", "brier_score"):
        assert low[name] == high[name]
    assert high["recall_score"] < low["recall_score"]
    assert high["precision_score"] >= low["precision_score"]


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_outputs_of_the_wrong_shape_are_refused(task: str) -> None:
    """A model whose outputs are not one probability per class cannot be scored as this task
    (a regressor's champion, or another label set): the comparison says why."""
    _, train, _, truth, _ = fitted(task)
    adapter = tasks.adapter(task)
    description = adapter.describe(train, 0.5)
    with pytest.raises(ValueError, match="not one probability per class"):
        adapter.score(truth, np.zeros(len(truth)), description)


class _Logged:
    """What the comparison reads of a loaded model: the metadata of its MLmodel file."""

    def __init__(self, metadata: dict | None) -> None:
        self.metadata = type("Model", (), {"metadata": metadata})()


@pytest.mark.parametrize(
    ("task", "metadata", "logged_for"),
    [
        ("binary", None, "regression"),  # a champion logged before tasks existed
        (
            "binary",
            {tasks.METADATA_KEY: {"task": "multiclass", "classes": [0, 1, 2]}},
            "multiclass",
        ),
        ("regression", {tasks.METADATA_KEY: {"task": "binary", "classes": [0, 1]}}, "binary"),
    ],
)
def test_a_model_logged_for_another_task_is_not_comparable(
    task: str, metadata: dict | None, logged_for: str
) -> None:
    with pytest.raises(ValueError, match=f"logged for task '{logged_for}', not '{task}'"):
        tasks.adapter(task).description_of(_Logged(metadata))


def test_a_model_logged_before_tasks_existed_is_a_regressor() -> None:
    assert tasks.adapter("regression").description_of(_Logged(None)) == {"task": "regression"}
