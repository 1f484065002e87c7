"""Did a pull request change anything the model depends on?

A PR whose runs had no tracking credentials (a fork, or Dependabot without Dependabot
secrets) registers no candidate. Promotion must not fail main for it when the PR touched no
model input (a workflow bump, a docs fix), and must never skip one that did: the configured
`[tool.mlgate.promotion] model_inputs` globs decide, against the PR's changed files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache

from mlgate.github.client import GitHubClient


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regex: `**` spans folders, `*` and `?` stay within one path segment."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def matches(path: str, patterns: Iterable[str]) -> bool:
    """True if `path` (repository-relative, `/`-separated) matches one of the globs."""
    return any(_regex(p.strip("/")).fullmatch(path) for p in patterns)


LISTED_FILES_LIMIT = 3000  # GitHub's documented cap on `GET /pulls/{n}/files`


def changed_paths(client: GitHubClient, pr: int) -> list[str]:
    """Every path the PR adds, edits, deletes or renames (both names of a rename)."""
    return _listing(client, pr)[0]


def _listing(client: GitHubClient, pr: int) -> tuple[list[str], int]:
    """The PR's listed paths, and how many of its changed files GitHub left out of the
    listing (it lists at most 3,000), from the PR's own `changed_files` count."""
    paths: list[str] = []
    listed = 0
    for item in client.iter_pull_files(pr):
        listed += 1
        paths += [p for p in (item.get("filename"), item.get("previous_filename")) if p]
    total = client.get_pull(pr).get("changed_files")
    unlisted = total - listed if isinstance(total, int) and total > listed else 0
    return paths, unlisted


def model_inputs_changed(client: GitHubClient, pr: int, patterns: Sequence[str]) -> list[str]:
    """The PR's changed paths that are model inputs (empty: it cannot have changed the model).

    Fails closed: files GitHub did not list may be model inputs, so they count as one.
    """
    paths, unlisted = _listing(client, pr)
    touched = [path for path in paths if matches(path, patterns)]
    if unlisted and not touched:
        touched.append(
            f"{unlisted} changed files GitHub does not list (it lists at most "
            f"{LISTED_FILES_LIMIT:,} of a PR's files)"
        )
    return touched
