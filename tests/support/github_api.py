"""A local stand-in for the slice of GitHub's REST API the PR-comment workflows use.

GitHub cannot be reached from CI sandboxes, so the client, the sticky-comment logic and whole
workflow runs are exercised against this server instead. It mirrors GitHub's paths, status
codes, JSON shapes, pagination `Link` headers, auth and rate-limit headers, and can be told to
fail on purpose. Run it in-process (`with FakeGitHub() as gh:`) or as its own process:

    python -m tests.support.github_api --port 0 --token T --repository o/r --state state.json

which prints its base URL on the first line of stdout. Test hooks over HTTP (no auth needed):
`GET /_fake/state` returns the state; `POST /_fake/call` with
`{"method": "add_pull", "kwargs": {"number": 1, "head_sha": "..."}}` calls one of the
state methods listed in `ADMIN_METHODS`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import signal
import sys
import threading
import time
import zlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

BOT_LOGIN = "github-actions[bot]"
MAX_BODY = 65_536
DOCS = "https://docs.github.com/rest"
ADMIN_METHODS = (
    "add_pull", "merge_pull", "set_head", "add_commit", "add_comment", "fail_next",
    "set_files", "lag_commit_pulls", "add_issue", "add_run", "set_run",
)  # fmt: skip
STATUS_STATES = ("error", "failure", "pending", "success")
MAX_STATUS_DESCRIPTION = 140
ISSUE_STATES = ("open", "closed")
REPO_LINKS = (  # the hypermedia links GitHub sends with every repository
    "archive",
    "assignees",
    "blobs",
    "branches",
    "collaborators",
    "comments",
    "commits",
    "compare",
    "contents",
    "contributors",
    "deployments",
    "downloads",
    "events",
    "forks",
    "git_commits",
    "git_refs",
    "git_tags",
    "hooks",
    "issue_comment",
    "issue_events",
    "issues",
    "keys",
    "labels",
    "languages",
    "merges",
    "milestones",
    "notifications",
    "pulls",
    "releases",
    "stargazers",
    "statuses",
    "subscribers",
    "subscription",
    "tags",
    "teams",
    "trees",
)
STATE_REASONS = ("completed", "not_planned", "reopened")


@dataclass
class Request:
    """One API call as the fake saw it (the `requests` log)."""

    method: str
    path: str
    query: dict[str, str]
    status: int


@dataclass
class _Fault:
    method: str
    path_regex: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    times: int = 1
    applied: bool = False  # do the call's work first, then answer with the fault anyway


def _sha(*parts: object) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default


class FakeGitHub:
    """A threaded HTTP server on 127.0.0.1 that answers like api.github.com for one repo."""

    def __init__(
        self,
        token: str = "test-token",
        repository: str = "acme/trips",
        *,
        login: str = BOT_LOGIN,
        host: str = "127.0.0.1",
        port: int = 0,
        path_prefix: str = "",
        rate_limit: int = 5000,
        state_path: str | Path | None = None,
    ) -> None:
        self.token, self.repository, self.login = token, repository, login
        self.path_prefix = path_prefix.rstrip("/")
        self.repo_id = zlib.crc32(repository.lower().encode()) % 10**8
        self.rate_limit, self.remaining = rate_limit, rate_limit
        self.reset_at = int(time.time()) + 3600
        self.requests: list[Request] = []
        self.state_path = Path(state_path) if state_path else None
        self._pulls: dict[int, dict[str, Any]] = {}
        self._comments: dict[int, dict[str, Any]] = {}
        self._issues: dict[int, dict[str, Any]] = {}
        self._commits: set[str] = set()
        self._messages: dict[str, str] = {}  # commit SHA -> message, for GET /commits/{sha}
        self._statuses: list[dict[str, Any]] = []
        self._files: dict[int, list[str]] = {}  # PR number -> changed paths
        self._pulls_lag = 0  # how many more commits/{sha}/pulls calls answer [] (GitHub's lag)
        self._runs: dict[int, dict[str, Any]] = {}
        self._faults: list[_Fault] = []
        self.trickle_s: float | None = None  # seconds between the bytes of every body
        self._next_id = 1_000_000_001
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        if self.state_path and self.state_path.exists():
            self._load(json.loads(self.state_path.read_text()))
        self.server = ThreadingHTTPServer((host, port), _Handler)
        self.server.fake = self  # type: ignore[attr-defined]
        self.url = f"http://{host}:{self.server.server_address[1]}{self.path_prefix}"

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> FakeGitHub:
        # Shutdown waits for the next poll, once per test: a 5 ms poll keeps that short.
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread:
            self.server.shutdown()
            self._thread.join()
        self.server.server_close()
        self.dump()

    # -- state for tests -------------------------------------------------------------------

    def add_pull(
        self,
        number: int,
        head_sha: str,
        state: str = "open",
        merged: bool = False,
        merge_commit_sha: str | None = None,
        head_ref: str | None = None,
        *,
        head_repo: str | None = None,
        user: str = "contributor",
        title: str | None = None,
        files: list[str] | None = None,
        labels: list[str] | tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Open (or record an already closed/merged) PR; `head_repo` other than ours = a fork.

        `files` are the paths the PR changes, as `GET /pulls/{n}/files` lists them.
        """
        with self._lock:
            now = _iso(time.time())
            self._pulls[number] = {
                "number": number,
                "head_sha": head_sha,
                "head_ref": head_ref or f"feature-{number}",
                "head_repo": head_repo or self.repository,
                "base_sha": _sha("base", number),
                "state": "closed" if merged else state,
                "merged_at": now if merged else None,
                "merge_commit_sha": merge_commit_sha or _sha("test-merge", number, head_sha),
                "user": user,
                "title": title or f"Change {number}",
                "created_at": now,
                "updated_at": now,
                "closed_at": now if merged or state == "closed" else None,
                "shas": [head_sha],
                "labels": list(labels),
            }
            self._commits.update({head_sha, self._pulls[number]["base_sha"]})
            self._files[number] = list(files) if files is not None else ["src/change.py"]
            if merged:
                self._commits.add(self._pulls[number]["merge_commit_sha"])
                self._messages.setdefault(
                    self._pulls[number]["merge_commit_sha"], self._merge_message(number)
                )
            self._changed()
            return self.pull(number)

    def set_head(self, number: int, head_sha: str) -> None:
        """A new push to the PR branch: the old head stays associated, the head moves."""
        with self._lock:
            pull = self._pulls[number]
            pull.update(head_sha=head_sha, updated_at=_iso(time.time()))
            pull["merge_commit_sha"] = _sha("test-merge", number, head_sha)
            pull["shas"].append(head_sha)
            self._commits.add(head_sha)
            self._changed()

    def merge_pull(self, number: int, merge_commit_sha: str, message: str | None = None) -> None:
        """Merge the PR; `commits/{merge_commit_sha}/pulls` then lists it, as on GitHub.

        `message` is the merge commit's message (default: GitHub's merge-commit wording).
        """
        with self._lock:
            self._messages[merge_commit_sha] = message or self._merge_message(number)
            now = _iso(time.time())
            self._pulls[number].update(
                state="closed", merged_at=now, closed_at=now, updated_at=now,
                merge_commit_sha=merge_commit_sha,
            )  # fmt: skip
            self._commits.add(merge_commit_sha)
            self._changed()

    def add_commit(self, sha: str, message: str = "Direct change") -> None:
        """A commit with no PR (e.g. a direct push to main)."""
        with self._lock:
            self._commits.add(sha)
            self._messages[sha] = message
            self._changed()

    def set_files(self, number: int, files: list[str]) -> None:
        """The paths PR `number` changes."""
        with self._lock:
            self._files[number] = list(files)
            self._changed()

    def lag_commit_pulls(self, times: int) -> None:
        """The next `times` calls of `commits/{sha}/pulls` answer `[]`, as GitHub does for a
        short while after a merge commit is pushed."""
        with self._lock:
            self._pulls_lag = int(times)
            self._changed()

    def statuses(self, sha: str) -> list[dict[str, Any]]:
        """The commit statuses of `sha`, newest first, as `GET /commits/{sha}/statuses`."""
        with self._lock:
            return [self._status_json(x) for x in reversed(self._statuses) if x["sha"] == sha]

    def _merge_message(self, number: int) -> str:
        pull = self._pulls[number]
        owner = pull["head_repo"].split("/")[0]
        return f"Merge pull request #{number} from {owner}/{pull['head_ref']}\n\n{pull['title']}"

    def add_comment(self, number: int, body: str, login: str = "octocat") -> dict[str, Any]:
        """Seed a comment as if `login` had written it."""
        with self._lock:
            if number not in self._pulls and number not in self._issues:
                raise KeyError(f"no PR or issue #{number}: add_pull or add_issue first")
            comment_id, self._next_id = self._next_id, self._next_id + 1
            now = _iso(time.time())
            self._comments[comment_id] = {
                "id": comment_id, "issue": number, "body": body, "login": login,
                "created_at": now, "updated_at": now,
            }  # fmt: skip
            self._changed()
            return self._comment_json(self._comments[comment_id])

    def add_issue(
        self,
        title: str,
        body: str | None = None,
        labels: list[str] | tuple[str, ...] = (),
        login: str = "octocat",
        state: str = "open",
        number: int | None = None,
    ) -> dict[str, Any]:
        """Open (or record an already closed) issue as if `login` had written it.

        Issues and PRs share one number sequence, as on GitHub.
        """
        with self._lock:
            number = number or self._next_number()
            if number in self._pulls or number in self._issues:
                raise ValueError(f"#{number} already exists")
            now = _iso(time.time())
            self._issues[number] = {
                "number": number, "title": title, "body": body, "login": login,
                "labels": list(dict.fromkeys(labels)), "state": state,
                "state_reason": "completed" if state == "closed" else None,
                "created_at": now, "updated_at": now,
                "closed_at": now if state == "closed" else None, "closed_by": None,
            }  # fmt: skip
            self._changed()
            return self.issue(number)

    def issue(self, number: int) -> dict[str, Any]:
        """An issue (or a PR, seen through the issues API) as `GET /issues/{n}` returns it."""
        with self._lock:
            if number in self._issues:
                return self._issue_json(self._issues[number])
            return self._pull_as_issue(self._pulls[number])

    def issues(self) -> list[dict[str, Any]]:
        """Every issue (not PRs), lowest number first."""
        with self._lock:
            return [self._issue_json(self._issues[n]) for n in sorted(self._issues)]

    def _next_number(self) -> int:
        return max([0, *self._pulls, *self._issues]) + 1

    def comments(self, number: int) -> list[dict[str, Any]]:
        """The PR's comments, oldest first, as the API returns them."""
        with self._lock:
            return [self._comment_json(c) for c in self._comments.values() if c["issue"] == number]

    def add_run(
        self,
        head_sha: str,
        *,
        pr: int | None = None,
        path: str = ".github/workflows/pr.yml",
        event: str = "pull_request",
        status: str = "completed",
        conclusion: str | None = "success",
        run_attempt: int = 1,
        run_id: int | None = None,
        head_repo: str | None = None,
    ) -> dict[str, Any]:
        """Record an Actions workflow run (as `GET /actions/runs/{id}` will return it)."""
        with self._lock:
            if run_id is None:
                run_id, self._next_id = self._next_id, self._next_id + 1
            now = _iso(time.time())
            self._runs[run_id] = {
                "id": run_id, "head_sha": head_sha, "pr": pr, "path": path, "event": event,
                "status": status, "conclusion": conclusion if status == "completed" else None,
                "run_attempt": run_attempt, "head_repo": head_repo or self.repository,
                "run_number": len(self._runs) + 1, "created_at": now, "updated_at": now,
            }  # fmt: skip
            self._commits.add(head_sha)
            self._changed()
            return self._run_json(self._runs[run_id])

    def set_run(self, run_id: int, **changes: Any) -> dict[str, Any]:
        """Change a recorded run: `status`, `conclusion`, `run_attempt` (a re-run), ..."""
        with self._lock:
            self._runs[run_id].update(changes, updated_at=_iso(time.time()))
            self._changed()
            return self._run_json(self._runs[run_id])

    def pull(self, number: int) -> dict[str, Any]:
        with self._lock:
            return self._pull_json(self._pulls[number], full=True)

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
        applied: bool = False,
    ) -> None:
        """Answer the next `times` matching calls (method or "*") with `status` instead.

        `applied=True` carries the call out before answering with the fault, as when a
        gateway times out after GitHub did the write (a 502/504 that still created a comment).
        """
        with self._lock:
            lowered = {k.lower(): str(v) for k, v in (headers or {}).items()}
            fault = _Fault(method.upper(), path_regex, status, lowered, body, times, applied)
            self._faults.append(fault)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "repository": self.repository,
                "next_id": self._next_id,
                "pulls": list(self._pulls.values()),
                "issues": list(self._issues.values()),
                "comments": list(self._comments.values()),
                "commits": sorted(self._commits),
                "messages": self._messages,
                "statuses": self._statuses,
                "files": {str(n): f for n, f in self._files.items()},
                "pulls_lag": self._pulls_lag,
                "runs": list(self._runs.values()),
                "requests": [asdict(r) for r in self.requests],
            }

    def dump(self, path: str | Path | None = None) -> None:
        """Write the state as JSON (atomically) to `path` or the configured state file."""
        target = Path(path) if path else self.state_path
        if target:
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_text(json.dumps(self.state(), indent=2))
            os.replace(tmp, target)

    def _load(self, state: dict[str, Any]) -> None:
        self._pulls = {p["number"]: p for p in state.get("pulls", [])}
        self._comments = {c["id"]: c for c in state.get("comments", [])}
        self._issues = {i["number"]: i for i in state.get("issues", [])}
        self._commits = set(state.get("commits", []))
        self._messages = dict(state.get("messages", {}))
        self._statuses = list(state.get("statuses", []))
        self._files = {int(n): f for n, f in state.get("files", {}).items()}
        self._pulls_lag = int(state.get("pulls_lag", 0))
        self._runs = {r["id"]: r for r in state.get("runs", [])}
        self._next_id = state.get("next_id", self._next_id)
        self.requests = [Request(**r) for r in state.get("requests", [])]

    def _changed(self) -> None:
        if self.state_path:
            self.dump()

    # -- JSON shapes -----------------------------------------------------------------------

    def _user(self, login: str) -> dict[str, Any]:
        user_id = 41898282 if login == BOT_LOGIN else zlib.crc32(login.encode()) % 10**8
        api = f"{self.url}/users/{login}"
        return {
            "login": login, "id": user_id, "node_id": f"U_{user_id}",
            "type": "Bot" if login.endswith("[bot]") else "User", "site_admin": False,
            "url": api, "html_url": f"https://github.com/{login}", "gravatar_id": "",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
            "events_url": api + "/events{/privacy}", "followers_url": api + "/followers",
            "following_url": api + "/following{/other_user}", "gists_url": api + "/gists{/gist_id}",
            "organizations_url": api + "/orgs", "received_events_url": api + "/received_events",
            "repos_url": api + "/repos", "starred_url": api + "/starred{/owner}{/repo}",
            "subscriptions_url": api + "/subscriptions",
        }  # fmt: skip

    def _repo(self, full_name: str) -> dict[str, Any]:
        repo_id = zlib.crc32(full_name.lower().encode()) % 10**8
        api = f"{self.url}/repos/{full_name}"
        repo = {
            "id": repo_id, "node_id": f"R_{repo_id}", "name": full_name.split("/")[1],
            "full_name": full_name, "private": False, "owner": self._user(full_name.split("/")[0]),
            "html_url": f"https://github.com/{full_name}", "url": api,
            "fork": full_name.lower() != self.repository.lower(), "description": None,
        }  # fmt: skip
        # The hypermedia links GitHub sends with every repository (the client reads none).
        repo |= {f"{name}_url": f"{api}/{name}" for name in REPO_LINKS}
        return repo | {
            "clone_url": f"https://github.com/{full_name}.git", "default_branch": "main",
            "git_url": f"git://github.com/{full_name}.git",
            "ssh_url": f"git@github.com:{full_name}.git",
            "svn_url": f"https://github.com/{full_name}", "mirror_url": None, "homepage": None,
            "language": "Python", "forks": 0, "forks_count": 0, "open_issues": 0,
            "open_issues_count": 0, "stargazers_count": 0, "watchers": 0, "watchers_count": 0,
            "size": 1, "has_downloads": True, "has_issues": True, "has_projects": False,
            "has_wiki": False, "has_pages": False, "archived": False, "disabled": False,
            "license": None, "pushed_at": "2024-01-01T00:00:00Z",
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
        }  # fmt: skip

    def _label(self, name: str) -> dict[str, Any]:
        label_id = zlib.crc32(name.lower().encode()) % 10**8
        return {
            "id": label_id, "node_id": f"LA_{label_id}",
            "url": f"{self.url}/repos/{self.repository}/labels/{quote(name)}", "name": name,
            "color": "ededed", "default": False, "description": None,
        }  # fmt: skip

    def _issue_json(self, i: dict[str, Any]) -> dict[str, Any]:
        n = i["number"]
        api = f"{self.url}/repos/{self.repository}/issues/{n}"
        return {
            "url": api, "repository_url": f"{self.url}/repos/{self.repository}",
            "labels_url": api + "/labels{/name}", "comments_url": api + "/comments",
            "events_url": api + "/events",
            "html_url": f"https://github.com/{self.repository}/issues/{n}",
            "id": 2 * 10**9 + n, "node_id": f"I_kwDO{n:x}", "number": n, "title": i["title"],
            "user": self._user(i["login"]), "labels": [self._label(x) for x in i["labels"]],
            "state": i["state"], "locked": False, "assignee": None, "assignees": [],
            "milestone": None, "comments": sum(c["issue"] == n for c in self._comments.values()),
            "created_at": i["created_at"], "updated_at": i["updated_at"],
            "closed_at": i["closed_at"],
            "closed_by": self._user(i["closed_by"]) if i["closed_by"] else None,
            "author_association": "NONE" if i["login"].endswith("[bot]") else "CONTRIBUTOR",
            "active_lock_reason": None, "body": i["body"], "state_reason": i["state_reason"],
            "performed_via_github_app": None,
        }  # fmt: skip

    def _pull_as_issue(self, p: dict[str, Any]) -> dict[str, Any]:
        """A PR as the issues API shows it: the issue shape plus a `pull_request` key."""
        n = p["number"]
        api = f"{self.url}/repos/{self.repository}/issues/{n}"
        html = f"https://github.com/{self.repository}/pull/{n}"
        return {
            "url": api, "repository_url": f"{self.url}/repos/{self.repository}",
            "labels_url": api + "/labels{/name}", "comments_url": api + "/comments",
            "events_url": api + "/events", "html_url": html,
            "id": 10**9 + n, "node_id": f"PR_kwDO{n:x}", "number": n, "title": p["title"],
            "user": self._user(p["user"]),
            "labels": [self._label(x) for x in p.get("labels", [])], "state": p["state"],
            "locked": False, "assignee": None, "assignees": [], "milestone": None,
            "comments": sum(c["issue"] == n for c in self._comments.values()),
            "created_at": p["created_at"], "updated_at": p["updated_at"],
            "closed_at": p["closed_at"], "author_association": "CONTRIBUTOR",
            "active_lock_reason": None, "body": None, "draft": False,
            "pull_request": {
                "url": f"{self.url}/repos/{self.repository}/pulls/{n}", "html_url": html,
                "diff_url": html + ".diff", "patch_url": html + ".patch",
                "merged_at": p["merged_at"],
            },
            "state_reason": None, "performed_via_github_app": None,
        }  # fmt: skip

    def _comment_json(self, c: dict[str, Any]) -> dict[str, Any]:
        kind = "issues" if c["issue"] in self._issues else "pull"
        return {
            "url": f"{self.url}/repos/{self.repository}/issues/comments/{c['id']}",
            "html_url": f"https://github.com/{self.repository}/{kind}/{c['issue']}"
            f"#issuecomment-{c['id']}",
            "issue_url": f"{self.url}/repos/{self.repository}/issues/{c['issue']}",
            "id": c["id"], "node_id": f"IC_kwDO{c['id']:x}", "user": self._user(c["login"]),
            "created_at": c["created_at"], "updated_at": c["updated_at"], "body": c["body"],
            "author_association": "NONE" if c["login"].endswith("[bot]") else "CONTRIBUTOR",
            "performed_via_github_app": None,
        }  # fmt: skip

    def _status_json(self, x: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"{self.url}/repos/{self.repository}/statuses/{x['sha']}",
            "avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4",
            "id": x["id"], "node_id": f"SC_kwDO{x['id']:x}", "state": x["state"],
            "description": x["description"], "target_url": x["target_url"],
            "context": x["context"], "created_at": x["created_at"],
            "updated_at": x["created_at"], "creator": self._user(self.login),
        }  # fmt: skip

    def _file_json(self, number: int, index: int, filename: str) -> dict[str, Any]:
        head = self._pulls[number]["head_sha"]
        blob = _sha("blob", number, filename)
        return {
            "sha": blob, "filename": filename, "status": "modified",
            "additions": 1, "deletions": 1, "changes": 2,
            "blob_url": f"https://github.com/{self.repository}/blob/{head}/{filename}",
            "raw_url": f"https://github.com/{self.repository}/raw/{head}/{filename}",
            "contents_url": f"{self.url}/repos/{self.repository}/contents/{filename}?ref={head}",
            "patch": f"@@ -{index + 1} +{index + 1} @@\n-old\n+new",
        }  # fmt: skip

    def _commit_json(self, sha: str) -> dict[str, Any]:
        tree, api = _sha("tree", sha), f"{self.url}/repos/{self.repository}"
        return {
            "url": f"{self.url}/repos/{self.repository}/commits/{sha}", "sha": sha,
            "node_id": f"C_kwDO{sha[:12]}",
            "html_url": f"https://github.com/{self.repository}/commit/{sha}",
            "comments_url": f"{self.url}/repos/{self.repository}/commits/{sha}/comments",
            "commit": {
                "url": f"{self.url}/repos/{self.repository}/git/commits/{sha}",
                "message": self._messages.get(sha, "Change"),
                "author": {"name": "Octo Cat", "email": "octocat@example.com",
                           "date": _iso(time.time())},
                "committer": {"name": "GitHub", "email": "noreply@github.com",
                              "date": _iso(time.time())},
                "tree": {"sha": tree, "url": f"{api}/git/trees/{tree}"},
                "comment_count": 0,
            },
            "author": self._user("octocat"), "committer": self._user("web-flow"),
            "parents": [], "files": [],
        }  # fmt: skip

    def _pull_json(self, p: dict[str, Any], *, full: bool) -> dict[str, Any]:
        n, owner = p["number"], self.repository.split("/")[0]
        api = f"{self.url}/repos/{self.repository}"
        head_owner = p["head_repo"].split("/")[0]
        pull = {
            "url": f"{api}/pulls/{n}",
            "id": 10**9 + n, "node_id": f"PR_kwDO{n:x}", "number": n,
            "html_url": f"https://github.com/{self.repository}/pull/{n}",
            "issue_url": f"{api}/issues/{n}",
            "state": p["state"], "locked": False, "title": p["title"], "body": None,
            "user": self._user(p["user"]), "draft": False, "author_association": "CONTRIBUTOR",
            "labels": [self._label(name) for name in p["labels"]], "assignee": None,
            "assignees": [], "milestone": None, "auto_merge": None,
            "comments_url": f"{api}/issues/{n}/comments",
            "commits_url": f"{api}/pulls/{n}/commits",
            "review_comments_url": f"{api}/pulls/{n}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "statuses_url": f"{api}/statuses/{p['head_sha']}",
            "diff_url": f"https://github.com/{self.repository}/pull/{n}.diff",
            "patch_url": f"https://github.com/{self.repository}/pull/{n}.patch",
            "_links": {
                rel: {"href": href} for rel, href in {
                    "self": f"{api}/pulls/{n}",
                    "html": f"https://github.com/{self.repository}/pull/{n}",
                    "issue": f"{api}/issues/{n}",
                    "comments": f"{api}/issues/{n}/comments",
                    "review_comments": f"{api}/pulls/{n}/comments",
                    "review_comment": f"{api}/pulls/comments{{/number}}",
                    "commits": f"{api}/pulls/{n}/commits",
                    "statuses": f"{api}/statuses/{p['head_sha']}",
                }.items()
            },
            "created_at": p["created_at"], "updated_at": p["updated_at"],
            "closed_at": p["closed_at"], "merged_at": p["merged_at"],
            "merge_commit_sha": p["merge_commit_sha"],
            "head": {
                "label": f"{head_owner}:{p['head_ref']}", "ref": p["head_ref"],
                "sha": p["head_sha"], "user": self._user(head_owner),
                "repo": self._repo(p["head_repo"]),
            },
            "base": {
                "label": f"{owner}:main", "ref": "main", "sha": p["base_sha"],
                "user": self._user(owner), "repo": self._repo(self.repository),
            },
        }  # fmt: skip
        if full:  # only GET /pulls/{n} has these, list endpoints return the "simple" shape
            merged = p["merged_at"] is not None
            pull.update(
                merged=merged, mergeable=None if merged else True, merged_by=None,
                comments=sum(c["issue"] == n for c in self._comments.values()),
                commits=len(p["shas"]), changed_files=len(self._files[n]),
                additions=len(self._files[n]), deletions=0, review_comments=0,
                maintainer_can_modify=False, rebaseable=None, mergeable_state="clean",
            )  # fmt: skip
        return pull

    def _run_json(self, r: dict[str, Any]) -> dict[str, Any]:
        """A workflow run, in the shape of GitHub's `GET /repos/{o}/{r}/actions/runs/{id}`."""
        run_id, base = r["id"], f"{self.url}/repos/{self.repository}/actions/runs/{r['id']}"
        workflow_id = zlib.crc32(r["path"].encode()) % 10**8
        head_repo = self._repo(r["head_repo"])
        pulls = []
        pull = self._pulls.get(r["pr"]) if r["pr"] is not None else None
        # GitHub lists the PR only when its head branch is in this repository (not for forks).
        if pull is not None and r["head_repo"].lower() == self.repository.lower():
            repo_ref = {"id": self.repo_id, "url": f"{self.url}/repos/{self.repository}",
                        "name": self.repository.split("/")[1]}  # fmt: skip
            entry = {
                "url": f"{self.url}/repos/{self.repository}/pulls/{pull['number']}",
                "id": 10**9 + pull["number"], "number": pull["number"],
                "head": {"ref": pull["head_ref"], "sha": r["head_sha"], "repo": repo_ref},
                "base": {"ref": "main", "sha": pull["base_sha"], "repo": repo_ref},
            }  # fmt: skip
            pulls.append(entry)
        actor = self._user(pull["user"] if pull else "contributor")
        person = {"name": "Octo Cat", "email": "octocat@example.com"}
        head_commit = {"id": r["head_sha"], "tree_id": _sha("tree", r["head_sha"]),
                       "message": "change", "timestamp": r["created_at"],
                       "author": person, "committer": person}  # fmt: skip
        previous = f"{base}/attempts/{r['run_attempt'] - 1}" if r["run_attempt"] > 1 else None
        run = {
            "id": run_id, "name": "PR" if r["path"].endswith("pr.yml") else r["path"],
            "node_id": f"WFR_kwLO{run_id:x}", "head_branch": pull["head_ref"] if pull else "main",
            "head_sha": r["head_sha"], "path": r["path"],
            "display_title": pull["title"] if pull else "push", "run_number": r["run_number"],
            "event": r["event"], "status": r["status"], "conclusion": r["conclusion"],
            "workflow_id": workflow_id, "check_suite_id": run_id + 7,
            "check_suite_node_id": f"CS_kwDO{run_id + 7:x}", "url": base,
            "html_url": f"https://github.com/{self.repository}/actions/runs/{run_id}",
            "pull_requests": pulls, "created_at": r["created_at"], "updated_at": r["updated_at"],
            "actor": actor, "triggering_actor": actor, "run_attempt": r["run_attempt"],
            "referenced_workflows": [], "run_started_at": r["created_at"],
            "jobs_url": f"{base}/jobs", "logs_url": f"{base}/logs",
            "check_suite_url": f"{self.url}/repos/{self.repository}/check-suites/{run_id + 7}",
            "artifacts_url": f"{base}/artifacts", "cancel_url": f"{base}/cancel",
            "rerun_url": f"{base}/rerun", "previous_attempt_url": previous,
            "workflow_url": f"{self.url}/repos/{self.repository}/actions/workflows/{workflow_id}",
            "head_commit": head_commit, "repository": self._repo(self.repository),
            "head_repository": head_repo,
        }  # fmt: skip
        return run

    # -- HTTP ------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-used": str(self.rate_limit - self.remaining),
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": "2022-11-28",
            "x-github-request-id": _sha(time.time(), len(self.requests))[:16].upper(),
        }

    def _handle(self, method: str, target: str, auth: str, raw: bytes) -> tuple[int, Any, dict]:
        split = urlsplit(target)
        path, query = split.path, {k: v[-1] for k, v in parse_qs(split.query).items()}
        with self._lock:
            if path.startswith("/_fake/"):
                return self._admin(method, path, raw)
            status, payload, extra = self._respond(method, path, query, auth, raw)
            self.requests.append(Request(method, path, query, status))
            self._changed()
            return status, payload, self._headers() | extra

    def _respond(
        self, method: str, path: str, query: dict[str, str], auth: str, raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        for fault in self._faults:
            if fault.method in ("*", method) and re.search(fault.path_regex, path):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                if fault.applied:
                    self._respond_normally(method, path, query, auth, raw)
                return fault.status, self._fault_body(fault), fault.headers
        return self._respond_normally(method, path, query, auth, raw)

    def _respond_normally(
        self, method: str, path: str, query: dict[str, str], auth: str, raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if not auth:
            return _error(401, "Requires authentication")
        scheme, _, credential = auth.partition(" ")
        if scheme.lower() not in ("bearer", "token") or credential.strip() != self.token:
            return _error(401, "Bad credentials")
        if time.time() >= self.reset_at:
            self.remaining, self.reset_at = self.rate_limit, int(time.time()) + 3600
        if self.remaining == 0:
            return _error(403, "API rate limit exceeded for installation.")
        self.remaining -= 1
        if not path.startswith(self.path_prefix + "/"):
            return _error(404, "Not Found")
        path = path[len(self.path_prefix) :]
        if m := re.fullmatch(r"/repositories/(\d+)(/.*)", path):
            path = f"/repos/{self.repository}{m[2]}" if int(m[1]) == self.repo_id else "/"
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)", path)
        if not m or m[1].lower() != self.repository.lower():
            return _error(404, "Not Found")
        return self._route(method, m[2], query, raw)

    def _route(
        self, method: str, rest: str, query: dict[str, str], raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        numbered = self._pulls.keys() | self._issues.keys()
        if (m := re.fullmatch(r"/issues/(\d+)/comments", rest)) and int(m[1]) in numbered:
            number = int(m[1])
            if method == "GET":
                return self._page(self.comments(number), rest, query)
            if method == "POST":
                body, problem = _comment_body(raw)
                if problem:
                    return problem
                return 201, self.add_comment(number, body, login=self.login), {}
        if (m := re.fullmatch(r"/issues/comments/(\d+)", rest)) and int(m[1]) in self._comments:
            comment = self._comments[int(m[1])]
            if method == "GET":
                return 200, self._comment_json(comment), {}
            if method == "PATCH":
                body, problem = _comment_body(raw)
                if problem:
                    return problem
                previous = datetime.fromisoformat(comment["updated_at"]).timestamp()
                comment.update(body=body, updated_at=_iso(max(time.time(), previous + 1)))
                return 200, self._comment_json(comment), {}
        if rest == "/issues" and method in ("GET", "POST"):
            return self._list_issues(rest, query) if method == "GET" else self._create_issue(raw)
        if (m := re.fullmatch(r"/issues/(\d+)", rest)) and int(m[1]) in numbered:
            if method == "GET":
                return 200, self.issue(int(m[1])), {}
            if method == "PATCH":
                return self._update_issue(int(m[1]), raw)
        m = re.fullmatch(r"/pulls/(\d+)", rest)
        if m and int(m[1]) in self._pulls and method == "GET":
            return 200, self._pull_json(self._pulls[int(m[1])], full=True), {}
        m = re.fullmatch(r"/pulls/(\d+)/files", rest)
        if m and int(m[1]) in self._pulls and method == "GET":
            number = int(m[1])
            listed = list(enumerate(self._files[number]))[:3000]  # GitHub lists at most 3,000
            status, chunk, headers = self._page(listed, rest, query)
            return status, [self._file_json(number, i, f) for i, f in chunk], headers
        if (m := re.fullmatch(r"/statuses/([^/]+)", rest)) and method == "POST":
            return self._create_status(m[1], raw)
        if (m := re.fullmatch(r"/commits/([^/]+)/statuses", rest)) and method == "GET":
            return self._page(self.statuses(m[1]), rest, query)
        if (m := re.fullmatch(r"/commits/([^/]+)", rest)) and method == "GET":
            if m[1] not in self._commits:
                return _error(422, f"No commit found for SHA: {m[1]}")
            return 200, self._commit_json(m[1]), {}
        m = re.fullmatch(r"/actions/runs/(\d+)", rest)
        if m and int(m[1]) in self._runs and method == "GET":
            return 200, self._run_json(self._runs[int(m[1])]), {}
        if (m := re.fullmatch(r"/commits/([^/]+)/pulls", rest)) and method == "GET":
            sha = m[1]
            if sha not in self._commits:
                return _error(422, f"No commit found for SHA: {sha}")
            if self._pulls_lag > 0:
                self._pulls_lag -= 1
                return 200, [], {}
            pulls = [
                self._pull_json(p, full=False)
                for p in self._pulls.values()
                if (sha in p["shas"] and (p["state"] == "open" or p["merged_at"]))
                or (p["merged_at"] and p["merge_commit_sha"] == sha)
            ]
            return self._page(pulls, rest, query)
        return _error(404, "Not Found")

    def _create_status(self, sha: str, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        """POST /statuses/{sha}, validated the way GitHub validates it."""
        if sha not in self._commits:
            return _error(422, f"No commit found for SHA: {sha}")
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"message": "Problems parsing JSON", "documentation_url": DOCS}, {}
        if not isinstance(data, dict) or data.get("state") not in STATUS_STATES:
            return _error(422, 'Invalid request.\n\nFor \'properties/state\', value is not one of '
                          f"{list(STATUS_STATES)}.")  # fmt: skip
        description = data.get("description")
        if isinstance(description, str) and len(description) > MAX_STATUS_DESCRIPTION:
            status, payload, headers = _error(422, "Validation Failed")
            error = {
                "resource": "Status", "code": "custom", "field": "description",
                "message": "description is too long (maximum is 140 characters)",
            }  # fmt: skip
            return status, payload | {"errors": [error]}, headers
        status_id, self._next_id = self._next_id, self._next_id + 1
        entry = {
            "id": status_id, "sha": sha, "state": data["state"], "description": description,
            "target_url": data.get("target_url"), "context": data.get("context") or "default",
            "created_at": _iso(time.time()),
        }  # fmt: skip
        self._statuses.append(entry)
        return 201, self._status_json(entry), {}

    def _list_issues(self, rest: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        """`GET /issues`: issues *and* PRs, filtered by state and (all of) labels, newest first."""
        state = query.get("state", "open")
        if state not in (*ISSUE_STATES, "all"):
            return _error(422, "Validation Failed")
        wanted = {x.strip().lower() for x in query.get("labels", "").split(",") if x.strip()}
        items = [self._issue_json(i) for i in self._issues.values()]
        items += [self._pull_as_issue(p) for p in self._pulls.values()]
        items = [
            item
            for item in items
            if (state == "all" or item["state"] == state)
            and wanted <= {label["name"].lower() for label in item["labels"]}
        ]
        if query.get("sort", "created") not in ("created", "updated", "comments"):
            return _error(422, "Validation Failed")
        key = {"created": "created_at", "updated": "updated_at"}.get(
            query.get("sort", "created"), "comments"
        )
        newest_first = query.get("direction", "desc") != "asc"
        items.sort(key=lambda item: (item[key], item["number"]), reverse=newest_first)
        return self._page(items, rest, query)

    def _create_issue(self, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        data, problem = _json_object(raw)
        if problem:
            return problem
        title = data.get("title")
        if not isinstance(title, str | int) or not str(title).strip():
            return _validation("Issue", "missing_field", "title")
        body, labels = data.get("body"), data.get("labels", [])
        if body is not None and not isinstance(body, str):
            return _validation("Issue", "invalid", "body")
        if body is not None and len(body) > MAX_BODY:
            return _validation("Issue", "custom", "body", f"body is too long (maximum is "
                               f"{MAX_BODY} characters)")  # fmt: skip
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            return _validation("Issue", "invalid", "labels")
        return 201, self.add_issue(str(title), body, labels, login=self.login), {}

    def _update_issue(self, number: int, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        data, problem = _json_object(raw)
        if problem:
            return problem
        state, reason = data.get("state"), data.get("state_reason")
        if state is not None and state not in ISSUE_STATES:
            return _validation("Issue", "invalid", "state")
        if reason is not None and reason not in STATE_REASONS:
            return _validation("Issue", "invalid", "state_reason")
        body = data.get("body")
        if body is not None and (not isinstance(body, str) or len(body) > MAX_BODY):
            return _validation("Issue", "invalid", "body")
        if number in self._pulls:  # PRs are edited through the issues API too; keep it simple
            return _error(422, "Editing pull requests through this fake is not supported")
        issue = self._issues[number]
        for name in ("title", "body"):
            if name in data:
                issue[name] = data[name]
        if isinstance(data.get("labels"), list):
            issue["labels"] = list(dict.fromkeys(str(x) for x in data["labels"]))
        now = _iso(max(time.time(), datetime.fromisoformat(issue["updated_at"]).timestamp() + 1))
        if state == "closed" and issue["state"] != "closed":
            issue.update(state="closed", closed_at=now, closed_by=self.login,
                         state_reason=reason or "completed")  # fmt: skip
        elif state == "open" and issue["state"] != "open":
            issue.update(state="open", closed_at=None, closed_by=None, state_reason="reopened")
        elif reason is not None:
            issue["state_reason"] = reason
        issue["updated_at"] = now
        return 200, self._issue_json(issue), {}

    def _page(
        self, items: list[Any], rest: str, query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        """One page of `items` plus a `Link` header shaped like GitHub's."""
        per_page = _number(query.get("per_page"), 30)
        per_page = min(per_page, 100) if per_page > 0 else 30
        page = max(_number(query.get("page"), 1), 1)
        last = max(math.ceil(len(items) / per_page), 1)
        kept = {k: v for k, v in query.items() if k != "page"}

        def link(number: int, rel: str) -> str:
            url = f"{self.url}/repositories/{self.repo_id}{rest}"
            return f'<{url}?{urlencode(kept | {"page": number})}>; rel="{rel}"'

        links = [link(page - 1, "prev")] if page > 1 else []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links.append(link(1, "first"))
        chunk = items[(page - 1) * per_page : page * per_page]
        return 200, chunk, {"link": ", ".join(links)} if links else {}

    def _fault_body(self, fault: _Fault) -> Any:
        if fault.body is not None:
            return fault.body
        message = HTTPStatus(fault.status).phrase
        if fault.headers.get("x-ratelimit-remaining") == "0":
            message = "API rate limit exceeded for installation."
        elif "retry-after" in fault.headers:
            message = "You have exceeded a secondary rate limit. Please wait a few minutes."
        return {"message": message, "documentation_url": DOCS, "status": str(fault.status)}

    def _admin(self, method: str, path: str, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        if path == "/_fake/state" and method == "GET":
            return 200, self.state(), {}
        if path == "/_fake/call" and method == "POST":
            call = json.loads(raw or b"{}")
            if call.get("method") not in ADMIN_METHODS:
                return 400, {"message": f"method must be one of {ADMIN_METHODS}"}, {}
            try:
                result = getattr(self, call["method"])(**call.get("kwargs", {}))
            except (KeyError, TypeError, ValueError) as exc:
                return 400, {"message": f"{type(exc).__name__}: {exc}"}, {}
            return 200, {"result": result}, {}
        return _error(404, "Not Found")


def _error(status: int, message: str) -> tuple[int, Any, dict[str, str]]:
    return status, {"message": message, "documentation_url": DOCS, "status": str(status)}, {}


def _json_object(raw: bytes) -> tuple[dict[str, Any], tuple[int, Any, dict[str, str]] | None]:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}, (400, {"message": "Problems parsing JSON", "documentation_url": DOCS}, {})
    if not isinstance(data, dict):
        return {}, (400, {"message": "Problems parsing JSON", "documentation_url": DOCS}, {})
    return data, None


def _validation(
    resource: str, code: str, field_name: str, message: str | None = None
) -> tuple[int, Any, dict[str, str]]:
    """A 422 "Validation Failed" with one entry in `errors`, as GitHub words them."""
    error: dict[str, Any] = {"resource": resource, "code": code, "field": field_name}
    if message:
        error["message"] = message
    status, payload, headers = _error(422, "Validation Failed")
    return status, payload | {"errors": [error]}, headers


def _comment_body(raw: bytes) -> tuple[str, tuple[int, Any, dict[str, str]] | None]:
    """The `body` of a create/edit request, or the error GitHub would answer with."""
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return "", (400, {"message": "Problems parsing JSON", "documentation_url": DOCS}, {})
    body = data.get("body") if isinstance(data, dict) else None
    if not isinstance(body, str):
        return "", _error(422, 'Invalid request.\n\n"body" wasn\'t supplied.')
    if len(body) > MAX_BODY:
        error = {
            "resource": "IssueComment", "code": "custom", "field": "body",
            "message": f"body is too long (maximum is {MAX_BODY} characters)",
        }  # fmt: skip
        status, payload, headers = _error(422, "Validation Failed")
        return "", (status, payload | {"errors": [error]}, headers)
    return body, None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body are two writes; with Nagle's algorithm the body waits for the
    # client's delayed ACK of the headers (40 ms a request on Linux), as GitHub's replies do not.
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return "GitHub.com"

    def _serve(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake: FakeGitHub = self.server.fake  # type: ignore[attr-defined]
        auth = self.headers.get("Authorization", "")
        status, payload, headers = fake._handle(self.command, self.path, auth, raw)
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (headers | {"content-type": "application/json; charset=utf-8"}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if fake.trickle_s is None:
            self.wfile.write(data)
            return
        for i in range(len(data)):  # a reply trickling in, one byte at a time (bounded)
            pause = fake.trickle_s
            if pause is None:  # trickling ended: send the rest at once
                self.wfile.write(data[i:])
                return
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            time.sleep(pause)

    # The names http.server dispatches on.
    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; the `requests` log records every call."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default="test-token")
    parser.add_argument("--repository", default="acme/trips")
    parser.add_argument("--login", default=BOT_LOGIN, help="author of comments made via the API")
    parser.add_argument("--prefix", default="", help="path prefix, e.g. /api/v3 as on GHES")
    parser.add_argument("--state", help="JSON file: loaded at start, rewritten on every change")
    args = parser.parse_args(argv)
    fake = FakeGitHub(
        args.token, args.repository, login=args.login, host=args.host, port=args.port,
        path_prefix=args.prefix, state_path=args.state,
    )  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(fake.url, flush=True)
    try:
        fake.server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        fake.close()


if __name__ == "__main__":
    main()
