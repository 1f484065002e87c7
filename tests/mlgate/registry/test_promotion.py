"""The registry lifecycle end to end: embedded sqlite, a real mlflow server, and a team server.

first model → promoted by the bounds; worse candidate → refused; better → promoted; re-run →
nothing changes; rollback; concurrent promotions → the better model wins and the rollback
record stays intact. Model quality is never assumed: every expectation is derived from the
RMSEs the training reports show.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlgate.errors import EXIT_GATE_FAILED, EXIT_NO_CANDIDATE
from mlgate.registry import lock
from mlgate.registry import versions as registry
from mlgate.report.document import load_report
from support.project import Project
from support.team_server import ADMIN

pytestmark = pytest.mark.slow

RMSE = "root_mean_squared_error"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("server", marks=pytest.mark.slow),
        pytest.param("team", marks=pytest.mark.slow),
    ]
)
def tracking_uri(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    if request.param == "server":
        return request.getfixturevalue("mlflow_server").url
    if request.param == "team":  # basic-auth on PostgreSQL, as its admin
        team = request.getfixturevalue("team_server")
        for key, value in team.credentials(ADMIN).items():
            monkeypatch.setenv(key, value)
        return team.url
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture
def project(
    tmp_path: Path,
    tracking_uri: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Project:
    project = Project.create(tmp_path, tracking_uri)
    project.enter(monkeypatch)
    return project


@pytest.fixture
def train_pr(project: Project, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[str, Any]]:
    """Train as the PR workflow would for a PR; returns (head SHA, report)."""

    def train(pr: int, *params: str) -> tuple[str, Any]:
        head = uuid.uuid4().hex + "00000000"
        event = project.root / f"event-{pr}.json"
        event.write_text(json.dumps({"pull_request": {"number": pr, "head": {"sha": head}}}))
        report_path = project.root / f"report-{pr}.json"
        args = [arg for p in params for arg in ("--param", p)]
        with monkeypatch.context() as patch:
            patch.setenv("GITHUB_EVENT_PATH", str(event))
            assert project.cli("train", "--report", str(report_path), *args) == 0
        return head, load_report(report_path)

    return train


def rmse(report) -> float:
    return report.candidate.metrics[RMSE]


def test_lifecycle(
    project: Project, train_pr: Callable[..., tuple[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    head1, first = train_pr(1)
    assert first.champion is None
    assert first.gate.baseline == "bounds-only"
    assert first.gate.passed
    v1 = first.candidate.version
    assert project.tags(v1)[registry.TAG_HEAD] == head1
    assert project.champion() is None, "training alone must not promote"

    assert project.cli("promote", "--pr", "1", "--head-sha", head1, "--commit", "c1") == 0
    assert project.champion() == v1
    assert project.tags(v1)[registry.TAG_REPLACED] == registry.NO_VERSION
    assert project.tags(v1)[registry.TAG_PROMOTED_COMMIT] == "c1"

    head2, worse = train_pr(2, "alpha=30")
    assert rmse(worse) > rmse(first), "precondition: a heavily regularised Lasso is worse"
    assert worse.champion.version == v1
    assert worse.champion.comparable
    assert worse.champion.metrics[RMSE] == pytest.approx(rmse(first))
    assert not worse.gate.passed
    assert worse.deltas[RMSE].better is False
    capsys.readouterr()
    assert project.cli("promote", "--pr", "2", "--head-sha", head2) == EXIT_GATE_FAILED
    assert "not promoted" in capsys.readouterr().err
    assert project.champion() == v1
    assert registry.TAG_PROMOTED_AT not in project.tags(worse.candidate.version)

    head3, better = train_pr(3, "alpha=1")
    assert rmse(better) < rmse(first), "precondition: the configured alpha over-regularises"
    assert better.gate.passed
    assert better.deltas[RMSE].better is True
    v3 = better.candidate.version
    assert project.cli("promote", "--pr", "3", "--head-sha", head3) == 0
    assert project.champion() == v3
    assert project.tags(v3)[registry.TAG_REPLACED] == v1
    before = project.tags(v3)

    assert project.cli("promote", "--pr", "3", "--head-sha", head3) == 0, "re-run is a no-op"
    assert project.champion() == v3
    assert project.tags(v3) == before

    assert project.cli("promote", "--pr", "99", "--head-sha", "f" * 40) == EXIT_NO_CANDIDATE
    assert project.champion() == v3

    assert project.cli("rollback") == 0
    assert project.champion() == v1
    assert project.tags(v3)[registry.TAG_ROLLED_BACK_TO] == v1
    capsys.readouterr()
    assert project.cli("rollback") == 1, "v1 replaced nothing: nothing to roll back to"
    assert "no earlier champion" in capsys.readouterr().err
    assert project.champion() == v1

    assert project.cli("promote", "--pr", "3", "--head-sha", head3) == 0
    assert project.champion() == v1, "re-running an old merge must not undo a rollback"


# On the team server (PostgreSQL, basic-auth), racing promotions are
# tests/mlgate/registry/test_team_server.py's, with the lock's grants and several rounds.
@pytest.mark.slow
@pytest.mark.parametrize("tracking_uri", ["sqlite", "server"], indirect=True)
def test_concurrent_promotions_keep_the_better_model(
    project: Project, train_pr: Callable[..., tuple[str, Any]]
) -> None:
    head1, first = train_pr(1)
    assert project.cli("promote", "--pr", "1", "--head-sha", head1) == 0
    candidates = {pr: train_pr(pr, f"alpha={alpha}") for pr, alpha in ((4, 3.0), (5, 1.0))}
    assert all(rmse(report) < rmse(first) for _, report in candidates.values()), "precondition"
    best = min(candidates, key=lambda pr: rmse(candidates[pr][1]))
    env = project.process_env()
    env.pop("GITHUB_EVENT_PATH", None)
    processes = {
        pr: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlgate.cli",
                "--config",
                str(project.config),
                "promote",
                "--pr",
                str(pr),
                "--head-sha",
                head,
            ],
            cwd=project.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for pr, (head, _) in candidates.items()
    }
    codes = {pr: process.wait(timeout=300) for pr, process in processes.items()}
    logs = {pr: process.stdout.read().decode() for pr, process in processes.items()}
    assert codes[best] == 0, logs
    assert set(codes.values()) <= {0, EXIT_GATE_FAILED}, logs

    winner = candidates[best][1].candidate.version
    other = next(r.candidate.version for pr, (_, r) in candidates.items() if pr != best)
    v1 = first.candidate.version
    assert project.champion() == winner
    replaced = project.tags(winner)[registry.TAG_REPLACED]
    assert replaced in {v1, other}
    if replaced == other:
        assert project.tags(other)[registry.TAG_REPLACED] == v1
    assert lock.holder(project.client(), project.name) is None, "the lock was released"


@pytest.mark.slow
def test_readme_loop_promotes_what_train_just_registered_on_any_store(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's local loop after the Quickstart already made v1: `latest` follows train."""
    assert project.cli("train") == 0  # the Quickstart's run
    assert project.cli("train") == 0
    assert project.cli("promote", "--version", "latest") == 0
    first = project.champion()
    assert first == "2"
    capsys.readouterr()

    assert project.cli("train", "--param", "alpha=1") == 0
    registered = capsys.readouterr().out
    assert project.cli("promote", "--version", "latest") == 0

    assert project.champion() == "3"
    assert f"{project.name} v3" in registered, "promoted exactly the version train printed"
    assert project.cli("rollback") == 0
    assert project.champion() == first


def test_latest_on_an_empty_registry_is_one_line(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.client().search_registered_models()  # the store exists, as after `mlflow ui`
    capsys.readouterr()
    assert project.cli("promote", "--version", "latest") == EXIT_NO_CANDIDATE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "no versions yet" in err[0]
