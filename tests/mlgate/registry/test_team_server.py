"""Least privilege against a real team server: PostgreSQL 15 and basic-auth MLflow.

The PR credential trains and registers candidates but cannot move the champion or write the
production model; the promotion credential promotes only a candidate whose origin GitHub's
Actions API confirms, and rolls back; concurrent promotions stay consistent on PostgreSQL.
Users and grants are made by scripts/setup_team_server.py, as docs/team-setup.md says.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mlgate.errors import EXIT_GATE_FAILED
from mlgate.registry import lock
from mlgate.registry import versions as registry
from mlgate.registry.promotion import TAG_CANDIDATE
from mlgate.report.document import load_report
from support.github_api import FakeGitHub
from support.project import Project
from support.team_server import ADMIN, PR_USER, PROMOTE_USER, TeamServer

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

pytestmark = pytest.mark.slow

RMSE = "root_mean_squared_error"
TOKEN = "ghs_teamTOKEN"
REPO = "acme/trips"


class Team:
    """One project on the team server, driven as either CI user."""

    def __init__(
        self, project: Project, server: TeamServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.project, self.server, self.monkeypatch = project, server, monkeypatch
        self.production = project.name + "-prod"

    def act_as(self, user: str) -> None:
        for key, value in self.server.credentials(user).items():
            self.monkeypatch.setenv(key, value)

    @contextmanager
    def user(self, user: str = ADMIN) -> Iterator[MlflowClient]:
        """A client acting as `user` (MLflow reads the credentials on each call)."""
        from mlflow import MlflowClient

        with self.monkeypatch.context() as patch:
            for key, value in self.server.credentials(user).items():
                patch.setenv(key, value)
            yield MlflowClient(tracking_uri=self.server.url, registry_uri=self.server.url)

    def champion(self) -> str | None:
        with self.user() as admin:
            current = registry.champion(admin, self.production, "champion")
        return None if current is None else str(current.version)

    def version(self, name: str, version: str) -> ModelVersion:
        with self.user() as admin:
            return admin.get_model_version(name, version)

    def versions(self, name: str) -> list[ModelVersion]:
        with self.user() as admin:
            return admin.search_model_versions(f"name = '{name}'")

    def train(self, pr: int, head: str, run_id: int, *params: str) -> Any:
        """Train as the PR workflow does for this PR, head and Actions run."""
        self.act_as(PR_USER)
        event = self.project.root / f"event-{pr}-{head[:6]}.json"
        event.write_text(json.dumps({"pull_request": {"number": pr, "head": {"sha": head}}}))
        report = self.project.root / f"report-{pr}-{head[:6]}.json"
        args = [arg for p in params for arg in ("--param", p)]
        with self.monkeypatch.context() as patch:
            patch.setenv("GITHUB_EVENT_PATH", str(event))
            patch.setenv("GITHUB_RUN_ID", str(run_id))
            patch.setenv("GITHUB_RUN_ATTEMPT", "1")
            patch.setenv("GITHUB_REPOSITORY", REPO)
            assert self.project.cli("train", "--report", str(report), *args) == 0
        return load_report(report)

    def promote(self, gh: FakeGitHub, merge_commit: str) -> int:
        self.act_as(PROMOTE_USER)
        with self.monkeypatch.context() as patch:
            patch.setenv("GITHUB_TOKEN", TOKEN)
            patch.setenv("GITHUB_REPOSITORY", REPO)
            patch.setenv("GITHUB_API_URL", gh.url)
            return self.project.cli("promote", "--merge-commit", merge_commit)


@pytest.fixture
def team(
    tmp_path: Path,
    team_server: TeamServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Team:
    project = Project.create(tmp_path, team_server.url, tracking='production_model = "PROD"\n')
    team = Team(project, team_server, monkeypatch)
    # Project.create picks the candidates name; the production model's follows from it.
    text = project.config.read_text().replace('"PROD"', f'"{team.production}"')
    project.config.write_text(text)
    team_server.setup_project(project.config)
    project.enter(monkeypatch)
    return team


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPO) as fake:
        yield fake


def sha() -> str:
    return uuid.uuid4().hex + "00000000"


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_the_pr_credential_registers_but_cannot_touch_production(
    team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlflow.exceptions import MlflowException

    report = team.train(1, sha(), 101)
    version = report.candidate.version
    tags = team.version(team.project.name, version).tags
    assert tags["workflow_run_id"] == "101"
    assert tags["workflow_run_attempt"] == "1"

    source = f"models:/{team.project.name}/{version}"
    writes = {
        "create the production model's first version": lambda pr: pr.create_model_version(
            team.production, source=source, run_id=report.candidate.run_id
        ),
        "copy the candidate into production": lambda pr: pr.copy_model_version(
            source, team.production
        ),
        "set the champion alias": lambda pr: pr.set_registered_model_alias(
            team.production, "champion", "1"
        ),
        "tag the production model": lambda pr: pr.set_registered_model_tag(
            team.production, "owner", "mallory"
        ),
        "queue for the promotion lock": lambda pr: pr.create_model_version(
            team.production + registry.LOCK_SUFFIX, source=lock.TICKET_SOURCE
        ),
        "make the promotion lock anew": lambda pr: pr.create_registered_model(
            team.production + registry.LOCK_SUFFIX
        ),
    }
    with team.user(PR_USER) as pr:
        for what, write in writes.items():
            with pytest.raises(MlflowException) as refused:
                write(pr)
            assert "403" in str(refused.value), what
    assert team.versions(team.production) == []

    team.act_as(PR_USER)
    capsys.readouterr()
    assert team.project.cli("promote", "--version", version) == 1
    err = one_line(capsys)
    assert f"user '{PR_USER}'" in err
    assert f"'{team.production}'" in err
    assert "403" in err
    assert team.project.cli("rollback") == 1
    err = one_line(capsys)
    assert f"user '{PR_USER}'" in err
    assert team.champion() is None


def test_the_promotion_credential_promotes_only_verified_candidates_and_rolls_back(
    team: Team, gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    head1 = sha()
    gh.add_pull(1, head1)
    run1 = gh.add_run(head1, pr=1)
    first = team.train(1, head1, run1["id"])
    gh.merge_pull(1, "1" * 40)
    assert team.promote(gh, "1" * 40) == 0
    v1 = team.champion()
    copy1 = team.version(team.production, v1)
    assert copy1.tags[TAG_CANDIDATE] == first.candidate.version
    assert copy1.source == f"models:/{team.project.name}/{first.candidate.version}"
    assert copy1.tags[registry.TAG_HEAD] == head1, "lineage travels with the copy"
    before = dict(copy1.tags)
    assert team.promote(gh, "1" * 40) == 0, "a re-run changes nothing"
    assert team.champion() == v1
    assert dict(team.version(team.production, v1).tags) == before
    assert len(team.versions(team.production)) == 1

    head2 = sha()
    gh.add_pull(2, head2)
    run2 = gh.add_run(head2, pr=2)
    better = team.train(2, head2, run2["id"], "alpha=1")
    assert better.candidate.metrics[RMSE] < first.candidate.metrics[RMSE], "precondition"
    assert better.champion.version == v1, "the PR run compares with production@champion"
    # Another PR's code registers a second version claiming PR 2's head and Actions run.
    team.train(2, head2, run2["id"], "alpha=2")
    gh.merge_pull(2, "2" * 40)
    capsys.readouterr()
    assert team.promote(gh, "2" * 40) == 1
    err = one_line(capsys)
    assert "claim the same Actions run" in err
    assert team.champion() == v1

    head3 = sha()
    gh.add_pull(3, head3)
    run3 = gh.add_run(head3, pr=3, conclusion="failure")
    team.train(3, head3, run3["id"], "alpha=1")
    gh.merge_pull(3, "3" * 40)
    capsys.readouterr()
    assert team.promote(gh, "3" * 40) == 1
    assert "did not succeed (failure)" in one_line(capsys)
    assert team.champion() == v1

    head4 = sha()
    gh.add_pull(4, head4)
    run4 = gh.add_run(head4, pr=4)
    fourth = team.train(4, head4, run4["id"], "alpha=3")
    assert fourth.candidate.metrics[RMSE] < first.candidate.metrics[RMSE], "precondition"
    gh.merge_pull(4, "4" * 40)
    assert team.promote(gh, "4" * 40) == 0
    v4 = team.champion()
    assert v4 != v1
    copy4 = team.version(team.production, v4)
    assert copy4.tags[TAG_CANDIDATE] == fourth.candidate.version
    assert copy4.tags[registry.TAG_REPLACED] == v1

    team.act_as(PROMOTE_USER)
    assert team.project.cli("rollback") == 0
    assert team.champion() == v1
    assert team.promote(gh, "4" * 40) == 0
    assert team.champion() == v1, "re-running an old merge must not undo a rollback"


def _promote_process(team: Team, config: Path, version: str) -> subprocess.Popen[bytes]:
    # The child imports what this process imports (the project's model plug-in included).
    path = os.pathsep.join(p for p in sys.path if p)
    env = {**os.environ, "PYTHONPATH": path, **team.server.credentials(PROMOTE_USER)}
    return subprocess.Popen(
        [sys.executable, "-m", "mlgate.cli", "--config", str(config),
         "promote", "--version", version],
        cwd=team.project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_concurrent_promotions_stay_consistent_on_postgresql(team: Team) -> None:
    from mlflow.server import get_app_client

    head = sha()
    base = team.train(1, head, 1)
    better = {pr: team.train(pr, sha(), pr, f"alpha={alpha}") for pr, alpha in ((4, 3.0), (5, 1.0))}
    assert all(r.candidate.metrics[RMSE] < base.candidate.metrics[RMSE] for r in better.values())
    best = min(better.values(), key=lambda r: r.candidate.metrics[RMSE]).candidate.version
    # Two rounds: in one the first promotion makes the lock (and owns it), in the other the lock
    # was made beforehand by the admin, as setup_team_server.py does.
    for round_ in range(2):
        production = f"{team.production}-{round_}"
        config = team.project.root / f"round-{round_}.toml"
        config.write_text(team.project.config.read_text().replace(team.production, production))
        with team.user() as admin:  # what setup_team_server.py does for a production model
            auth = get_app_client("basic-auth", tracking_uri=team.server.url)
            admin.create_registered_model(production)
            auth.grant_user_permission(PROMOTE_USER, "registered_model", production, "EDIT")
            if round_ % 2:
                admin.create_registered_model(production + registry.LOCK_SUFFIX)
                auth.grant_user_permission(
                    PROMOTE_USER, "registered_model", production + registry.LOCK_SUFFIX, "MANAGE"
                )
        first = _promote_process(team, config, base.candidate.version)
        assert first.wait(timeout=300) == 0, first.stdout.read().decode()
        racers = [_promote_process(team, config, r.candidate.version) for r in better.values()]
        codes = [p.wait(timeout=600) for p in racers]
        logs = [p.stdout.read().decode() for p in racers]
        allowed = (0, EXIT_GATE_FAILED)
        failed = [log for code, log in zip(codes, logs, strict=True) if code not in allowed]
        assert failed == [], f"round {round_}: " + " | ".join(f[-1500:] for f in failed)
        with team.user() as client:
            champion = registry.champion(client, production, "champion")
            assert champion.tags[TAG_CANDIDATE] == best, (round_, logs)
            copies = client.search_model_versions(f"name = '{production}'")
            sources = [c.tags[TAG_CANDIDATE] for c in copies]
            assert len(sources) == len(set(sources)), f"round {round_}: a candidate copied twice"
            replaced = client.get_model_version(production, champion.tags[registry.TAG_REPLACED])
            assert replaced.tags.get(registry.TAG_PROMOTED_AT), "the rollback target was champion"
            assert lock.holder(client, production) is None, "every ticket was deleted"
            kept = auth.get_user_permission(
                PROMOTE_USER, "registered_model", production + registry.LOCK_SUFFIX
            )
        assert kept.permission == "MANAGE", f"round {round_}: the lock's grant was swept"
