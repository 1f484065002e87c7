"""Which pull request a commit on main merged, even while GitHub's index is catching up.

`commits/{sha}/pulls` can answer `[]` for a short while after a merge commit is pushed, which
would look exactly like a direct push and silently skip the promotion. So the lookup is
retried with a bounded backoff, and then the merge commit's own message ("Merge pull request
#N", a squash's "(#N)") is used as a hint that GitHub must confirm: the hinted PR is only
accepted if it is merged and its `merge_commit_sha` is this very commit.
"""

from __future__ import annotations

import re

from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.comment import merged_pr_for_commit

LOOKUP_ATTEMPTS = 5  # with the client's 1 s backoff: waits of 1, 2, 4 and 8 s at most
_MERGE_COMMIT = re.compile(r"^Merge pull request #(\d+)\b")
_SQUASH = re.compile(r"\(#(\d+)\)\s*$")


class UnconfirmedMergeError(GitHubError):
    """The commit message names a PR, but GitHub confirms no PR merged this commit."""


def pr_numbers_in_message(message: str) -> list[int]:
    """PR numbers a merge ("Merge pull request #N from …") or squash ("Title (#N)") names."""
    first = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    return [int(m[1]) for m in (_MERGE_COMMIT.match(first), _SQUASH.search(first)) if m]


def find_merged_pr(
    client: GitHubClient, sha: str, *, attempts: int = LOOKUP_ATTEMPTS
) -> tuple[int, str] | None:
    """(PR number, its final head SHA) for a commit pushed to main; None for a direct push.

    Raises `UnconfirmedMergeError` when the message names a PR that GitHub does not confirm,
    rather than treating a merge as a direct push.
    """
    for attempt in range(attempts):
        found = merged_pr_for_commit(client, sha)
        if found is not None:
            return found
        last = attempt == attempts - 1
        why = (
            f"commits/{sha[:12]}/pulls lists no merged PR yet (attempt {attempt + 1}/{attempts}"
            ", GitHub may still be indexing the merge)"
        )
        if last or not client.pause(client.backoff * 2**attempt, why):
            break
    message = (client.get_commit(sha).get("commit") or {}).get("message") or ""
    hints = pr_numbers_in_message(message)
    for number in hints:
        confirmed = _confirmed(client, number, sha)
        if confirmed is not None:
            return confirmed
    if hints:
        named = ", ".join(f"#{n}" for n in hints)
        raise UnconfirmedMergeError(
            f"{sha[:12]}'s message names PR {named}, but GitHub confirms no merged PR with "
            f"this merge commit (commits/{sha[:12]}/pulls stays empty and the PR's "
            "merge_commit_sha differs): nothing promoted; re-run once GitHub has caught up"
        )
    return None


def _confirmed(client: GitHubClient, number: int, sha: str) -> tuple[int, str] | None:
    try:
        pull = client.get_pull(number)
    except GitHubError as exc:
        if exc.status == 404:
            return None
        raise
    base = ((pull.get("base") or {}).get("repo") or {}).get("full_name")
    if base is not None and base.lower() != client.repository.lower():
        return None
    if pull.get("merged_at") and pull.get("merge_commit_sha") == sha:
        return number, pull["head"]["sha"]
    return None
