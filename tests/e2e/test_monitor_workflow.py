"""`.github/workflows/monitor.yml` under act: one `model-drift` issue across three months.

A champion is trained on the committed sample and promoted on a real `mlflow server`; a local
HTTP server plays the TLC file host (the workflow's `TLC_BASE_URL` variable); the fake GitHub
API holds the issues. Month 1 drifts (longer trips): the issue is opened. Month 2 drifts
differently (a new zone mix): the same issue is updated. Month 3 looks like the training data:
the issue gets a comment and is closed. A pull request carrying the label is never touched.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mlgate.cli import main
from mlgate.monitoring.document import load_monitoring
from support.act import FAKE_TOKEN, ActResult, ActSession, commit_files
from support.github_api import FakeGitHub
from support.mlflow_server import MlflowServer

WORKFLOW = ".github/workflows/monitor.yml"
LABEL = "model-drift"
ROWS = 20_000
MONTHS = {  # month -> the drift the TLC stand-in serves for it
    "2024-01": {"distance_scale": 1.5},
    "2024-02": {"zone_mix": 0.5},
    "2024-03": {},
}


@pytest.fixture
def tlc_host(tmp_path: Path, act_session: ActSession) -> Iterator[str]:
    """Serves synthetic months (shifted as MONTHS says) like the TLC file host."""
    from green_taxi import make_sample

    folder = tmp_path / "tlc" / "trip-data"
    for seed, (month, shift) in enumerate(MONTHS.items(), start=7):
        make_sample.write_month(
            folder / f"green_tripdata_{month}.parquet",
            month,
            ROWS,
            seed,
            shift=make_sample.Shift(**shift),
        )
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder.parent))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/trip-data"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def champion(
    act_session: ActSession, mlflow_server: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Train on the committed sample and promote v1, with names of our own on the server."""
    repo = act_session.repo_dir
    name = f"mlgate-monitor-{uuid.uuid4().hex[:8]}"
    config = repo / "pyproject.toml"
    text = config.read_text(encoding="utf-8")
    for key in ("experiment", "registered_model"):
        text, count = re.subn(rf'(?m)^{key} = ".*"$', f'{key} = "{name}"', text, count=1)
        assert count == 1, key
    commit_files(repo, {"pyproject.toml": text}, "Use a registered model of our own")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    assert main(["--config", str(config), "train"]) == 0
    assert main(["--config", str(config), "promote", "--version", "1"]) == 0
    return name


def run_month(
    session: ActSession, github: FakeGitHub, mlflow_url: str, tlc: str, month: str
) -> ActResult:
    result = session.run(
        "workflow_dispatch",
        {"inputs": {"month": month}, "ref": "refs/heads/main"},
        workflow=WORKFLOW,
        api_url=github.url,
        secrets={"MLFLOW_TRACKING_URI": mlflow_url},
        vars={"TLC_BASE_URL": tlc},
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
    tlc_host: str,
) -> None:
    with FakeGitHub(token=FAKE_TOKEN) as github:
        github.add_pull(1, "a" * 40, labels=[LABEL])
        run = partial(run_month, act_session, github, mlflow_server.url, tlc_host)

        first = run("2024-01")
        assert not first.ok
        assert first.failed_step == "Monitor", first.describe()
        report = load_monitoring(
            act_session.artifact_dir(first.run_id, "monitoring-report") / "monitoring.json"
        )
        assert report.drift
        assert "trip_distance" in report.drifted_subjects
        assert report.champion.version == "1"
        [issue] = drift_issues(github)
        assert issue["state"] == "open"
        assert "trip_distance" in issue["body"]
        assert any("Drift detected" in text for text in first.summaries.values())

        second = run("2024-02")
        assert second.failed_step == "Monitor", second.describe()
        [updated] = drift_issues(github)
        assert updated["number"] == issue["number"]
        assert updated["state"] == "open"
        assert "PULocationID" in updated["body"]
        assert "Still drifting" in github.comments(issue["number"])[-1]["body"]

        third = run("2024-03")
        assert third.ok, third.describe()
        [closed] = drift_issues(github)
        assert closed["number"] == issue["number"]
        assert closed["state"] == "closed"
        assert github.comments(issue["number"])[-1]["body"].startswith("Drift is gone")
        assert github.comments(1) == []
        assert github.pull(1)["state"] == "open"
