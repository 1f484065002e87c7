"""Bounded GitHub calls: pagination that cannot loop, one wait budget per command, and a
comment POST that is never repeated blindly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.comment import upsert_sticky_comment
from mlgate.report.markdown import MARKER
from support.github_api import FakeGitHub

TOKEN = "ghs_limitsTOKENvalue0000"
REPO = "acme/trips"
HEAD = "b" * 40


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPO) as fake:
        fake.add_pull(7, HEAD)
        yield fake


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(gh: FakeGitHub, waits: list[float]) -> GitHubClient:
    return GitHubClient(gh.url, TOKEN, REPO, sleep=waits.append)


LISTINGS = {
    "comments": (r"/issues/7/comments$", "/issues/7/comments", lambda c: c.iter_issue_comments(7)),
    "commit-pulls": (
        rf"/commits/{HEAD}/pulls$",
        f"/commits/{HEAD}/pulls",
        lambda c: c.pulls_for_commit(HEAD),
    ),
}


@pytest.mark.parametrize("listing", sorted(LISTINGS))
def test_a_next_link_back_to_the_first_page_stops_at_once(
    gh: FakeGitHub, client: GitHubClient, listing: str
) -> None:
    regex, rest, call = LISTINGS[listing]
    link = f'<{gh.url}/repos/{REPO}{rest}?per_page=100>; rel="next"'
    gh.fail_next("GET", regex, 200, headers={"link": link}, body=[], times=10_000)

    with pytest.raises(GitHubError) as caught:
        list(call(client))

    assert "links back to a page already read" in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1
    assert len(gh.requests) == 1  # the first page's "next" is the page just read


@pytest.mark.parametrize("listing", sorted(LISTINGS))
def test_a_page_linking_to_itself_in_another_spelling_stops(
    gh: FakeGitHub, client: GitHubClient, listing: str
) -> None:
    regex, rest, call = LISTINGS[listing]
    to_two = f'<{gh.url}/repos/{REPO}{rest}?per_page=100&page=2>; rel="next"'
    host = gh.url.upper().replace("HTTP://", "http://")
    again = f'<{host}/repos/{REPO}{rest}?page=2&per_page=100>; rel="next"'
    gh.fail_next("GET", regex, 200, headers={"link": to_two}, body=[])
    gh.fail_next("GET", regex, 200, headers={"link": again}, body=[], times=10_000)

    with pytest.raises(GitHubError, match="links back to a page already read"):
        list(call(client))
    assert len(gh.requests) == 2


@pytest.mark.parametrize("listing", sorted(LISTINGS))
def test_pages_are_capped(gh: FakeGitHub, waits: list[float], listing: str) -> None:
    regex, rest, call = LISTINGS[listing]
    # Each answer links to a page never seen before: only the cap can stop this.
    for page in range(2, 12):
        link = f'<{gh.url}/repos/{REPO}{rest}?per_page=100&page={page}>; rel="next"'
        gh.fail_next("GET", regex, 200, headers={"link": link}, body=[])
    client = GitHubClient(gh.url, TOKEN, REPO, sleep=waits.append, max_pages=5)

    with pytest.raises(GitHubError, match=r"more than 5 pages of 100 \(max_pages=5\)"):
        list(call(client))
    assert len(gh.requests) == 5


def test_waits_are_capped_per_command_not_per_request(gh: FakeGitHub, waits: list[float]) -> None:
    """Three calls each answered once with `retry-after: 100` used to sleep 300 s in all."""
    client = GitHubClient(gh.url, TOKEN, REPO, sleep=waits.append, max_wait=150)
    pull = client.get_pull(7)
    for _ in range(3):  # each call: one 429, then the answer
        gh.fail_next("GET", r"/pulls/7$", 429, headers={"retry-after": "100"})
        gh.fail_next("GET", r"/pulls/7$", 200, body=pull)

    assert client.get_pull(7) == pull
    with pytest.raises(GitHubError) as caught:
        client.get_pull(7)

    assert waits == [100.0]
    assert sum(waits) <= client.max_wait
    message = str(caught.value)
    assert "rate limit" in message
    assert "max_wait=150" in message
    assert len(message.splitlines()) == 1


def marked(gh: FakeGitHub) -> list[dict]:
    return [c for c in gh.comments(7) if MARKER in c["body"]]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_post_that_failed_after_creating_the_comment_is_not_repeated(
    gh: FakeGitHub, client: GitHubClient, waits: list[float], status: int
) -> None:
    gh.fail_next("POST", r"/issues/7/comments$", status, applied=True)

    result = upsert_sticky_comment(client, 7, "report")

    assert len(marked(gh)) == 1
    assert result.comment_id == marked(gh)[0]["id"]
    assert result.action == "unchanged"
    posts = [r for r in gh.requests if r.method == "POST"]
    assert len(posts) == 1
    assert waits == [1.0]


def test_a_post_that_really_failed_is_sent_again_after_looking(
    gh: FakeGitHub, client: GitHubClient
) -> None:
    gh.fail_next("POST", r"/issues/7/comments$", 502)

    result = upsert_sticky_comment(client, 7, "report")

    assert result.action == "created"
    assert len(marked(gh)) == 1
    calls = [(r.method, r.status) for r in gh.requests]
    assert calls == [("GET", 200), ("POST", 502), ("GET", 200), ("POST", 201)]


def test_a_post_that_keeps_failing_gives_up_with_one_line(
    gh: FakeGitHub, client: GitHubClient
) -> None:
    gh.fail_next("POST", r"/issues/7/comments$", 503, times=10)

    with pytest.raises(GitHubError) as caught:
        upsert_sticky_comment(client, 7, "report")

    assert "503" in str(caught.value)
    assert len([r for r in gh.requests if r.method == "POST"]) == 3
    assert marked(gh) == []


@pytest.mark.parametrize(
    ("token", "message", "shown"),
    [
        ("x", "Max retries exceeded", "Max retries exceeded"),
        ("exceeded", "Max retries exceeded", "Max retries ***"),
        ("ghs_0123456789abcdef", "bad ghs_0123456789abcdef here", "bad *** here"),
        ("ghs_0123456789abcdef", "ghs_0123456789abcdefXYZ is another", "ghs_0123456789abcdefXYZ"),
    ],
    ids=["short-token-masks-nothing", "whole-word", "real-token", "longer-word-kept"],
)
def test_masking_hides_only_real_occurrences_of_a_real_token(
    token: str, message: str, shown: str
) -> None:
    client = GitHubClient("http://127.0.0.1:9", token, REPO)
    assert shown in client._scrub(message)
    if len(token) >= 8 and f" {token} " in f" {message} ":
        assert token not in client._scrub(message)
