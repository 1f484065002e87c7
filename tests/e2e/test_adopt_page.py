"""docs/adopt.md, followed on a clone: remove the example, adopt a plug-in, and CI stays green.

The clone (the working tree as one commit) runs the page's removal block as written, then
adopts the tests' own plug-in (`support.diabetes`) by configuration and data alone. In its own
environment (`uv sync --locked`, so nothing of this checkout is imported) it must pass lint
(pre-commit: ruff, import contracts, workflow audit and schemas, the lock), the documentation
build, the fast test suite and `mlgate train` on the adopted sample. Its new environment gets
the bytecode this checkout's environment has for the same installed files, as the act runs'
kept environments do (tests/e2e/actions/setup-uv/seed_bytecode.py): Python still checks each
file against its source, and the clone's own code is compiled from the clone. The workflows
under act after the removal are run by test_workflows.py and test_monitor_workflow.py, which
adopt the same way without relying on any table of the example.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import diabetes, waits
from support.act_environments import SEEDER, bytecode_source
from support.adoption import adoption_tables
from support.docs import ROOT, shell_block
from support.git_repo import git, make_repo_clone

TIMEOUT = 1800


def _env(clone: Path, extra: dict[str, str]) -> dict[str, str]:
    """This machine's environment, without this checkout's virtual environment or settings."""
    dropped = ("MLFLOW_", "GITHUB_", "GIT_", "MLGATE_", "VIRTUAL_ENV", "PYTHON")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.pop("UV_PROJECT_ENVIRONMENT", None)
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{clone / 'mlflow.db'}"
    return {**env, **extra}


def _run(
    command: list[str], clone: Path, what: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    waits.announce(f"{what} in the adopted clone (≤{TIMEOUT} s): {' '.join(command)}")
    done = subprocess.run(
        command, cwd=clone, env=_env(clone, extra), capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, (
        f"{what}: exit {done.returncode}\n{done.stdout[-4000:]}\n" + (done.stderr[-4000:])
    )
    return done


def test_the_adopt_page_removes_the_example_and_a_plug_in_adopts_it(tmp_path: Path) -> None:
    clone = make_repo_clone(ROOT, tmp_path / "clone")
    for leftover in (".venv", "site"):
        assert not (clone / leftover).exists(), leftover

    _run(
        ["bash", "-euo", "pipefail", "-c", shell_block("docs/adopt.md", "remove-example")],
        clone,
        "removing the example",
    )
    assert not (clone / "src" / "green_taxi").exists()

    diabetes.write_months(clone / "data")
    name = "adopted-progression"
    with (clone / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write("\n" + adoption_tables(clone, name))
    git(clone, "add", "-A")
    git(clone, "commit", "--quiet", "-m", "Adopt the template for our own model")

    _run(["uv", "sync", "--locked"], clone, "installing")
    seeding = [sys.executable, str(SEEDER), bytecode_source(), str(clone / ".venv")]
    _run(seeding, clone, "seeding bytecode")
    _run(["uv", "run", "pre-commit", "run", "--all-files"], clone, "lint")
    _run(["uv", "run", "--group", "docs", "mkdocs", "build", "--strict"], clone, "docs")
    tests = _run(
        ["uv", "run", "pytest", "-m", "not slow", "-q", "-p", "no:cacheprovider"],
        clone,
        "the fast tests",
    )
    assert " passed" in tests.stdout
    # The tests' plug-in is importable the way a team's installed package would be.
    trained = _run(["uv", "run", "mlgate", "train"], clone, "training", PYTHONPATH="tests")
    assert "v1" in trained.stdout
