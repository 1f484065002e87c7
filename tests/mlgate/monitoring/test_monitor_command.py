"""`mlgate monitor` and `drift-issue` end to end: a trained, promoted champion in a real
MLflow store, months written by fixtures, exit statuses, files, the MLflow run and the issue.

Run on the tests' own plug-in: its watched features are `bmi` (numeric) and `sex`
(categorical); a current month is drawn from the champion's own training rows, then shifted."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from mlgate.monitoring.document import load_monitoring
from support import diabetes
from support.github_api import FakeGitHub
from support.project import Project
from support.stores import sqlite_store

pytestmark = pytest.mark.slow  # trains and registers a model in an MLflow store

ROWS = 600
TOKEN = "ghs_monitorTestToken"
REPO = "acme/trips"


@pytest.fixture(scope="module")
def champion_project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Project]:
    return {}


@pytest.fixture
def project(
    champion_project: dict[str, Project],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Project:
    """A project whose v1, trained on its training file, is the champion (once per module)."""
    if "p" not in champion_project:
        store = sqlite_store(tmp_path_factory, "monitor-store")
        created = Project.create(tmp_path_factory.mktemp("monitor-project"), store)
        created.enter(monkeypatch)
        assert created.cli("train") == 0
        assert created.cli("promote", "--version", "1") == 0
        champion_project["p"] = created
    found = champion_project["p"]
    found.enter(monkeypatch)
    return found


def current_month(
    path: Path, seed: int = 5, *, stretch: float = 1.0, one_sex: bool = False
) -> Path:
    """ROWS records resampled from the training rows; `stretch` scales bmi, `one_sex` makes
    nine in ten records the same sex."""
    rows = diabetes.frame().iloc[: diabetes.TRAIN_ROWS]
    rng = np.random.default_rng(seed)
    frame = rows.iloc[rng.integers(0, len(rows), ROWS)].reset_index(drop=True)
    frame["bmi"] = frame["bmi"] * stretch
    if one_sex:
        common = frame["sex"].max()
        frame.loc[rng.random(ROWS) < 0.9, "sex"] = common
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return path


@pytest.fixture
def month(project: Project) -> Callable:
    """`month(name, seed=5, *, stretch=1.0, one_sex=False) -> Path`: a month to monitor."""

    def make(name: str, seed: int = 5, **change: object) -> Path:
        return current_month(project.root / "current" / f"{name}.parquet", seed, **change)

    return make


def monitor(project: Project, current: Path, *extra: str) -> tuple[int, Path]:
    out = project.root / "out" / current.stem
    return project.cli("monitor", "--current", str(current), "--out", str(out), *extra), out


def monitoring_runs(project: Project) -> list:
    client = project.client()
    experiment = client.get_experiment_by_name(f"{project.name}-monitoring")
    return [] if experiment is None else client.search_runs([experiment.experiment_id])


def test_unshifted_month_passes_and_is_recorded(
    project: Project,
    month: Callable,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    before = len(monitoring_runs(project))
    status, out = monitor(project, month("plain"))
    assert status == 0
    assert capsys.readouterr().out.startswith("no drift")
    report = load_monitoring(out / "monitoring.json")
    assert not report.drift
    assert report.champion.version == "1"
    assert report.reference.origin == "champion training data"
    assert report.reference.digest == project.tags("1")["data.train.digest"]
    assert "No drift" in (out / "monitoring.md").read_text(encoding="utf-8")
    assert "No drift" in summary.read_text(encoding="utf-8")
    runs = monitoring_runs(project)
    assert len(runs) == before + 1
    tags = runs[0].data.tags
    assert tags["monitoring.champion_version"] == "1"
    assert tags["monitoring.reference_digest"] == report.reference.digest
    assert tags["monitoring.current_digest"] == report.current.digest
    assert tags["monitoring.verdict"] == "no-drift"
    assert report.run_id == runs[0].info.run_id


@pytest.mark.parametrize(
    ("change", "drifted"),
    [({"stretch": 1.8}, "bmi"), ({"one_sex": True}, "sex")],
    ids=["heavier-patients", "one-sex"],
)
def test_shifted_month_exits_5_and_names_the_feature(
    project: Project,
    month: Callable,
    change: dict,
    drifted: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out = monitor(project, month(f"shifted-{drifted}", **change))
    assert status == 5
    assert capsys.readouterr().out.startswith("drift")
    report = load_monitoring(out / "monitoring.json")
    assert drifted in report.drifted_subjects
    failing = next(c for c in report.failed if c.subject == drifted)
    text = (out / "monitoring.md").read_text(encoding="utf-8")
    heading = next(line for line in text.splitlines() if line.startswith("### "))
    assert "Drift detected" in heading
    assert f"`{drifted}`" in heading
    assert f"{failing.threshold:.4g}" in text
    assert monitoring_runs(project)[0].data.tags["monitoring.verdict"] == "drift"


def test_given_reference_replaces_the_champion_data_and_is_recorded(
    project: Project, month: Callable
) -> None:
    current = month("same")
    status, out = monitor(project, current, "--reference", str(current))
    assert status == 0
    report = load_monitoring(out / "monitoring.json")
    assert report.reference.origin == "given"
    assert report.reference.digest == report.current.digest
    assert monitoring_runs(project)[0].data.tags["monitoring.reference_digest"] == (
        report.reference.digest
    )


@pytest.fixture
def training_file(project: Project) -> Iterator[Path]:
    """The champion's training month; restored after a test moves or rewrites it."""
    path = project.root / "data/train.parquet"
    keep = path.with_name("kept.parquet")
    shutil.copyfile(path, keep)
    yield path
    shutil.move(keep, path)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("remove", r"training data .*train\.parquet \(digest \w+\) is not found"),
        ("rewrite", r"train\.parquet: digest \w+ does not match champion v1"),
    ],
)
def test_reference_that_is_gone_or_changed_is_a_one_line_error(
    project: Project,
    month: Callable,
    training_file: Path,
    capsys: pytest.CaptureFixture[str],
    damage: str,
    message: str,
) -> None:
    current = month("plain-again")
    if damage == "remove":
        training_file.unlink()
    else:
        current_month(training_file, seed=99)
    before = len(monitoring_runs(project))
    status, out = monitor(project, current)
    [err] = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert status == 1
    assert err.startswith("error: ")
    assert "--reference PATH" in err
    assert re.search(message, err)
    assert not (out / "monitoring.json").exists()
    assert len(monitoring_runs(project)) == before


