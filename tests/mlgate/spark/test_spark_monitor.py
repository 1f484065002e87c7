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


@pytest.fixture(scope="module", params=["regressor", "binary"])
def champion(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Project]:
    """A project whose v1 is the champion, trained once per model kind."""
    kind = request.param
    root, store = tmp_path_factory.mktemp(kind), sqlite_store(tmp_path_factory, f"mon-{kind}")
    made = (
        Project.create(root, store)
        if kind == "regressor"
        else classifiers.project(root, store, kind)
    )
    with pytest.MonkeyPatch.context() as patch:
        made.enter(patch)
        assert made.cli("train") == 0
        assert made.cli("promote", "--version", "1") == 0
    return kind, made


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


@pytest.mark.parametrize("shift", [1.0, 1.4], ids=["same", "shifted"])
def test_spark_statistics_and_verdict_equal_the_local_engine(
    champion: tuple[str, Project],
    shift: float,
    spark: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kind, project = champion
    project.enter(monkeypatch)
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
