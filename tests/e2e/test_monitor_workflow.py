"""`.github/workflows/monitor.yml` under act: one `model-drift` issue across three months.

The clone adopts the tests' own plug-in (`support.diabetes`) as docs/adopt.md says, with a
`[tool.mlgate.monitoring.current]` command that copies the asked month from months committed in
`data/monthly/`. A champion is trained on the adopted sample and promoted on a real
`mlflow server`; the fake GitHub API holds the issues. Month 1 drifts (heavier patients): the
issue is opened. Month 2 drifts differently (one sex only): the same issue is updated. Month 3
is drawn from the training rows: the issue gets a comment and is closed. A pull request
carrying the label is never touched.
"""

from __future__ import annotations

import io
import uuid
from functools import partial

import pandas as pd
import pytest

from mlgate.cli import main
from mlgate.monitoring.document import load_monitoring
from support import diabetes
from support.act import FAKE_TOKEN, ActSession
from support.act_results import ActResult
from support.adoption import adopted_files
from support.git_repo import commit_files
from support.github_api import FakeGitHub
from support.mlflow_server import MlflowServer

pytestmark = pytest.mark.reuse_environments

WORKFLOW = ".github/workflows/monitor.yml"
LABEL = "model-drift"
MONTHLY = "data/monthly"
# The plug-in's package is importable the way a team's installed package would be.
PLUGIN_ENV = {"PYTHONPATH": "tests"}


def months() -> dict[str, pd.DataFrame]:
    """Three months of rows resampled from the training rows: two drifted, one not."""
    train = diabetes.frame().iloc[: diabetes.TRAIN_ROWS]

    def resample(seed: int) -> pd.DataFrame:
        return train.sample(n=len(train), replace=True, random_state=seed).reset_index(drop=True)

    heavier = resample(1)
    heavier["bmi"] += 0.06
    one_sex = resample(2)
    one_sex["sex"] = one_sex["sex"].max()
    return {"2024-01": heavier, "2024-02": one_sex, "2024-03": resample(3)}


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.fixture
def champion(
    act_session: ActSession, mlflow_server: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Adopt the tests' plug-in with names of our own, train on its sample and promote v1."""
    repo = act_session.repo_dir
    name = f"mlgate-monitor-{uuid.uuid4().hex[:8]}"
    files = adopted_files(repo, name, monthly=MONTHLY)
    files.update({f"{MONTHLY}/{m}.parquet": _parquet(f) for m, f in months().items()})
    commit_files(repo, files, "Adopt the template for our own model, with monthly data")
    config = repo / "pyproject.toml"
    monkeypatch.chdir(repo)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    assert main(["--config", str(config), "train"]) == 0
    assert main(["--config", str(config), "promote", "--version", "1"]) == 0
    return name


def run_month(session: ActSession, github: FakeGitHub, mlflow_url: str, month: str) -> ActResult:
    result = session.run(
        "workflow_dispatch",
        {"inputs": {"month": month}, "ref": "refs/heads/main"},
        workflow=WORKFLOW,
        api_url=github.url,
        secrets={"MLFLOW_TRACKING_URI": mlflow_url},
        env=PLUGIN_ENV,
        timeout=600,
    )
    assert not result.timed_out, result.describe()
    return result


def drift_issues(github: FakeGitHub) -> list[dict]:
    return [i for i in github.issues() if LABEL in [x["name"] for x in i["labels"]]]


def test_monitor_workflow_keeps_one_drift_issue(
    act_session: ActSession,
    mlflow_server: MlflowServer,
    champion: str,
) -> None:
    with FakeGitHub(token=FAKE_TOKEN) as github:
        github.add_pull(1, "a" * 40, labels=[LABEL])
        run = partial(run_month, act_session, github, mlflow_server.url)

        first = run("2024-01")
        assert not first.ok
        assert first.failed_step == "Monitor", first.describe()
        report = load_monitoring(
            act_session.artifact_dir(first.run_id, "monitoring-report") / "monitoring.json"
        )
        assert report.drift
        assert "bmi" in report.drifted_subjects
        assert report.champion.version == "1"
        [issue] = drift_issues(github)
        assert issue["state"] == "open"
        assert "bmi" in issue["body"]
        assert any("Drift detected" in text for text in first.summaries.values())

        second = run("2024-02")
        assert second.failed_step == "Monitor", second.describe()
        [updated] = drift_issues(github)
        assert updated["number"] == issue["number"]
        assert updated["state"] == "open"
        assert "sex" in updated["body"]
        assert "Still drifting" in github.comments(issue["number"])[-1]["body"]

        third = run("2024-03")
        assert third.ok, third.describe()
        [closed] = drift_issues(github)
        assert closed["number"] == issue["number"]
        assert closed["state"] == "closed"
        assert github.comments(issue["number"])[-1]["body"].startswith("Drift is gone")
        assert github.comments(1) == []
        assert github.pull(1)["state"] == "open"
