"""Serving a classifier: MLflow's scoring server answers one probability per class for each
record, the contract checks them (in [0, 1], rows summing to 1, equal to in-process
`predict_proba`, the same labels), and `predict` writes the label and a probability column
per class, named by class.

The contract's rules are checked on outputs broken on purpose; the rest runs end to end on a
real store and a real scoring server, for a binary LightGBM plug-in and a multiclass
scikit-learn one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlgate import tasks
from mlgate.report.document import load_report
from support import classifiers
from support.stores import sqlite_store

THRESHOLD = 0.3
RECORDS = {
    "binary": {"task": "binary", "classes": ["B", "M"], "decision_threshold": THRESHOLD},
    "multiclass": {"task": "multiclass", "classes": [0, 1, 2]},
}


def _expected(task: str) -> np.ndarray:
    rng = np.random.default_rng(3)
    raw = rng.random((20, len(RECORDS[task]["classes"])))
    return raw / raw.sum(axis=1, keepdims=True)


def _broken(task: str, how: str) -> np.ndarray:
    served = _expected(task).copy()
    if how == "outside [0, 1]":
        served[0, 0], served[0, 1] = -0.2, served[0, 1] + served[0, 0] + 0.2
    elif how == "sum":
        served[1] *= 1.01
    elif how == "differ":
        served[2, 0] += 1e-6
        served[2, 1] -= 1e-6
    return served


@pytest.mark.parametrize("task", list(RECORDS))
@pytest.mark.parametrize(
    ("how", "problem"),
    [
        ("outside [0, 1]", "a probability outside [0, 1]"),
        ("sum", "a row's probabilities sum to 1"),
        ("differ", "differ from in-process predict by up to 1e-06"),
        ("none", None),
    ],
)
def test_the_contract_names_what_a_served_classifier_broke(
    task: str, how: str, problem: str | None
) -> None:
    adapter = tasks.adapter(task)
    found = adapter.check_served(_broken(task, how), _expected(task), RECORDS[task])
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem)


def test_a_served_answer_of_the_wrong_shape_is_refused() -> None:
    adapter = tasks.adapter("multiclass")
    with pytest.raises(ValueError, match="one probability per class"):
        adapter.as_outputs([0.1, 0.9], RECORDS["multiclass"])


@pytest.mark.slow  # trains, serves and scores classifiers through MLflow
@pytest.mark.parametrize(
    ("task", "estimator", "params", "extra"),
    [
        ("binary", "lightgbm.LGBMClassifier", "{ n_estimators = 40, num_leaves = 7 }",
         f"decision_threshold = {THRESHOLD}\n"),
        ("multiclass", "sklearn.linear_model.LogisticRegression", "{ max_iter = 2000 }", ""),
    ],
)  # fmt: skip
def test_a_classifier_is_served_checked_and_batch_scored(
    task: str,
    estimator: str,
    params: str,
    extra: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mlflow

    store = sqlite_store(tmp_path_factory, f"serve-{task}")
    project = classifiers.project(
        tmp_path,
        store,
        task,
        estimator=estimator,
        params=params,
        model_extra=extra,
        extra="[serving]\ncheck = true\nlatency_batch = 16\nlatency_repeats = 3\n",
    )
    project.enter(monkeypatch)

    assert project.cli("train") == 0
    serving = load_report(project.root / "reports" / "report.json").serving
    assert serving is not None
    assert serving.passed, serving.failed_request
    answered = {c.name: c.detail for c in serving.checks}
    for encoding in ("dataframe_split", "dataframe_records"):
        assert "equal to in-process predict" in answered[encoding]
    assert project.cli("serve-check", "--model", "1") == 0

    out = tmp_path / "scored.parquet"
    data = tmp_path / "data" / "validation.parquet"
    assert project.cli("predict", "--model", "1", "--data", str(data), "--out", str(out)) == 0
    scored = pd.read_parquet(out)
    validation = pd.read_parquet(data)
    label = classifiers.PLUGINS[task].target.name
    classes = sorted(classifiers.frame(task)[label].unique().tolist())
    columns = [f"probability_{c}" for c in classes]
    assert list(scored.columns) == ["row", "label", *columns]
    assert scored["row"].tolist() == list(range(len(validation)))
    pipeline = mlflow.sklearn.load_model(f"models:/{project.name}/1")
    features = validation.drop(columns=[label])
    proba = pipeline.predict_proba(features)
    np.testing.assert_allclose(scored[columns].to_numpy(), proba, rtol=0, atol=1e-9)
    np.testing.assert_allclose(scored[columns].sum(axis=1), 1.0, atol=1e-9)
    if task == "binary":
        by_hand = np.where(proba[:, 1] >= THRESHOLD, classes[1], classes[0])
    else:
        by_hand = np.asarray(classes)[proba.argmax(axis=1)]
    assert scored["label"].tolist() == by_hand.tolist()
