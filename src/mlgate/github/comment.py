"""Sticky PR comment mechanics, and confirming which PR an (untrusted) workflow run belongs to.

The report is posted by a `workflow_run` workflow that trusts nothing the PR run uploaded, so
PR numbers are always re-checked against the API before anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from mlgate.github.client import GitHubClient, GitHubError
from mlgate.report.markdown import LEGACY_MARKERS, MARKER

MAX_COMMENT_CHARS = 65_536
BOT_LOGIN = "github-actions[bot]"
POST_ATTEMPTS = 3

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommentResult:
    """What `upsert_sticky_comment` did, and where the comment lives."""

    action: Literal["created", "updated", "unchanged"]
    comment_id: int
    html_url: str


def with_marker(body: str) -> str:
    """The body as posted: the hidden marker first, so the comment can be found again."""
    return body if MARKER in body else f"{MARKER}\n{body}"


def find_sticky_comment(
    client: GitHubClient, pr_number: int, *, author: str | None = BOT_LOGIN
) -> dict[str, Any] | None:
    """The newest marked comment by `author` (any author if None), reading every page."""
    found = None
    for comment in client.iter_issue_comments(pr_number):
        login = (comment.get("user") or {}).get("login")
        text = comment.get("body") or ""
        marked = any(marker in text for marker in (MARKER, *LEGACY_MARKERS))
        if marked and (author is None or login == author):
            found = comment
    return found


def upsert_sticky_comment(
    client: GitHubClient, pr_number: int, body: str, *, author: str | None = BOT_LOGIN
) -> CommentResult:
    """Create the report comment, or edit it in place so each PR carries exactly one.

    Only comments written by `author` count, so someone pasting the marker into their own
    comment cannot get the bot to overwrite it (the PATCH would fail anyway) or to go quiet.
    """
    body = with_marker(body)
    if len(body) > MAX_COMMENT_CHARS:
        raise GitHubError(
            f"report comment is {len(body)} characters, over GitHub's limit of "
            f"{MAX_COMMENT_CHARS}: shorten the report before posting"
        )
    existing = find_sticky_comment(client, pr_number, author=author)
    for attempt in range(POST_ATTEMPTS):
        if existing is not None:
            break
        try:
            created = client.create_issue_comment(pr_number, body)
        except GitHubError as exc:
            # A 5xx or a timeout may still have created the comment: look before posting again.
            why = f"POST comment on PR #{pr_number} may not have worked ({exc.status or exc})"
            last = attempt == POST_ATTEMPTS - 1
            if not exc.ambiguous or last or not client.pause(client.backoff * 2**attempt, why):
                raise
            existing = find_sticky_comment(client, pr_number, author=author)
            continue
        return CommentResult("created", created["id"], created.get("html_url", ""))
    assert existing is not None
    if _same(existing.get("body") or "", body):
        return CommentResult("unchanged", existing["id"], existing.get("html_url", ""))
    updated = client.update_issue_comment(existing["id"], body)
    return CommentResult("updated", updated["id"], updated.get("html_url", ""))


def resolve_pr_for_head(
    client: GitHubClient,
    head_sha: str,
    pr_hint: int | None,
    *,
    explain: Callable[[str], None] | None = None,
) -> int | None:
    """The open PR whose current head is `head_sha`, confirmed through the API.

    `pr_hint` comes from an artifact a fork may have forged, so it is only accepted when the
    PR's head really is `head_sha`; a mismatch also catches runs made stale by a newer push.
    Reasons for returning None go to `explain` (default: a logged warning).
    """
    say = explain or log.warning
    if pr_hint is not None:
        if pr_hint <= 0:
            say(f"ignoring PR hint {pr_hint!r}: not a PR number")
            return None
        try:
            pull = client.get_pull(pr_hint)
        except GitHubError as exc:
            if exc.status != 404:
                raise
            say(f"PR #{pr_hint} does not exist in {client.repository}")
            return None
        actual = (pull.get("head") or {}).get("sha")
        if actual != head_sha:
            say(
                f"PR #{pr_hint} head is {actual}, not {head_sha}: "
                "the run is stale (newer push) or the PR number is wrong"
            )
            return None
        return pr_hint
    candidates = [
        pull["number"]
        for pull in client.pulls_for_commit(head_sha)
        if pull.get("state") == "open"
        and (pull.get("head") or {}).get("sha") == head_sha
        and _in_repo(pull, client.repository)
    ]
    if not candidates:
        say(f"no open PR in {client.repository} has {head_sha} as its head")
        return None
    if len(candidates) > 1:
        say(f"several open PRs have head {head_sha}: {candidates}; using the newest")
    return max(candidates)


def merged_pr_for_commit(client: GitHubClient, sha: str) -> tuple[int, str] | None:
    """(PR number, the PR's final head SHA) for a commit that a merge put on the default branch.

    The PR whose merge commit is `sha` wins (merge, squash, or the tip of a rebase); otherwise
    the most recently merged PR associated with the commit. None for direct pushes.
    """
    merged = [
        pull
        for pull in client.pulls_for_commit(sha)
        if pull.get("merged_at") and _in_repo(pull, client.repository)
    ]
    if not merged:
        return None
    exact = [pull for pull in merged if pull.get("merge_commit_sha") == sha]
    pull = (exact or sorted(merged, key=lambda p: p["merged_at"]))[-1]
    return pull["number"], pull["head"]["sha"]


def _same(old: str, new: str) -> bool:
    """Compare bodies the way GitHub stores them (it may turn CRLF into LF)."""
    return old.replace("\r\n", "\n") == new.replace("\r\n", "\n")


def _in_repo(pull: dict[str, Any], repository: str) -> bool:
    """True unless the pull object says its base is another repository."""
    full_name = ((pull.get("base") or {}).get("repo") or {}).get("full_name")
    return full_name is None or full_name.lower() == repository.lower()
