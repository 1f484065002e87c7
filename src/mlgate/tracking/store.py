"""Which tracking store a run uses: the configured one, or in CI without one (a pull request
from a fork gets no secrets) a throwaway store that says why the comparison is skipped."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlgate import progress
from mlgate.tracking.connection import DEFAULT_URI


@dataclass(frozen=True)
class Store:
    """Where this run is tracked, and why the champion comparison is skipped, if it is."""

    uri: str
    skipped_reason: str | None = None
    artifact_location: str | None = None


def choose_store(env: Mapping[str, str]) -> Store:
    """The configured store; in CI without one (a fork PR), an ephemeral store that says so."""
    configured = env.get("MLFLOW_TRACKING_URI", "").strip()
    if not configured and env.get("GITHUB_ACTIONS") == "true":
        return ephemeral(
            "no tracking server is configured for this run (MLFLOW_TRACKING_URI is empty; "
            "pull requests from forks get no secrets)"
        )
    return Store(configured or DEFAULT_URI)


def ephemeral(reason: str) -> Store:
    """A throwaway store in the temporary folder, removed when the process exits."""
    folder = Path(tempfile.mkdtemp(prefix="mlgate-mlflow-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    progress.say(
        f"falling back to a temporary tracking store in {folder}, removed when this command "
        f"ends, so nothing it registers is kept: {reason}; creating it…"
    )
    return Store(
        uri=f"sqlite:///{folder / 'mlflow.db'}",
        skipped_reason=reason,
        artifact_location=(folder / "artifacts").as_uri(),
    )
