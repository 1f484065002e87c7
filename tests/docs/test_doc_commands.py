"""The documentation's shell blocks, run as written on a fresh copy of the project.

Each block runs in bash (`set -euo pipefail`) in a new folder holding what a fresh clone gives
the commands (`pyproject.toml`, `uv.lock`, `data/`, one git commit), with the default
embedded store. Two stand-ins, as a laptop test needs: `uv run X` runs X in this test's
environment (where the locked packages already are), and a fixed port in a block is replaced
by a free one (the machine may be running other servers).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from support import waits
from support.docs import ROOT, commands, shell_block
from support.mlflow_server import free_port
from support.s3 import Bucket, MotoS3, no_aws_lookups

PRELUDE = 'uv() { if [ "$1" = run ]; then shift; "$@"; else command uv "$@"; fi; }\n'
BIN = str(Path(sys.executable).parent)


def environment() -> dict[str, str]:
    """This machine's environment without tracking or GitHub settings: a laptop's defaults."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLFLOW_", "GITHUB_", "GIT_", "MLGATE_"))
    }
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
    )
    return env


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """What a fresh clone holds for the commands: the configuration, the lock and the data."""
    root = tmp_path / "clone"
    root.mkdir()
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "data", root / "data")
    git = ["git", "-c", "user.name=Docs", "-c", "user.email=docs@example.com"]
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "clone"]):
        subprocess.run([*git, *args], cwd=root, env=environment(), check=True)
    return root


def run(
    block: str, cwd: Path, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    waits.announce(f"running a documented block (≤{timeout:.0f} s): {commands(block)[0]}")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", PRELUDE + block],
        cwd=cwd,
        env=env or environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
    return done


@contextmanager
def background(
    block: str, cwd: Path, env: dict[str, str], url: str, limit: float
) -> Iterator[None]:
    """Start a documented server block, wait (bounded) until `url` answers, stop it after."""
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", PRELUDE + block],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    waits.announce(f"waiting (≤{limit:.0f} s) for {url} to answer")
    deadline = time.monotonic() + limit
    try:
        while True:
            assert process.poll() is None, f"the server exited: {process.stderr.read()[-3000:]}"
            try:
                with urllib.request.urlopen(url, timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, f"{url} did not answer within {limit:.0f} s"
                time.sleep(1)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        process.stderr.close()


def champion(root: Path, model: str) -> str:
    from mlflow import MlflowClient

    uri = f"sqlite:///{root / 'mlflow.db'}"  # both, so no registry set by another test leaks in
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    return str(client.get_model_version_by_alias(model, "champion").version)


@pytest.mark.slow
def test_the_readme_quickstart_loop_ui_and_the_serving_page(fresh: Path) -> None:
    # The Quickstart's first command, on the embedded store and the committed sample.
    train = commands(shell_block("README.md", "quickstart"))[0]
    done = run(train, fresh, timeout=600)
    assert "v1" in done.stdout
    assert (fresh / "reports" / "report.md").is_file()
    assert (fresh / "mlflow.db").is_file()
    page = (ROOT / "docs" / "pr-comment.md").read_text(encoding="utf-8")
    (rows,) = re.findall(r"fitting \S+ on ([\d,]+) rows", page)
    assert f"on {rows} rows" in done.stderr, "the documented progress line is this run's"

    # The local loop, after that `train`: v2 is promoted, then rolled back to v1.
    done = run(shell_block("README.md", "local-loop"), fresh, timeout=900)
    assert "v2" in done.stdout
    assert "#### " in done.stdout or "|" in done.stdout, "`cat reports/report.md` shows the report"
    model = "trip-duration"  # the example's registered model, as the serving page names it
    assert champion(fresh, model) == "1"

    # The UI on the same store shows the registered model.
    port = free_port()
    env = {**environment(), "MLFLOW_PORT": str(port)}
    with background(
        shell_block("README.md", "ui"), fresh, env, f"http://127.0.0.1:{port}/health", 240
    ):
        url = f"http://127.0.0.1:{port}/api/2.0/mlflow/registered-models/get?name={model}"
        with urllib.request.urlopen(url, timeout=30) as answer:
            assert json.load(answer)["registered_model"]["name"] == model

    # The serving page: the champion served by MLflow's scoring server, asked as documented.
    serve, ask = (
        shell_block("docs/serving.md", "serve"),
        shell_block("docs/serving.md", "invocations"),
    )
    assert f"models:/{model}@champion" in serve
    port = free_port()
    with background(
        serve.replace("5001", str(port)),
        fresh,
        environment(),
        f"http://127.0.0.1:{port}/ping",
        300,
    ):
        answer = run(ask.replace("5001", str(port)), fresh, timeout=120)
    (shown,) = re.findall(r"^# (\{.*\})$", ask, re.M)
    expected = json.loads(shown)["predictions"]
    assert json.loads(answer.stdout)["predictions"] == pytest.approx(expected, rel=1e-6)


@pytest.mark.slow
def test_the_tuning_page_runs_one_search_and_one_shared_budget(fresh: Path) -> None:
    import optuna

    block = shell_block("docs/tuning.md", "tune")
    run(block, fresh, timeout=1800)
    (shared,) = {int(n) for n in re.findall(r"--study s1 --trials (\d+)", block)}
    study = optuna.load_study(study_name="s1", storage=f"sqlite:///{fresh / 'study.db'}")
    finished = [t for t in study.trials if t.state.is_finished()]
    assert len(finished) == shared, "two processes, one budget: no trial lost or run twice"


@pytest.mark.slow
def test_the_storage_page_trains_monitors_and_predicts_from_a_bucket(
    fresh: Path, s3_server: MotoS3
) -> None:
    """The MinIO block as written, against moto's S3 server (IAM enforced) in MinIO's place."""
    import pandas as pd

    block = shell_block("docs/storage.md", "minio-data")
    assert "AWS_ENDPOINT_URL=http://localhost:9000" in block
    env = {k: v for k, v in environment().items() if not k.startswith("AWS_")}
    env |= no_aws_lookups() | {
        "MINIO_ROOT_USER": s3_server.admin.access_key_id,
        "MINIO_ROOT_PASSWORD": s3_server.admin.secret_access_key,
    }
    done = run(block.replace("http://localhost:9000", s3_server.url), fresh, 1500, env)
    bucket = Bucket(s3_server, "mlgate-data")
    assert bucket.keys() == [
        "predictions/2023-02.parquet",
        "trips/2023-01.parquet",
        "trips/2023-02.parquet",
    ], "the outputs, and nothing temporary"
    report = json.loads((fresh / "reports" / "report.json").read_text(encoding="utf-8"))
    assert [d["path"] for d in report["data"]] == [
        "s3://mlgate-data/trips/2023-01.parquet",
        "s3://mlgate-data/trips/2023-02.parquet",
    ]
    assert all(d["etag"] for d in report["data"])
    monitoring = json.loads(
        (fresh / "reports" / "monitoring" / "monitoring.json").read_text(encoding="utf-8")
    )
    assert monitoring["reference"]["path"] == "s3://mlgate-data/trips/2023-01.parquet"
    assert monitoring["current"]["path"] == "s3://mlgate-data/trips/2023-02.parquet"
    scored = pd.read_parquet(bucket.get("predictions/2023-02.parquet", fresh / "got.parquet"))
    assert len(scored) == len(pd.read_parquet(ROOT / "data" / "green_tripdata_2023-02.parquet"))
    assert "s3://mlgate-data/predictions/2023-02.parquet" in done.stdout
    assert s3_server.admin.secret_access_key not in done.stdout + done.stderr
