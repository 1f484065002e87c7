"""`train` with the serving contract on: a servable candidate is registered with its serving
report; an unservable one turns the run red, says why, and is not registered. `predict` then
scores every row of a raw month with the registered version, and `serve-check` checks it
again on its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mlgate.errors import EXIT_SERVING_FAILED
from mlgate.report.document import load_report
from support.project import Project

pytestmark = pytest.mark.slow

SERVING = "[serving]\ncheck = true\nlatency_batch = 50\nlatency_repeats = 3\n"
EXAMPLE = {
    "support.diabetes:Diabetes": "green_taxi.plugin:GreenTaxi",
    'train = "data/train.parquet"': 'train = "data/green_tripdata_2023-01.parquet"',
    'validation = "data/validation.parquet"': 'validation = "data/green_tripdata_2023-02.parquet"',
    "alpha = 10.0": "alpha = 0.1",
}


@pytest.fixture
def project(
    tmp_path: Path, tlc_month: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> Project:
    tlc_month(rows=1500, seed=1)
    tlc_month(rows=800, seed=2)
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'mlflow.db'}", extra=SERVING)
    text = project.config.read_text(encoding="utf-8")
    for lifecycle, example in EXAMPLE.items():
        assert lifecycle in text
        text = text.replace(lifecycle, example)
    project.config.write_text(text, encoding="utf-8")
    project.enter(monkeypatch)
    return project


def test_servable_candidate_is_registered_and_predict_scores_every_row(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    report_path = project.root / "report.json"
    assert project.cli("train", "--report", str(report_path)) == 0
    report = load_report(report_path)
    assert report.serving is not None
    assert report.serving.passed, report.serving.failed_request
    assert report.serving.latency_batch.batch_size == 50
    assert report.serving.champion_latency_one is None  # the first model has no champion
    version = report.candidate.version
    assert project.tags(version)["serving.passed"] == "true"
    assert "#### Serving" in report_path.with_suffix(".md").read_text(encoding="utf-8")

    month = project.root / "data" / "green_tripdata_2023-02.parquet"
    out = project.root / "scored" / "predictions.parquet"
    capsys.readouterr()
    assert project.cli("predict", "--model", version, "--data", str(month), "--out", str(out)) == 0
    scored = pq.read_table(out).to_pandas()
    rows = pq.read_metadata(month).num_rows
    assert len(scored) == rows  # dirty rows included: nothing is dropped
    assert scored["row"].tolist() == list(range(rows))
    assert scored["prediction"].notna().all()
    assert scored["prediction"].between(1.0, 60.0).all()  # the training durations' bounds
    assert [p.name for p in out.parent.iterdir()] == ["predictions.parquet"]

    capsys.readouterr()
    checked = project.root / "checked.json"
    checked.write_text(report_path.read_text(encoding="utf-8"), encoding="utf-8")
    assert project.cli("serve-check", "--model", version, "--report", str(checked)) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"models:/{project.name}/{version} passes the serving contract"
    assert sum(line.startswith("ok ") for line in lines) == 6
    assert load_report(checked).serving.passed


def test_predict_without_a_champion_is_a_one_line_error(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    month = project.root / "data" / "green_tripdata_2023-02.parquet"
    out = project.root / "out.parquet"
    assert project.cli("predict", "--data", str(month), "--out", str(out)) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: --model models:/")
    assert "@champion" in error
    assert not out.exists()


def test_unservable_candidate_fails_the_run_says_why_and_is_not_registered(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project.config.read_text(encoding="utf-8")
    project.config.write_text(
        config.replace("green_taxi.plugin:GreenTaxi", "support.serving_plugins:RejectedExample"),
        encoding="utf-8",
    )
    report_path = project.root / "report.json"
    assert project.cli("train", "--report", str(report_path)) == EXIT_SERVING_FAILED
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: the candidate failed the serving contract")
    assert "distance_miles" in error or "trip_distance" in error

    report = load_report(report_path)
    assert report.status.outcome == "failure"
    assert not report.serving.passed
    assert report.serving.failed_request.startswith("dataframe_split: ")
    assert report.candidate.version is None
    assert project.client().search_model_versions(f"name='{project.name}'") == []

    assert project.cli("report", "--report", str(report_path), "--step", "train=failure") == 0
    markdown = report_path.with_suffix(".md").read_text(encoding="utf-8")
    assert "nothing was registered" in markdown
    assert "The candidate cannot be served as logged" in markdown
