"""`mlgate tune-matrix`: how many `tune` workers a tuning workflow starts, and their study.

A GitHub Actions matrix cannot count to N by itself, and every worker must name the same study,
so the tuning workflow's first job asks this command for both and hands them to the matrix.
The number of workers is capped: each worker holds a runner and a database connection, and
past a few workers the budget, not the runners, bounds the search.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlgate.config import Settings
from mlgate.errors import UserError
from mlgate.tuning.job import default_study_name

MAX_WORKERS = 10
STUDY_NAME = re.compile(r"[\w.-]{1,120}")


@dataclass(frozen=True)
class Matrix:
    """The workers' numbers (the matrix) and the study they share."""

    workers: list[int]
    study: str

    def outputs(self) -> dict[str, str]:
        return {"workers": json.dumps(self.workers, separators=(",", ":")), "study": self.study}


def plan(settings: Settings, workers: int, study: str, env: Mapping[str, str]) -> Matrix:
    """The matrix for `workers` workers on `study` (default: this commit's study, made
    unique by the workflow run, so a re-run of a failed worker joins it and a new run
    starts afresh)."""
    if not 1 <= workers <= MAX_WORKERS:
        raise UserError(f"--workers {workers}: give 1 to {MAX_WORKERS} workers")
    if not settings.tuning.space:
        raise UserError("[tool.mlgate] tuning.space: the search space is empty; nothing to tune")
    name = study.strip()
    if not name:
        name = default_study_name(settings, env)
        run = env.get("GITHUB_RUN_ID", "").strip()
        if run.isdigit():
            name = f"{name}-run{run}"
    if not STUDY_NAME.fullmatch(name):
        raise UserError(f"--study {name[:120]!r}: use at most 120 letters, digits, '.', '-' or '_'")
    return Matrix(list(range(1, workers + 1)), name)


def write_outputs(matrix: Matrix, env: Mapping[str, str]) -> str | None:
    """Append the outputs to $GITHUB_OUTPUT when a workflow runs this; returns its path."""
    target = env.get("GITHUB_OUTPUT", "").strip()
    if not target:
        return None
    lines = "".join(f"{key}={value}\n" for key, value in matrix.outputs().items())
    try:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(lines)
    except OSError as exc:
        raise UserError(f"GITHUB_OUTPUT {target[:200]!r}: cannot write ({exc.strerror})") from None
    return target
