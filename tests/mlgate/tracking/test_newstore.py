"""A new sqlite store made in a side process: the same schema MLflow makes, whole or absent,
never over someone else's store, and a failed side process costs time, not the run."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from mlgate.tracking import newstore
from mlgate.tracking.newstore import Creation, create, new_sqlite_path
from support.project import Project


def _schema(path: Path) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Every table and index with its clauses, and the alembic revision.

    Clauses are compared as a set per statement: MLflow's own migrations write a table's
    CHECK constraints in an order that varies with PYTHONHASHSEED.
    """
    with sqlite3.connect(path) as db:
        rows = db.execute("select sql from sqlite_master where sql not null").fetchall()
        revision = db.execute("select version_num from alembic_version").fetchall()
    statements = sorted(
        tuple(sorted(line.strip().rstrip(",") for line in sql.splitlines())) for (sql,) in rows
    )
    return statements, revision


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial" in p.name)


@pytest.mark.parametrize(
    ("uri", "expect_path"),
    [
        ("sqlite:///{tmp}/new.db", True),
        ("sqlite:///{tmp}/existing.db", False),
        ("sqlite:///{tmp}/missing-dir/new.db", False),
        ("sqlite:///{tmp}/new.db?mode=ro", False),
        ("sqlite:///:memory:", False),
        ("sqlite:///file:{tmp}/new.db?mode=rwc&uri=true", False),
        ("http://127.0.0.1:5000", False),
        ("postgresql://u@h/db", False),
    ],
    ids=["new", "existing", "no-folder", "query", "memory", "uri-form", "http", "postgresql"],
)
def test_only_a_plain_new_sqlite_file_is_made_aside(
    tmp_path: Path, uri: str, expect_path: bool
) -> None:
    (tmp_path / "existing.db").write_bytes(b"")
    path = new_sqlite_path(uri.format(tmp=tmp_path))
    assert (path is not None) is expect_path
    if expect_path:
        assert path == tmp_path / "new.db"


@pytest.mark.slow
def test_the_side_store_has_the_schema_mlflow_makes_itself(tmp_path: Path) -> None:
    import mlflow

    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    assert create(ours) is True
    mlflow.MlflowClient(tracking_uri=f"sqlite:///{theirs}").search_experiments()

    assert _schema(ours) == _schema(theirs)
    assert _schema(ours)[1], "the alembic revision is recorded"
    assert _leftovers(tmp_path) == []
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{ours}")
    experiment = client.create_experiment("opened-by-mlflow")
    assert client.get_experiment(experiment).name == "opened-by-mlflow"


@pytest.mark.slow
def test_a_store_created_meanwhile_by_another_process_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "mlflow.db"
    path.write_bytes(b"someone else's store")

    assert create(path) is False

    assert path.read_bytes() == b"someone else's store"
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize("after_s", [0.3, 1.5, 3.0])
def test_stopping_the_side_process_leaves_a_whole_store_or_none(
    tmp_path: Path, after_s: float
) -> None:
    path = tmp_path / "mlflow.db"
    creation = Creation.start(f"sqlite:///{path}")
    assert creation.pending
    time.sleep(after_s)
    creation.stop()

    assert _leftovers(tmp_path) == []
    if path.exists():
        assert _schema(path)[1], "a store that is there is complete"


@pytest.mark.slow
def test_waiting_has_a_bound_and_then_mlflow_creates_it_here(tmp_path: Path) -> None:
    path = tmp_path / "mlflow.db"
    creation = Creation.start(f"sqlite:///{path}")

    assert creation.wait(timeout_s=0.01) is False

    assert not creation.pending
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_bad_data_leaves_no_new_store_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "never.db"
    project = Project.create(tmp_path / "project", f"sqlite:///{db}")
    project.enter(monkeypatch)

    code = project.cli("train", "--train-data", str(tmp_path / "missing.parquet"))

    assert code == 1
    assert "missing.parquet" in capsys.readouterr().err
    # A side process left running would link the store into place within seconds.
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        assert not db.exists(), "the side process was not stopped"
        time.sleep(0.25)
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_a_failed_side_process_costs_time_not_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "store.db"
    project = Project.create(tmp_path / "project", f"sqlite:///{db}")
    project.enter(monkeypatch)
    monkeypatch.setattr(newstore, "command", lambda path: ["/bin/false"])

    assert project.cli("train") == 0

    assert "v1" in capsys.readouterr().out
    assert _schema(db)[1]
