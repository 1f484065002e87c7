"""Shared fixtures: git repos, event files, pyproject files, a real MLflow server and an S3
server (moto's) with a bucket per test.

The example model's data fixtures (synthetic months in its data's schema) are the example's own,
used by `tests/green_taxi/` only; the lifecycle tests use `support.diabetes`.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import pytest

from support import waits
from support.mlflow_server import MlflowServer
from support.s3 import Bucket, MotoS3
from support.team_server import TeamServer

# pytest keeps each test module with its rewritten assertions as bytecode in __pycache__, but
# not where Python is told to write none (PYTHONDONTWRITEBYTECODE): rewriting every module
# again costs each worker about 2 s of every run. The files are git-ignored.
sys.dont_write_bytecode = False


# The tests' Spark JVMs (the Spark tests' session, the commands the scale benchmark starts)
# live seconds on tiny data: the JIT's optimising tier only burns CPU there. A test never
# times Spark; the documented figures come from runs without this.
SPARK_SUBMIT_ARGS = "--conf spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1 pyspark-shell"


def pytest_configure(config: pytest.Config) -> None:
    waits.bind(config)
    os.environ.setdefault("PYSPARK_SUBMIT_ARGS", SPARK_SUBMIT_ARGS)
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        # A process that runs tests imports the ML stack anyway: skops before it is cheaper
        # (mlgate.preload). The controller of several workers runs none.
        from mlgate import preload

        preload.skops_first()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Exempt what lives the whole run (MLflow, scikit-learn, pandas and the collected tests)
    from the cyclic garbage collector: its full passes otherwise walk those few hundred thousand
    objects again and again while the tests run."""
    gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """A process that imported the ML stack spends about a second collecting its garbage on
    the way out; what the tests left is not worth that (each worker pays it)."""
    gc.freeze()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """One worker per core, and one more for the modules that mostly wait when slow tests run
    (`support.schedule.auto_workers`)."""
    from support.schedule import auto_workers

    return auto_workers(config)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`--dist loadscope` sends the act scenarios first, one per worker (`support.schedule`)."""
    if config.getoption("dist") != "loadscope":
        return None
    from support.schedule import ScenariosFirst

    return ScenariosFirst(config, log)


@dataclass(frozen=True)
class GitRepo:
    """A throwaway git repository with one commit of `README.md` and `uv.lock`."""

    path: Path

    def git(self, *args: str) -> str:
        """Run git in the repository (no user or system configuration) and return stdout."""
        done = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=_git_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def commit(self, message: str = "change") -> str:
        """Commit everything tracked or new and return the commit's SHA."""
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    @property
    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


def _git_env() -> dict[str, str]:
    identity = {"NAME": "Test Author", "EMAIL": "author@example.com"}
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update({f"GIT_AUTHOR_{k}": v for k, v in identity.items()})
    env.update({f"GIT_COMMITTER_{k}": v for k, v in identity.items()})
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    return env


@pytest.fixture(scope="session")
def _git_repo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `git_repo` every test gets a copy of: four git processes once, not per test."""
    repo = GitRepo(tmp_path_factory.mktemp("git-template") / "repo")
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main")
    (repo.path / "README.md").write_text("# trips\n", encoding="utf-8")
    (repo.path / "uv.lock").write_text("version = 1\n", encoding="utf-8")
    repo.commit("initial")
    return repo.path


@pytest.fixture
def git_repo(tmp_path: Path, _git_repo_template: Path) -> GitRepo:
    """A git repository on branch `main` in `tmp_path/repo`, with one clean commit."""
    repo = GitRepo(tmp_path / "repo")
    shutil.copytree(_git_repo_template, repo.path, symlinks=True)
    return repo


@pytest.fixture
def github_event(tmp_path: Path) -> Callable[[object], Path]:
    """Factory writing a GitHub Actions event file (a dict/list as JSON, str or bytes as is)
    and returning its path, for `GITHUB_EVENT_PATH`."""
    written = count(1)

    def write(payload: object) -> Path:
        path = tmp_path / "events" / f"event-{next(written)}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(payload, bytes):
            path.write_bytes(payload)
        elif isinstance(payload, str):
            path.write_text(payload, encoding="utf-8")
        else:
            path.write_text(json.dumps(payload), encoding="utf-8")
        return path

    return write


@pytest.fixture
def pyproject(tmp_path: Path) -> Callable[..., Path]:
    """Factory writing `pyproject.toml` with a `[project]` table plus `table` (TOML text for
    the `[tool.mlgate]` configuration, e.g. `[tool.mlgate.gate]` sections):
    `pyproject(table="", *, folder=tmp_path) -> Path`."""

    def write(table: str = "", *, folder: Path | None = None) -> Path:
        folder = folder or tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "pyproject.toml"
        path.write_text(f'[project]\nname = "demo"\nversion = "0.1.0"\n\n{table}', encoding="utf-8")
        return path

    return write


@pytest.fixture
def no_git_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder that git will not treat as part of any repository (discovery stops above it)."""
    folder = tmp_path / "plain"
    folder.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    return folder


AMBIENT_PREFIXES = ("GITHUB_", "MLFLOW_", "RUNNER_", "ACTIONS_")


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see none of the CI's GitHub or MLflow settings (a test run inside a workflow must
    not write to that workflow's job summary, nor talk to its tracking server)."""
    for name in list(os.environ):
        if name.startswith(AMBIENT_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real `mlflow server` on 127.0.0.1, started once and shared by the session's tests;
    they keep apart by using their own experiment and registered model names."""
    with MlflowServer(tmp_path_factory.mktemp("mlflow-server")) as server:
        yield server


@pytest.fixture(scope="session")
def team_server() -> Iterator[TeamServer]:
    """A team tracking server (PostgreSQL 15, `mlflow server --app-name basic-auth`, an admin
    and the two CI users), started once and shared; tests keep apart by their own names and
    set up their grants with `team_server.setup_project(config)`."""
    with TeamServer() as team:
        yield team


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    """moto's S3 server on 127.0.0.1 with IAM enforced, started once and shared; tests keep
    apart by their own buckets."""
    with MotoS3(tmp_path_factory.mktemp("s3-server")) as server:
        yield server


@pytest.fixture
def bucket(s3_server: MotoS3, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    """A new bucket on the tests' S3 server, and the AWS variables set for this test to reach
    it as the server's administrator (AWS_ENDPOINT_URL, keys, region)."""
    made = s3_server.bucket()
    made.enter(monkeypatch)
    return made
