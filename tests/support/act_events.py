"""The event payloads act is given: pull_request, push and workflow_run, shaped as GitHub
sends them, with stable ids."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any


def _repository(full_name: str, default_branch: str = "main") -> dict[str, Any]:
    """The `repository` object GitHub embeds in payloads (the fields workflows read)."""
    owner, name = full_name.split("/", 1)
    return {
        "id": _stable_id(full_name),
        "name": name,
        "full_name": full_name,
        "owner": {"login": owner, "type": "Organization"},
        "private": False,
        "fork": False,
        "html_url": f"https://github.com/{full_name}",
        "clone_url": f"https://github.com/{full_name}.git",
        "default_branch": default_branch,
    }


def _stable_id(text: str) -> int:
    """A numeric id that stays the same across runs (unlike hash())."""
    return zlib.crc32(text.encode()) % 10**9


def _user(login: str) -> dict[str, Any]:
    return {"login": login, "type": "User", "id": _stable_id(login)}


def event_pull_request(
    number: int,
    head_sha: str,
    head_ref: str,
    base_ref: str = "main",
    *,
    base_sha: str = "0" * 40,
    action: str = "synchronize",
    repository: str = "acme/trips",
    head_repository: str | None = None,
    title: str = "Change the model",
    author: str = "octocat",
    labels: Sequence[str] = (),
    draft: bool = False,
    merged: bool = False,
) -> dict[str, Any]:
    """pull_request payload; `head_repository` other than `repository` makes it a fork PR."""
    head_full = head_repository or repository
    head_repo = _repository(head_full)
    head_repo["fork"] = head_full != repository
    url = f"https://github.com/{repository}/pull/{number}"
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "id": 1_000_000 + number,
            "state": "closed" if merged else "open",
            "title": title,
            "draft": draft,
            "merged": merged,
            "html_url": url,
            "url": f"https://api.github.com/repos/{repository}/pulls/{number}",
            "user": _user(author),
            "labels": [{"name": label} for label in labels],
            "head": {
                "ref": head_ref,
                "sha": head_sha,
                "label": f"{head_full.split('/')[0]}:{head_ref}",
                "repo": head_repo,
                "user": _user(head_full.split("/")[0]),
            },
            "base": {
                "ref": base_ref,
                "sha": base_sha,
                "label": f"{repository.split('/')[0]}:{base_ref}",
                "repo": _repository(repository),
            },
        },
        "repository": _repository(repository),
        "sender": _user(author),
    }


def event_push(
    after: str,
    *,
    ref: str = "refs/heads/main",
    before: str = "0" * 40,
    repository: str = "acme/trips",
    message: str = "Merge pull request",
    pusher: str = "octocat",
) -> dict[str, Any]:
    """push payload (e.g. a PR merge landing on main)."""
    commit = {
        "id": after,
        "message": message,
        "timestamp": "2025-01-01T00:00:00Z",
        "author": {"name": pusher, "username": pusher, "email": f"{pusher}@example.com"},
    }
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "created": before == "0" * 40,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": f"https://github.com/{repository}/compare/{before[:12]}...{after[:12]}",
        "commits": [commit],
        "head_commit": commit,
        "pusher": {"name": pusher, "email": f"{pusher}@example.com"},
        "repository": _repository(repository),
        "sender": _user(pusher),
    }


def event_workflow_run(
    run_id: int | str,
    head_sha: str,
    conclusion: str,
    pull_requests: Sequence[int | Mapping[str, Any]] = (),
    *,
    head_branch: str = "feature",
    base_ref: str = "main",
    event: str = "pull_request",
    workflow_name: str = "PR",
    workflow_path: str = ".github/workflows/pr.yml",
    repository: str = "acme/trips",
    head_repository: str | None = None,
    actor: str = "octocat",
) -> dict[str, Any]:
    """workflow_run (completed) payload about an earlier run.

    `pull_requests` takes PR numbers (expanded to GitHub's short PR objects) or ready
    objects; GitHub leaves it empty for PRs from forks.
    """
    head_full = head_repository or repository
    prs = []
    for item in pull_requests:
        if isinstance(item, Mapping):
            prs.append(dict(item))
            continue
        repo_ref = {"id": _stable_id(repository), "name": repository.split("/")[1]}
        repo_ref["url"] = f"https://api.github.com/repos/{repository}"
        prs.append(
            {
                "number": item,
                "id": 1_000_000 + item,
                "url": f"https://api.github.com/repos/{repository}/pulls/{item}",
                "head": {"ref": head_branch, "sha": head_sha, "repo": repo_ref},
                "base": {"ref": base_ref, "sha": "0" * 40, "repo": repo_ref},
            }
        )
    run = {
        "id": int(run_id),
        "name": workflow_name,
        "path": workflow_path,
        "event": event,
        "status": "completed",
        "conclusion": conclusion,
        "head_sha": head_sha,
        "head_branch": head_branch,
        "run_number": 1,
        "run_attempt": 1,
        "workflow_id": 4242,
        "html_url": f"https://github.com/{repository}/actions/runs/{run_id}",
        "artifacts_url": f"https://api.github.com/repos/{repository}/actions/runs/{run_id}/artifacts",
        "pull_requests": prs,
        "actor": _user(actor),
        "triggering_actor": _user(actor),
        "head_repository": _repository(head_full) | {"fork": head_full != repository},
        "repository": _repository(repository),
    }
    return {
        "action": "completed",
        "workflow_run": run,
        "workflow": {"id": 4242, "name": workflow_name, "path": workflow_path},
        "repository": _repository(repository),
        "sender": _user(actor),
    }
