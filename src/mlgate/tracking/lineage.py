"""Where a model came from: the git commit, the lock file, and the pull request that built it.

Inside GitHub Actions the PR number and PR head SHA come from the event file, because on
`pull_request` events `GITHUB_SHA` is a test merge commit, not the commit the author pushed.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from mlgate.report.document import Lineage


def collect(root: Path, env: Mapping[str, str] = os.environ) -> Lineage:
    event = _event(env)
    pull = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else {}
    number = pull.get("number")
    head = pull.get("head")
    head_sha = head.get("sha") if isinstance(head, dict) else None
    checked_out = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
    branch = (
        env.get("GITHUB_HEAD_REF")
        or (checked_out if checked_out != "HEAD" else None)
        or env.get("GITHUB_REF_NAME")
    )
    run_url = None
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        run_url = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    lock = root / "uv.lock"
    return Lineage(
        git_commit=_git(root, "rev-parse", "HEAD") or env.get("GITHUB_SHA"),
        branch=branch,
        dirty=None if status is None else bool(status),
        lock_hash=hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else None,
        pr_number=number if isinstance(number, int) else None,
        head_sha=head_sha if isinstance(head_sha, str) else None,
        workflow_run_url=run_url,
        workflow_run_id=_integer(env.get("GITHUB_RUN_ID")),
        workflow_run_attempt=_integer(env.get("GITHUB_RUN_ATTEMPT")),
    )


def _integer(value: str | None) -> int | None:
    """Actions run ids and attempts, which promotion later checks against the Actions API."""
    text = (value or "").strip()
    return int(text) if text.isdigit() else None


def _event(env: Mapping[str, str]) -> dict:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
