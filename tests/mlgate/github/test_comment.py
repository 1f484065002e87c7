"""Sticky report comment and PR resolution, against the local fake GitHub API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.comment import (
    MARKER,
    MAX_COMMENT_CHARS,
    merged_pr_for_commit,
    resolve_pr_for_head,
    upsert_sticky_comment,
    with_marker,
)
from support.github_api import FakeGitHub

TOKEN = "ghs_commentTOKEN"
REPO = "acme/trips"
HEAD, NEWER, MERGE = "a" * 40, "b" * 40, "c" * 40


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPO) as fake:
        fake.add_pull(7, HEAD)
        yield fake


@pytest.fixture
def client(gh: FakeGitHub) -> GitHubClient:
    return GitHubClient(gh.url, TOKEN, REPO, sleep=lambda seconds: None)


def marked(gh: FakeGitHub, number: int = 7) -> list[dict]:
    return [c for c in gh.comments(number) if MARKER in c["body"]]


def writes(gh: FakeGitHub) -> list[str]:
    return [r.method for r in gh.requests if r.method != "GET"]


def test_busy_pr_keeps_exactly_one_report_comment(gh: FakeGitHub, client) -> None:
    for i in range(150):
        gh.add_comment(7, f"review remark {i}", login=f"reviewer{i % 3}")

    first = upsert_sticky_comment(client, 7, "## Report\nRMSE 6.1")
    second = upsert_sticky_comment(client, 7, "## Report\nRMSE 5.9")

    assert first.action == "created"
    assert second.action == "updated"
    assert second.comment_id == first.comment_id
    assert second.html_url == f"https://github.com/{REPO}/pull/7#issuecomment-{first.comment_id}"
    [report] = marked(gh)
    assert report["id"] == first.comment_id
    assert report["body"] == f"{MARKER}\n## Report\nRMSE 5.9"
    assert report["user"]["login"] == "github-actions[bot]"
    assert len(gh.comments(7)) == 151
    assert writes(gh) == ["POST", "PATCH"]
    pages = [r.query.get("page", "1") for r in gh.requests if r.method == "GET"]
    assert pages == ["1", "2", "1", "2"]  # every run read both pages


def test_marker_comment_on_a_later_page_is_updated_in_place(gh: FakeGitHub, client) -> None:
    for i in range(120):
        gh.add_comment(7, f"early {i}")
    old = gh.add_comment(7, with_marker("old report"), login="github-actions[bot]")
    for i in range(40):
        gh.add_comment(7, f"late {i}")

    result = upsert_sticky_comment(client, 7, "new report")

    assert (result.action, result.comment_id) == ("updated", old["id"])
    assert [c["body"] for c in marked(gh)] == [f"{MARKER}\nnew report"]
    assert writes(gh) == ["PATCH"]


def test_identical_body_sends_no_write(gh: FakeGitHub, client) -> None:
    created = upsert_sticky_comment(client, 7, "same")
    again = upsert_sticky_comment(client, 7, "same")

    assert again.action == "unchanged"
    assert again.comment_id == created.comment_id
    assert writes(gh) == ["POST"]


def test_marker_pasted_by_someone_else_is_not_hijacked(gh: FakeGitHub, client) -> None:
    pasted = gh.add_comment(7, f"{MARKER}\nlook, a report", login="mallory")

    result = upsert_sticky_comment(client, 7, "real report")

    assert result.action == "created"
    assert result.comment_id != pasted["id"]
    assert gh.comments(7)[0]["body"] == f"{MARKER}\nlook, a report"
    assert [c["user"]["login"] for c in marked(gh)] == ["mallory", "github-actions[bot]"]


def test_any_author_when_not_running_as_the_actions_bot(gh: FakeGitHub, client) -> None:
    gh.login = "ci-machine-user"  # e.g. a personal access token
    mine = gh.add_comment(7, with_marker("v1"), login="ci-machine-user")

    result = upsert_sticky_comment(client, 7, "v2", author=None)

    assert (result.action, result.comment_id) == ("updated", mine["id"])


def test_newest_marked_comment_wins(gh: FakeGitHub, client) -> None:
    bot = "github-actions[bot]"
    gh.add_comment(7, with_marker("stale duplicate"), login=bot)
    newest = gh.add_comment(7, with_marker("current"), login=bot)

    assert upsert_sticky_comment(client, 7, "next").comment_id == newest["id"]


def test_marker_is_added_once() -> None:
    assert with_marker("body") == f"{MARKER}\nbody"
    assert with_marker(f"body\n{MARKER}") == f"body\n{MARKER}"


@pytest.mark.parametrize(
    ("extra", "allowed"),
    [(0, True), (1, False)],
    ids=["at-limit", "one-over"],
)
def test_body_over_githubs_limit_is_refused(gh, client, extra: int, allowed: bool) -> None:
    body = "x" * (MAX_COMMENT_CHARS - len(with_marker("")) + extra)
    if allowed:
        assert upsert_sticky_comment(client, 7, body).action == "created"
        return
    with pytest.raises(GitHubError, match="65537 characters, over GitHub's limit of 65536"):
        upsert_sticky_comment(client, 7, body)
    assert gh.requests == []


# -- which PR does a workflow run belong to ----------------------------------------------


@pytest.mark.parametrize(
    ("head_sha", "hint", "expected", "reason"),
    [
        (HEAD, 7, 7, None),
        (NEWER, 7, None, "stale"),  # the PR moved on to another head
        (HEAD, 8, None, "stale"),  # the artifact names someone else's PR
        (HEAD, 99, None, "does not exist"),
        (HEAD, 0, None, "not a PR number"),
        (HEAD, None, 7, None),
        (NEWER, None, 8, None),
        ("d" * 40, None, None, "no open PR"),  # commit of a closed, unmerged PR
    ],
)
def test_resolve_pr_for_head(gh, client, head_sha, hint, expected, reason) -> None:
    gh.add_pull(8, NEWER)
    gh.add_pull(9, "d" * 40, state="closed")
    reasons: list[str] = []

    assert resolve_pr_for_head(client, head_sha, hint, explain=reasons.append) == expected
    if reason is None:
        assert reasons == []
    else:
        assert len(reasons) == 1
        assert reason in reasons[0]


def test_resolve_rejects_the_previous_head_after_a_new_push(gh, client) -> None:
    gh.set_head(7, NEWER)
    reasons: list[str] = []

    assert resolve_pr_for_head(client, HEAD, 7, explain=reasons.append) is None
    assert resolve_pr_for_head(client, HEAD, None, explain=reasons.append) is None
    assert resolve_pr_for_head(client, NEWER, None) == 7
    assert NEWER in reasons[0]


def test_resolve_accepts_fork_prs(gh: FakeGitHub, client) -> None:
    gh.add_pull(12, "e" * 40, head_repo="mallory/trips")
    assert resolve_pr_for_head(client, "e" * 40, 12) == 12
    assert resolve_pr_for_head(client, "e" * 40, None) == 12


def test_resolve_logs_when_no_explain_callback(gh, client, caplog) -> None:
    assert resolve_pr_for_head(client, NEWER, 7) is None
    assert "stale" in caplog.text


def test_resolve_surfaces_api_failures(gh: FakeGitHub) -> None:
    client = GitHubClient(gh.url, "ghs_wrong", REPO)
    with pytest.raises(GitHubError, match="401"):
        resolve_pr_for_head(client, HEAD, 7)


# -- push to main: which PR was merged ----------------------------------------------------


def test_merged_pr_found_by_its_merge_commit(gh: FakeGitHub, client) -> None:
    gh.set_head(7, NEWER)
    gh.merge_pull(7, MERGE)
    assert merged_pr_for_commit(client, MERGE) == (7, NEWER)


def test_merged_pr_found_by_association(gh: FakeGitHub, client) -> None:
    # A fast-forward style merge: main now points at the PR's own head commit.
    gh.merge_pull(7, MERGE)
    assert merged_pr_for_commit(client, HEAD) == (7, HEAD)


def test_exact_merge_commit_beats_other_associated_prs(gh: FakeGitHub, client) -> None:
    gh.add_pull(8, NEWER, merged=True, merge_commit_sha=HEAD)
    gh.merge_pull(7, MERGE)
    assert merged_pr_for_commit(client, HEAD) == (8, NEWER)


@pytest.mark.parametrize("sha", [HEAD, "f" * 40], ids=["open-pr-head", "direct-push"])
def test_no_merged_pr(gh: FakeGitHub, client, sha: str) -> None:
    gh.add_commit("f" * 40)
    assert merged_pr_for_commit(client, sha) is None
