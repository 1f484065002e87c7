"""`predict --engine spark` scores with `mlflow.pyfunc.spark_udf` and writes what the
single-process `predict` writes: the same rows, the same columns, the same values within 1e-9,
for a regressor and for classifiers (a binary one with its own threshold, a multiclass one)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from support import classifiers
from support.project import Project
from support.stores import sqlite_store

pytestmark = pytest.mark.slow  # trains models and scores them on Spark


def _project(kind: str, root: Path, store: str) -> Project:
    if kind == "regressor":
        return Project.create(root, store)
    extra = "decision_threshold = 0.3\n" if kind == "binary" else ""
    return classifiers.project(root, store, kind, model_extra=extra)


def _both(project: Project, data: Path, root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    local, spark = root / "local.parquet", root / "spark-out"
    assert project.cli("predict", "--model", "1", "--data", str(data), "--out", str(local)) == 0
    command = ["predict", "--model", "1", "--data", str(data), "--out", str(spark)]
    assert project.cli(*command, "--engine", "spark") == 0
    assert spark.is_dir()
    assert not spark.with_name(spark.name + ".tmp").exists()
    return pd.read_parquet(local), pd.read_parquet(spark).sort_values("row", ignore_index=True)


@pytest.mark.parametrize("kind", ["regressor", "binary", "multiclass"])
def test_spark_scores_like_the_single_process_command(
    kind: str,
    spark: object,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = _project(kind, tmp_path, sqlite_store(tmp_path_factory, f"spark-{kind}"))
    project.enter(monkeypatch)
    assert project.cli("train") == 0
    data = tmp_path / "data" / "validation.parquet"
    local, scored = _both(project, data, tmp_path)
    assert list(scored.columns) == list(local.columns)
    assert scored["row"].tolist() == list(range(len(pd.read_parquet(data))))
    numbers = [c for c in local.columns if c != "label"]
    np.testing.assert_allclose(scored[numbers], local[numbers], rtol=0, atol=1e-9)
    if "label" in local:
        assert scored["label"].tolist() == local["label"].tolist()
        assert local["label"].nunique() > 1  # the comparison covers more than one class


def test_a_second_run_replaces_the_previous_output(
    spark: object,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = Project.create(tmp_path, sqlite_store(tmp_path_factory, "spark-again"))
    project.enter(monkeypatch)
    assert project.cli("train") == 0
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.parquet").write_bytes(b"old")
    data = tmp_path / "data" / "validation.parquet"
    command = ["predict", "--model", "1", "--data", str(data), "--out", str(out)]
    assert project.cli(*command, "--engine", "spark") == 0
    assert not (out / "stale.parquet").exists()
    assert len(pd.read_parquet(out)) == len(pd.read_parquet(data))


def test_rows_the_model_refuses_are_one_line_and_leave_no_output(
    spark: object,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = Project.create(tmp_path, sqlite_store(tmp_path_factory, "spark-refused"))
    project.enter(monkeypatch)
    assert project.cli("train") == 0
    rows = pd.read_parquet(tmp_path / "data" / "validation.parquet")
    data = tmp_path / "words.parquet"
    rows.assign(bmi="not a number").to_parquet(data)
    out = tmp_path / "out"
    capsys.readouterr()
    command = ["predict", "--model", "1", "--data", str(data), "--out", str(out)]
    assert project.cli(*command, "--engine", "spark") == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert str(data) in errors[0]
    assert not out.exists()
    assert not out.with_name(out.name + ".tmp").exists()