def test_corrupt_current_file_is_a_one_line_error(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 not really")
    status, _ = monitor(project, bad)
    [err] = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert status == 1
    assert err.startswith(f"error: {bad}: ")


def test_without_a_champion_monitoring_says_what_to_do(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fresh = Project.create(tmp_path / "fresh", sqlite_store(tmp_path_factory, "no-champion"))
    fresh.enter(monkeypatch)
    current = current_month(fresh.root / "m.parquet")
    assert fresh.cli("monitor", "--current", str(current)) == 1
    assert "has no @champion version" in capsys.readouterr().err


def test_drift_issue_opens_updates_and_closes_one_issue(
    project: Project,
    month: Callable,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with FakeGitHub(token=TOKEN, repository=REPO) as gh:
        for name, value in (("GITHUB_API_URL", gh.url), ("GITHUB_TOKEN", TOKEN)):
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
        gh.add_pull(3, "a" * 40, labels=["model-drift"])  # a PR with the label is not the issue
        steps = (("drift-1", {"stretch": 1.8}), ("drift-2", {"one_sex": True}), ("ok", {}))
        for name, change in steps:
            _, out = monitor(project, month(name, **change))
            assert project.cli("drift-issue", "--report", str(out / "monitoring.json")) == 0
        lines = [line for line in capsys.readouterr().out.splitlines() if "issue" in line]
        assert lines[0].startswith("opened issue #4")
        assert lines[1].startswith("updated issue #4")
        assert lines[2].startswith("closed issue #4")
        [issue] = gh.issues()
        assert issue["state"] == "closed"
        assert "`sex`" in issue["body"]  # the second drift's report
        assert json.dumps(gh.comments(3)) == "[]"
