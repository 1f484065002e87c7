"""The git side of the workflow tests: a repository cloned as one commit of the working tree
(its test modules trimmed when a scenario asks), branches, commits and merges."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Collection, Mapping
from pathlib import Path, PurePosixPath

DEFAULT_REMOTE = "https://github.com/acme/trips.git"
DROPPED_ENV_PREFIXES = (
    "GITHUB_",
    "RUNNER_",
    "ACTIONS_",
    "INPUT_",
    "UV_",
    "MLFLOW_",
    "PYTEST_",
    "MLGATE_",  # .ci/run's requirements on the test machine, which a runner does not have
)
DROPPED_ENV = {
    "VIRTUAL_ENV",
    "UV",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONDONTWRITEBYTECODE",
    "CONDA_PREFIX",
    "ACT",
    *("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY"),
}
"""Variables of the calling process (pytest, uv run, a git hook) that must not reach act."""
GIT_ENV = {
    "GIT_AUTHOR_NAME": "E2E Author",
    "GIT_AUTHOR_EMAIL": "e2e@example.com",
    "GIT_COMMITTER_NAME": "E2E Author",
    "GIT_COMMITTER_EMAIL": "e2e@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run git in a test repository with a fixed identity and no user or system config."""
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**{k: v for k, v in os.environ.items() if k not in DROPPED_ENV}, **GIT_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {repo}:\n{done.stderr}")
    return done.stdout.strip()


def head_sha(repo: Path, ref: str = "HEAD") -> str:
    """Full SHA of a ref."""
    return git(repo, "rev-parse", ref)


def current_branch(repo: Path) -> str:
    """Name of the checked-out branch."""
    return git(repo, "symbolic-ref", "--short", "HEAD")


def publish(repo: Path, branch: str | None = None) -> str:
    """Emulate `git push`: point refs/remotes/origin/<branch> at the local branch."""
    branch = branch or current_branch(repo)
    sha = head_sha(repo, f"refs/heads/{branch}")
    git(repo, "update-ref", f"refs/remotes/origin/{branch}", sha)
    return sha


def create_branch(repo: Path, name: str, start: str = "HEAD") -> None:
    """Create a branch (like a feature branch for a PR) and switch to it."""
    git(repo, "checkout", "--quiet", "-b", name, start)
    publish(repo, name)


def switch(repo: Path, name: str) -> None:
    """Check out an existing branch."""
    git(repo, "checkout", "--quiet", name)


def commit_files(
    repo: Path, files: Mapping[str, str | bytes | None], message: str = "Change files"
) -> str:
    """Write (or delete, for None) files, commit them on the current branch, publish it."""
    for relative, content in files.items():
        target = repo / relative
        if content is None:
            git(repo, "rm", "--quiet", "-r", "--", relative)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        git(repo, "add", "--", relative)
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)
    publish(repo)
    return head_sha(repo)


def merge_branch(repo: Path, branch: str, into: str = "main", message: str | None = None) -> str:
    """Merge a feature branch with a merge commit (as a PR merge does) and publish it."""
    switch(repo, into)
    git(repo, "merge", "--quiet", "--no-ff", "-m", message or f"Merge branch '{branch}'", branch)
    publish(repo, into)
    return head_sha(repo)


def repo_full_name(remote: str) -> str:
    """owner/name from a GitHub remote URL."""
    match = re.search(r"[:/]([^/:]+)/([^/]+?)(?:\.git)?/?$", remote)
    if not match:
        raise ValueError(f"not a GitHub-style remote: {remote}")
    return f"{match.group(1)}/{match.group(2)}"


def snapshot_files(src_repo: Path) -> list[str]:
    """Tracked and untracked, non-ignored files of a working tree (what is on disk)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=src_repo,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({name for name in listing.split("\0") if name})


def is_test_module(relative: str) -> bool:
    """A pytest module of the test tree (helpers, conftest files and data are not)."""
    path = PurePosixPath(relative)
    return path.parts[0] == "tests" and path.name.startswith("test_") and path.suffix == ".py"


def make_repo_clone(
    src_repo: Path,
    dest: Path,
    remote: str = DEFAULT_REMOTE,
    branch: str = "main",
    *,
    test_modules: Collection[str] | None = None,
) -> Path:
    """Make a fresh repository holding the working tree of `src_repo` as one commit.

    Uncommitted and untracked (not ignored) files are included, so act runs what is on disk.
    `origin` points at `remote`, refs/remotes/origin/<branch> exists, and the repository
    serves fetches of any SHA and accepts pushes, since the harness redirects `remote` here.
    With `test_modules`, those are the clone's only test modules (its helpers all stay), so a
    workflow's `pytest` step runs just them.
    """
    dest.mkdir(parents=True, exist_ok=True)
    files = snapshot_files(src_repo)
    if test_modules is not None:
        missing = set(test_modules) - set(files)
        if missing:
            raise ValueError(f"no such test module to keep in the clone: {sorted(missing)}")
        files = [f for f in files if not is_test_module(f) or f in test_modules]
    for relative in files:
        source = src_repo / relative
        if not source.exists() and not source.is_symlink():
            continue
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    git(dest, "init", "--quiet", "-b", branch)
    for key, value in (
        ("uploadpack.allowAnySHA1InWant", "true"),
        ("receive.denyCurrentBranch", "updateInstead"),
        ("commit.gpgsign", "false"),
    ):
        git(dest, "config", key, value)
    git(dest, "remote", "add", "origin", remote)
    git(dest, "add", "-A")
    git(dest, "commit", "--quiet", "--allow-empty", "-m", f"Snapshot of {src_repo.name}")
    publish(dest, branch)
    git(dest, "symbolic-ref", "refs/remotes/origin/HEAD", f"refs/remotes/origin/{branch}")
    return dest
