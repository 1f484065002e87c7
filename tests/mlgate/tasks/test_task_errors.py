"""Mistakes a team makes when it brings a classifier (or a regressor to a classifier plug-in):
one line on stderr naming the file, column or setting, exit 1, and nothing logged, registered
or reported. The parts of the lifecycle that do not handle classifiers yet refuse them the same
way instead of doing something wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlgate import tasks
from mlgate.contract import Dataset
from mlgate.errors import UserError
from support import classifiers
from support.project import Project
from support.stores import sqlite_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sqlite_store(tmp_path_factory, "task-errors")


def _unseen_label(root: Path, uri: str) -> Project:
    val = classifiers.held_out("binary")
    val.loc[val.index[:3], "diagnosis"] = "inconclusive"
    return classifiers.project(root, uri, "binary", validation=val)


def _single_class(root: Path, uri: str) -> Project:
    val = classifiers.held_out("multiclass")
    return classifiers.project(root, uri, "multiclass", validation=val[val["cultivar"] == 2])


def _classifier_for_regression(root: Path, uri: str) -> Project:
    project = Project.create(root, uri)
    text = project.config.read_text(encoding="utf-8")
    text = text.replace("sklearn.linear_model.Lasso", "sklearn.linear_model.LogisticRegression")
    project.config.write_text(text.replace("params = { alpha = 10.0 }", "params = {}"), "utf-8")
    return project


def _regression_gate_on_roc_auc(root: Path, uri: str) -> Project:
    project = Project.create(root, uri)
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(text.replace("[gate]\n", '[gate]\nmetric = "roc_auc"\n'), "utf-8")
    return project


def _threshold_for_regression(root: Path, uri: str) -> Project:
    project = Project.create(root, uri)
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(text.replace("[gate]\n", "decision_threshold = 0.7\n[gate]\n"))
    return project


CASES: dict[str, tuple[Callable[[Path, str], Project], tuple[str, ...]]] = {
    "label-unseen-in-training": (
        _unseen_label,
        ("validation.parquet: column diagnosis:", "'inconclusive' never seen in training"),
    ),
    "single-class-validation": (
        _single_class,
        ("validation.parquet: column cultivar: a single class (2)",),
    ),
    "classifier-for-regression": (
        _classifier_for_regression,
        ("model.estimator 'sklearn.linear_model.LogisticRegression': a classifier", "regression"),
    ),
    "regressor-for-binary": (
        lambda root, uri: classifiers.project(
            root, uri, "binary", estimator="sklearn.linear_model.Ridge", params="{}"
        ),
        ("model.estimator 'sklearn.linear_model.Ridge': a regressor", "'binary'"),
    ),
    "lightgbm-regressor-for-multiclass": (
        lambda root, uri: classifiers.project(
            root, uri, "multiclass", estimator="lightgbm.LGBMRegressor", params="{}"
        ),
        ("model.estimator 'lightgbm.LGBMRegressor': a regressor", "'multiclass'"),
    ),
    "regression-metric-for-binary": (
        lambda root, uri: classifiers.project(
            root, uri, "binary", gate='metric = "root_mean_squared_error"'
        ),
        ("gate.metric 'root_mean_squared_error' is not a metric of a binary plug-in", "roc_auc"),
    ),
    "classifier-metric-for-regression": (
        _regression_gate_on_roc_auc,
        ("gate.metric 'roc_auc' is not a metric of a regression plug-in",),
    ),
    "binary-bound-for-multiclass": (
        lambda root, uri: classifiers.project(
            root,
            uri,
            "multiclass",
            gate='metric = "f1_macro"\nbounds = { roc_auc = { min = 0.9 } }',
        ),
        ("gate.bounds.roc_auc 'roc_auc' is not a metric of a multiclass plug-in",),
    ),
    "threshold-for-multiclass": (
        lambda root, uri: classifiers.project(
            root, uri, "multiclass", model_extra="decision_threshold = 0.7\n"
        ),
        ("model.decision_threshold 0.7: only a binary plug-in", "'multiclass'"),
    ),
    "threshold-for-regression": (
        _threshold_for_regression,
        ("model.decision_threshold 0.7: only a binary plug-in", "'regression'"),
    ),
}


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


def _nothing_logged(project: Project) -> None:
    client = project.client()
    assert client.get_experiment_by_name(project.name) is None
    assert client.search_registered_models(f"name = '{project.name}'") == []
    assert not (project.root / "reports" / "report.json").exists()


@pytest.mark.parametrize("case", CASES)
def test_train_refuses_in_one_line_before_anything_is_logged(
    case: str,
    tmp_path: Path,
    store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make, expected = CASES[case]
    project = make(tmp_path, store)
    project.enter(monkeypatch)
    capsys.readouterr()

    assert project.cli("train") == 1

    error = _one_line(capsys)
    for fragment in expected:
        assert fragment in error
    _nothing_logged(project)


def _dataset(name: str, labels: list) -> Dataset:
    frame = pd.DataFrame({"x": np.arange(len(labels), dtype=float)})
    return Dataset(Path(name), frame, pd.Series(labels, name="label"), len(labels))


DATA_CASES = {
    "three-classes-for-binary": (
        "binary",
        ["a", "b", "c", "a"],
        ["a", "b"],
        "train.parquet: column label: a binary plug-in needs exactly 2 classes in training, "
        "found 3 ('a', 'b', 'c')",
    ),
    "two-classes-for-multiclass": (
        "multiclass",
        [0, 1, 0, 1],
        [0, 1],
        "train.parquet: column label: a multiclass plug-in needs at least 3 classes in "
        "training, found 2 (0, 1)",
    ),
    "missing-label": (
        "multiclass",
        [0, 1, 2],
        [0, None, 1],
        "validation.parquet: column label: 1 row(s) have no label",
    ),
    "unseen-integer-label": (
        "multiclass",
        [0, 1, 2, 2],
        [0, 1, 7, 9],
        "validation.parquet: column label: label(s) 7, 9 never seen in training (train.parquet)",
    ),
    "text-target-for-regression": (
        "regression",
        ["a", "b"],
        ["a", "b"],
        "train.parquet: column label: a regression target must be numeric, got ",
    ),
}


@pytest.mark.parametrize("case", DATA_CASES)
def test_targets_that_cannot_train_or_be_scored_are_one_line(case: str) -> None:
    task, train, validation, expected = DATA_CASES[case]
    with pytest.raises(UserError) as error:
        tasks.adapter(task).check_data(
            _dataset("train.parquet", train), _dataset("validation.parquet", validation)
        )
    assert str(error.value).startswith(expected)


@pytest.mark.parametrize(
    ("task", "labels"),
    [("binary", ["no", "yes", "yes"]), ("binary", [3, 8, 3]), ("multiclass", ["x", "y", "z"])],
)
def test_strings_and_integers_are_labels_alike(task: str, labels: list) -> None:
    data = _dataset("train.parquet", labels)
    adapter = tasks.adapter(task)
    adapter.check_data(data, data)
    classes = adapter.describe(data, 0.5)["classes"]
    assert classes == sorted(set(labels))
    assert [classes[code] for code in adapter.fit_target(data)] == labels
