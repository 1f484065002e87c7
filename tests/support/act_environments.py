"""Project environments kept between act runs, so a scenario's runs stop recompiling bytecode.

Why: act deletes each run's workspace, and with it the `.venv` that the workflow's `uv sync`
made there. uv links the packages from its cache in about a second, but Python then compiles
the bytecode of everything the run imports (MLflow, scikit-learn, pandas, pytest) again:
about 8-13 CPU-seconds per pull-request run, for each of the twenty-odd runs of a whole test
session.

A test marked `reuse_environments` gets one folder per workflow file from a pool that lives
as long as its pytest worker: each run points `UV_PROJECT_ENVIRONMENT` (what `uv sync` and
`uv run` use) and `VIRTUAL_ENV` (what `uv pip` uses) at a slot of that folder, which it holds
until it ends; a concurrent run of the same workflow takes the next slot. What a run installs
is still exactly its lock's, because `uv sync` is exact (it removes what the lock does not
list, and reinstalls the project from the run's own workspace). A run that fails, times out
or is cut off by an error leaves its slot empty for the next one, so a half-made install is
never reused. A slot's first `uv sync` gets the bytecode this process's environment already
has for the same files (the setup-uv stand-in's seed_bytecode.py), so even a first run
compiles only what differs.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import sysconfig
from collections.abc import Iterator
from pathlib import Path

MAX_SLOTS = 8  # more concurrent runs of one workflow than any scenario starts
# What gives a new environment the bytecode of this process's (`.ci/run` compiles its own).
SEEDER = Path(__file__).resolve().parents[1] / "e2e" / "actions" / "setup-uv" / "seed_bytecode.py"


@contextlib.contextmanager
def environment_slot(pool: Path, workflow: str) -> Iterator[Path]:
    """A free environment folder for one run of `workflow` (a path relative to the repo)."""
    folder = pool / Path(workflow).stem
    folder.mkdir(parents=True, exist_ok=True)
    for slot in range(MAX_SLOTS):
        with open(folder / f"{slot}.lock", "w", encoding="utf-8") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            yield folder / str(slot)
            return
    raise RuntimeError(f"all {MAX_SLOTS} environments of {workflow} in {pool} are in use")


def discard(environment: Path) -> None:
    """Remove an environment a failed run may have left half-installed."""
    shutil.rmtree(environment, ignore_errors=True)


def step_env(environment: Path) -> dict[str, str]:
    """The variables that point a run's uv commands at `environment`, and the environment
    whose bytecode the setup-uv stand-in gives it after each `uv sync` (this process's own,
    compiled for the same installed files: tests/e2e/actions/setup-uv/seed_bytecode.py)."""
    return {
        "UV_PROJECT_ENVIRONMENT": str(environment),
        "VIRTUAL_ENV": str(environment),
        "E2E_BYTECODE_FROM": bytecode_source(),
    }


def bytecode_source() -> str:
    """This process's site-packages, whose bytecode new environments are given (SEEDER)."""
    return sysconfig.get_paths()["purelib"]
