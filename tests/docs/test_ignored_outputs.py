"""What the documented commands write into a checkout is git-ignored, so it is never committed
by accident (`git add -A` after a local `tune --storage sqlite:///study.db` or a `predict`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize(
    "output",
    ["mlflow.db", "study.db", "predictions.parquet", "reports/report.json", "mlruns/0/meta.yaml"],
)
def test_documented_outputs_are_ignored(output: str) -> None:
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", output],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if done.returncode == 128:
        pytest.skip("not a git checkout")
    assert done.returncode == 0, f"{output} is not git-ignored"
