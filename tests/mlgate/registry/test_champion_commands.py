"""With a separate production model, every champion command finds the champion there.

On the team server (PostgreSQL, basic-auth MLflow), a candidate is registered by the PR user
and promoted by the promotion user, so the champion alias exists only on the production model.
`monitor`, `predict --model champion`, `serve-check --model champion` and the serve command of
docs/team-setup.md then run as the monitoring user, whose only reads are the experiment and the
production model: each must use the production model's champion.

All of it runs twice: with the server keeping artifacts on its own disk, and with them in a
bucket (moto's S3 server, as deploy/compose.yaml keeps them in MinIO), where the project's
data lives too: the model's files must really be objects there. mlgate reads them through the
server; the documented serve command, as MLflow's own client, straight from the bucket with the
presigned URLs the server hands out.
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

from mlgate.errors import EXIT_DRIFT
from mlgate.monitoring.document import load_monitoring
from mlgate.registry import versions as registry
from support.docs import shell_block
from support.mlflow_server import free_port
from support.project import Project
from support.s3 import Bucket, MotoS3
from support.team_server import ADMIN, MONITOR_USER, PR_USER, PROMOTE_USER, TeamServer

pytestmark = pytest.mark.slow

PRESIGNED = "/mlflow-artifacts/presigned/"
"""Where the server hands out a presigned URL to download an artifact from its bucket."""


@dataclass(frozen=True)
class Promoted:
    project: Project
    server: TeamServer
    production: str
    version: str  # the champion's version on the production model
    bucket: Bucket | None  # where the server keeps artifacts and the project its data, if any

    def enter(self, monkeypatch: pytest.MonkeyPatch, user: str) -> None:
        """Work in the project as `user`, with the bucket's AWS variables when there is one."""
        self.project.enter(monkeypatch, **self.server.credentials(user))
        if self.bucket is not None:
            self.bucket.enter(monkeypatch)


@pytest.fixture(scope="module")
def bucket_team_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TeamServer, Bucket]]:
    """A team server of this module's own, keeping its artifacts in a bucket that clients may
    reach too (MLflow's clients download from it with presigned URLs)."""
    with MotoS3(tmp_path_factory.mktemp("artifact-bucket"), iam=False) as s3:
        bucket = s3.bucket()
        server = TeamServer(artifacts=bucket.uri("mlflow"), environment=s3.environment())
        with server:
            yield server, bucket


@pytest.fixture(scope="module", params=["artifacts on disk", "artifacts and data in a bucket"])
def promoted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Promoted]:
    bucket = None
    if request.param == "artifacts on disk":
        team_server: TeamServer = request.getfixturevalue("team_server")
    else:
        team_server, bucket = request.getfixturevalue("bucket_team_server")
    root = tmp_path_factory.mktemp("champion")
    project = Project.create(root, team_server.url, tracking='production_model = "PROD"\n')
    production = f"{project.name}-production"
    config = project.config.read_text().replace('"PROD"', f'"{production}"')
    if bucket is not None:  # the data is read from the bucket, as the artifacts are kept there
        for role in ("train", "validation"):
            uri = bucket.put(f"data/{role}.parquet", root / "data" / f"{role}.parquet")
            config = config.replace(f'"data/{role}.parquet"', f'"{uri}"')
    project.config.write_text(config)
    team_server.setup_project(project.config)
    with pytest.MonkeyPatch.context() as patch:
        project.enter(patch)
        if bucket is not None:
            bucket.enter(patch)
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
        yield Promoted(project, team_server, production, str(champion.version), bucket)


@pytest.fixture
def as_monitor(promoted: Promoted, monkeypatch: pytest.MonkeyPatch) -> Promoted:
    promoted.enter(monkeypatch, MONITOR_USER)
    return promoted


def test_the_model_files_are_where_the_server_keeps_artifacts(promoted: Promoted) -> None:
    with pytest.MonkeyPatch.context() as patch:
        promoted.enter(patch, ADMIN)
        client = promoted.project.client()
        version = client.get_model_version(promoted.production, promoted.version)
        run = client.get_run(version.run_id)
    assert run.info.artifact_uri.startswith("mlflow-artifacts:"), "served through the server"
    if promoted.bucket is None:
        folder = Path(promoted.server.artifacts)
        stored = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    else:
        stored = promoted.bucket.keys("mlflow/")
        assert not Path(promoted.server.folder, "artifacts").exists(), "nothing on its disk"
        # train (which loads the logged model back) and promote read through the server
        assert PRESIGNED not in promoted.server.log.read_text(), "no download bypassed it"
    # The logged model: its MLmodel, its weights and its environment.
    names = {key.rsplit("/", 1)[-1] for key in stored}
    assert {"MLmodel", "requirements.txt", "python_env.yaml"} <= names, sorted(stored)
    assert any(key.endswith((".skops", ".pkl")) for key in stored), sorted(stored)


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
    if as_monitor.bucket is not None:  # found by the URI the champion's run logged
        assert report.reference.path == as_monitor.bucket.uri("data/train.parquet")


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
        if promoted.bucket is not None:  # MLflow's own client fetched the model from the bucket
            assert PRESIGNED in promoted.server.log.read_text()
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
