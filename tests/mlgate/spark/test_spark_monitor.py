"""`monitor --engine spark` reaches the single-process command's verdict with the same checks,
statistics within 1e-9 (PSI, KS, chi-square, shares) and the same distributions, for a
regressor and a classifier, on a month like the training data and on a shifted one."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlgate.monitoring.document import load_monitoring
from support import classifiers, diabetes
from support.project import Project
from support.stores import sqlite_store

pytestmark = pytest.mark.slow  # trains, promotes and monitors on Spark

TOLERANCE = 1e-9
SHIFTED = {"regressor": "bmi", "binary": "mean_radius"}


def _project(kind: str, root: Path, store: str) -> Project:
    if kind == "regressor":
        return Project.create(root, store)
    return classifiers.project(root, store, kind)


def _month(kind: str, path: Path, shift: float) -> Path:
    rows = diabetes.frame() if kind == "regressor" else classifiers.frame(kind)
    rng = np.random.default_rng(7)
    frame = rows.iloc[rng.integers(0, len(rows), 500)].reset_index(drop=True)
    frame[SHIFTED[kind]] = frame[SHIFTED[kind]] * shift
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return path


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


@pytest.mark.parametrize("kind", ["regressor", "binary"])
@pytest.mark.parametrize("shift", [1.0, 1.4], ids=["same", "shifted"])
def test_spark_statistics_and_verdict_equal_the_local_engine(
    kind: str,
    shift: float,
    spark: object,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = _project(kind, tmp_path, sqlite_store(tmp_path_factory, f"monitor-{kind}"))
    project.enter(monkeypatch)
    assert project.cli("train") == 0
    assert project.cli("promote", "--version", "1") == 0
    current = _month(kind, tmp_path / "current.parquet", shift)
    statuses = {}
    for engine in ("local", "spark"):
        out = tmp_path / engine
        statuses[engine] = project.cli(
            "monitor", "--current", str(current), "--out", str(out), "--engine", engine
        )
    assert statuses["local"] == statuses["spark"]
    local = load_monitoring(tmp_path / "local" / "monitoring.json")
    spark_report = load_monitoring(tmp_path / "spark" / "monitoring.json")
    assert spark_report.drift == local.drift
    assert local.drift == (shift != 1.0)
    assert [(c.kind, c.subject, c.test) for c in spark_report.checks] == [
        (c.kind, c.subject, c.test) for c in local.checks
    ]
    for ours, theirs in zip(spark_report.checks, local.checks, strict=True):
        where = f"{theirs.subject} {theirs.test}"
        assert (ours.passed, ours.warning) == (theirs.passed, theirs.warning), where
        assert _close(ours.statistic, theirs.statistic), where
        assert _close(ours.p_value, theirs.p_value), where
        assert _close(ours.threshold, theirs.threshold), where
    assert len(spark_report.distributions) == len(local.distributions)
    for ours, theirs in zip(spark_report.distributions, local.distributions, strict=True):
        assert ours.labels == theirs.labels
        np.testing.assert_allclose(ours.reference, theirs.reference, atol=TOLERANCE)
        np.testing.assert_allclose(ours.current, theirs.current, atol=TOLERANCE)
    assert (spark_report.reference.rows, spark_report.current.rows) == (
        local.reference.rows,
        local.current.rows,
    )
    assert len(pd.read_parquet(current)) == spark_report.current.rows_raw
