"""Lineage: the commit, branch, dirtiness and lock hash from git, and the pull request from the
GitHub Actions event file; missing or broken sources give None, never a crash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mlgate.tracking.lineage import collect

HEAD_SHA = "3f9c2b7d81e04a6c9b5d2e7f1a0c3b4d5e6f7a8b"
MERGE_SHA = "9" * 40


def _pull_request_event(number: object = 42, head_sha: object = HEAD_SHA) -> dict:
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"ref": "feature/faster", "sha": head_sha},
            "base": {"ref": "main", "sha": "1" * 40},
        },
    }


def _actions_env(event_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_SHA": MERGE_SHA,
        "GITHUB_REF": "refs/pull/42/merge",
        "GITHUB_HEAD_REF": "feature/faster",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/trips",
        "GITHUB_RUN_ID": "123456789",
    }
    env.update(extra)
    return env


def test_clean_repository(git_repo) -> None:
    lineage = collect(git_repo.path, env={})
    assert lineage.git_commit == git_repo.head
    assert len(lineage.git_commit) == 40
    assert lineage.branch == "main"
    assert lineage.dirty is False
    assert lineage.pr_number is None
    assert lineage.head_sha is None
    assert lineage.workflow_run_url is None


def test_lock_hash_is_sha256_of_uv_lock(git_repo) -> None:
    lock = git_repo.path / "uv.lock"
    lock.write_bytes(b'version = 1\n\n[[package]]\nname = "numpy"\n')
    expected = hashlib.sha256(lock.read_bytes()).hexdigest()
    assert collect(git_repo.path, env={}).lock_hash == expected


def test_lock_hash_is_none_without_uv_lock(git_repo) -> None:
    (git_repo.path / "uv.lock").unlink()
    assert collect(git_repo.path, env={}).lock_hash is None


@pytest.mark.parametrize(
    ("change", "dirty"),
    [
        (lambda repo: (repo / "README.md").write_text("# edited\n", encoding="utf-8"), True),
        (lambda repo: (repo / "uv.lock").unlink(), True),
        (lambda repo: (repo / "notes.txt").write_text("scratch\n", encoding="utf-8"), False),
    ],
    ids=["modified-tracked-file", "deleted-tracked-file", "untracked-file-only"],
)
def test_dirty_means_uncommitted_changes_to_tracked_files(git_repo, change, dirty: bool) -> None:
    change(git_repo.path)
    assert collect(git_repo.path, env={}).dirty is dirty


def test_new_commit_and_branch_are_followed(git_repo) -> None:
    git_repo.git("switch", "-q", "-c", "feature/zones")
    (git_repo.path / "README.md").write_text("# zones\n", encoding="utf-8")
    sha = git_repo.commit("zones")
    lineage = collect(git_repo.path, env={})
    assert (lineage.git_commit, lineage.branch, lineage.dirty) == (sha, "feature/zones", False)


def test_subfolder_of_repository(git_repo) -> None:
    sub = git_repo.path / "src"
    sub.mkdir()
    assert collect(sub, env={}).git_commit == git_repo.head


def test_pull_request_event_gives_pr_and_head_sha(git_repo, github_event) -> None:
    env = _actions_env(github_event(_pull_request_event()))
    lineage = collect(git_repo.path, env=env)
    assert lineage.pr_number == 42
    assert lineage.head_sha == HEAD_SHA
    assert lineage.head_sha != env["GITHUB_SHA"]
    assert lineage.branch == "feature/faster"
    assert lineage.git_commit == git_repo.head
    assert lineage.workflow_run_url == "https://github.com/acme/trips/actions/runs/123456789"


def test_github_sha_is_the_commit_when_git_is_unavailable(no_git_above, github_event) -> None:
    env = _actions_env(github_event(_pull_request_event()))
    lineage = collect(no_git_above, env=env)
    assert lineage.git_commit == MERGE_SHA
    assert lineage.head_sha == HEAD_SHA
    assert lineage.branch == "feature/faster"
    assert lineage.dirty is None


def test_push_event_has_no_pull_request(git_repo, github_event) -> None:
    event = {"ref": "refs/heads/main", "after": git_repo.head, "head_commit": {"id": git_repo.head}}
    env = _actions_env(github_event(event), GITHUB_HEAD_REF="", GITHUB_EVENT_NAME="push")
    lineage = collect(git_repo.path, env=env)
    assert (lineage.pr_number, lineage.head_sha) == (None, None)
    assert lineage.branch == "main"


RUN_URLS = {
    "github-com": ({}, "https://github.com/acme/trips/actions/runs/123456789"),
    "enterprise-trailing-slash": (
        {"GITHUB_SERVER_URL": "https://ghe.example.com/"},
        "https://ghe.example.com/acme/trips/actions/runs/123456789",
    ),
    "no-server-url": (
        {"GITHUB_SERVER_URL": None},
        "https://github.com/acme/trips/actions/runs/123456789",
    ),
    "no-run-id": ({"GITHUB_RUN_ID": None}, None),
    "no-repository": ({"GITHUB_REPOSITORY": None}, None),
}


@pytest.mark.parametrize(("changes", "url"), RUN_URLS.values(), ids=RUN_URLS.keys())
def test_workflow_run_url(git_repo, github_event, changes: dict, url: str | None) -> None:
    env = _actions_env(github_event(_pull_request_event()))
    for key, value in changes.items():
        if value is None:
            env.pop(key)
        else:
            env[key] = value
    assert collect(git_repo.path, env=env).workflow_run_url == url


def test_outside_git_gives_none_fields(no_git_above) -> None:
    lineage = collect(no_git_above, env={})
    assert lineage.git_commit is None
    assert lineage.branch is None
    assert lineage.dirty is None
    assert lineage.lock_hash is None


def test_git_not_installed_gives_none_fields(git_repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(git_repo.path / "no-bin"))
    lineage = collect(git_repo.path, env={"GITHUB_SHA": MERGE_SHA})
    assert lineage.git_commit == MERGE_SHA
    assert (lineage.branch, lineage.dirty) == (None, None)
    assert lineage.lock_hash is not None


def test_repository_without_commits(tmp_path: Path, git_repo) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git_repo.git("init", "-q", str(fresh))
    lineage = collect(fresh, env={})
    assert lineage.git_commit is None
    assert lineage.dirty is False


NOTHING = (None, None)
MALFORMED_EVENTS: dict[str, tuple[object, tuple[int | None, str | None]]] = {
    "not-json": ("{not json", NOTHING),
    "empty-file": ("", NOTHING),
    "not-utf8": (b"\xff\xfe\x00garbage", NOTHING),
    "json-list": ([1, 2, 3], NOTHING),
    "json-string": ('"pull_request"', NOTHING),
    "pull-request-is-string": ({"pull_request": "42"}, NOTHING),
    "pull-request-is-null": ({"pull_request": None}, NOTHING),
    "pr-number-is-string": (_pull_request_event(number="42"), (None, HEAD_SHA)),
    "pr-number-is-float": (_pull_request_event(number=4.2), (None, HEAD_SHA)),
    "head-is-null": ({"pull_request": {"number": 42, "head": None}}, (42, None)),
    "head-sha-is-number": (_pull_request_event(head_sha=12345), (42, None)),
    "head-is-string": ({"pull_request": {"number": 42, "head": HEAD_SHA}}, (42, None)),
    "head-is-list": ({"pull_request": {"number": 42, "head": [HEAD_SHA]}}, (42, None)),
}


@pytest.mark.parametrize(
    ("payload", "expected"), MALFORMED_EVENTS.values(), ids=MALFORMED_EVENTS.keys()
)
def test_malformed_event_file_does_not_crash(
    git_repo, github_event, payload: object, expected: tuple[int | None, str | None]
) -> None:
    env = _actions_env(github_event(payload))
    lineage = collect(git_repo.path, env=env)
    assert (lineage.pr_number, lineage.head_sha) == expected
    assert lineage.git_commit == git_repo.head
    assert lineage.branch == "feature/faster"
    assert lineage.workflow_run_url is not None


@pytest.mark.parametrize("where", ["missing", "directory"])
def test_unreadable_event_path_does_not_crash(git_repo, tmp_path: Path, where: str) -> None:
    path = tmp_path / "event.json"
    if where == "directory":
        path.mkdir()
    lineage = collect(git_repo.path, env=_actions_env(path))
    assert (lineage.pr_number, lineage.head_sha) == (None, None)
