"""With a separate production model, every champion command finds the champion there.

On the team server (PostgreSQL, basic-auth MLflow), a candidate is registered by the PR user
and promoted by the promotion user, so the champion alias exists only on the production model.
`monitor`, `predict --model champion`, `serve-check --model champion` and the serve command of
docs/team-setup.md then run as the monitoring user, whose only reads are the experiment and the
production model: each must use the production model's champion.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlgate.cli import EXIT_DRIFT
from mlgate.monitoring.document import load_monitoring
from mlgate.registry import versions as registry
from support.docs import shell_block
from support.mlflow_server import free_port
from support.project import Project
from support.team_server import ADMIN, MONITOR_USER, PR_USER, PROMOTE_USER, TeamServer

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Promoted:
    project: Project
    server: TeamServer
    production: str
    version: str  # the champion's version on the production model


@pytest.fixture(scope="module")
def promoted(
    tmp_path_factory: pytest.TempPathFactory, team_server: TeamServer
) -> Iterator[Promoted]:
    root = tmp_path_factory.mktemp("champion")
    project = Project.create(root, team_server.url, tracking='production_model = "PROD"\n')
    production = f"{project.name}-production"
    project.config.write_text(project.config.read_text().replace('"PROD"', f'"{production}"'))
    team_server.setup_project(project.config)
    with pytest.MonkeyPatch.context() as patch:
        project.enter(patch)
        for key, value in team_server.credentials(PR_USER).items():
            patch.setenv(key, value)
        assert project.cli("train") == 0
        for key, value in team_server.credentials(PROMOTE_USER).items():
            patch.setenv(key, value)
        assert project.cli("promote", "--version", "1") == 0
        for key, value in team_server.credentials(ADMIN).items():
            patch.setenv(key, value)
        client = project.client()
        champion = registry.champion(client, production, "champion")
        assert champion is not None, "precondition: production holds the champion"
        assert registry.champion(client, project.name, "champion") is None, (
            "precondition: the candidates' model has no champion"
        )
        yield Promoted(project, team_server, production, str(champion.version))


@pytest.fixture
def as_monitor(promoted: Promoted, monkeypatch: pytest.MonkeyPatch) -> Promoted:
    promoted.project.enter(monkeypatch, **promoted.server.credentials(MONITOR_USER))
    return promoted


def champion_predictions(promoted: Promoted, features: pd.DataFrame) -> np.ndarray:
    """The production champion's own predictions, loaded in this process as the admin."""
    import mlflow

    with pytest.MonkeyPatch.context() as patch:
        for key, value in promoted.server.credentials(ADMIN).items():
            patch.setenv(key, value)
        model = mlflow.pyfunc.load_model(f"models:/{promoted.production}/{promoted.version}")
        return np.asarray(model.predict(features), dtype=float)


def test_monitor_compares_with_the_production_champion(as_monitor: Promoted) -> None:
    out = as_monitor.project.root / "monitoring"
    code = as_monitor.project.cli(
        "monitor", "--current", "data/validation.parquet", "--out", str(out)
    )
    assert code in (0, EXIT_DRIFT)
    report = load_monitoring(out / "monitoring.json")
    assert report.registered_model == as_monitor.production
    assert report.champion.version == as_monitor.version
    assert report.champion.model_uri == f"models:/{as_monitor.production}/{as_monitor.version}"
    assert report.reference.origin == "champion training data"


def test_predict_champion_scores_with_the_production_champion(
    as_monitor: Promoted, capsys: pytest.CaptureFixture[str]
) -> None:
    out = as_monitor.project.root / "predictions.parquet"
    assert (
        as_monitor.project.cli(
            "predict", "--model", "champion", "--data", "data/validation.parquet", "--out", str(out)
        )
        == 0
    )
    assert f"models:/{as_monitor.production}@champion" in capsys.readouterr().out
    scored = pd.read_parquet(out)
    # Every row of the file, as batch scoring reads it (the plug-in's default: the raw table).
    features = pd.read_parquet(as_monitor.project.root / "data" / "validation.parquet")
    assert len(scored) == len(features)
    np.testing.assert_allclose(
        scored["prediction"].to_numpy(), champion_predictions(as_monitor, features), rtol=1e-12
    )


def test_serve_check_champion_serves_the_production_champion(
    as_monitor: Promoted, capsys: pytest.CaptureFixture[str]
) -> None:
    assert as_monitor.project.cli("serve-check", "--model", "champion") == 0
    out = capsys.readouterr().out
    assert f"models:/{as_monitor.production}@champion passes the serving contract" in out


def test_the_documented_serve_command_serves_the_production_champion(
    promoted: Promoted, tmp_path: Path
) -> None:
    command = shell_block("docs/team-setup.md", "serve")
    assert "-p 5001" in command
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "MLFLOW_TRACKING_URI": promoted.server.url,
        "PRODUCTION_MODEL": promoted.production,
        "MLFLOW_MONITOR_PASSWORD": promoted.server.passwords[MONITOR_USER],
    }
    shell = 'set -euo pipefail\nuv() { [ "$1" = run ] && shift; "$@"; }\n'
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        ["bash", "-c", shell + command.replace("-p 5001", f"-p {port}")],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_ping(port, server, tmp_path / "serve.log")
        features = promoted.project.data("validation").features.head(20)
        body = json.dumps({"dataframe_split": json.loads(features.to_json(orient="split"))})
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            served = np.asarray(json.loads(response.read())["predictions"], dtype=float)
        np.testing.assert_allclose(served, champion_predictions(promoted, features), rtol=1e-9)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _wait_ping(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    print("waiting (at most 240 s) for the documented serve command to answer /ping")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the serve command exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"waited 240 s for the serve command's /ping:\n{log.read_text()[-3000:]}")
