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


def changed_paths(client: GitHubClient, pr: int) -> list[str]:
    """Every path the PR adds, edits, deletes or renames (both names of a rename)."""
    paths: list[str] = []
    for item in client.iter_pull_files(pr):
        paths += [p for p in (item.get("filename"), item.get("previous_filename")) if p]
    return paths


def model_inputs_changed(client: GitHubClient, pr: int, patterns: Sequence[str]) -> list[str]:
    """The PR's changed paths that are model inputs (empty: it cannot have changed the model)."""
    return [path for path in changed_paths(client, pr) if matches(path, patterns)]
