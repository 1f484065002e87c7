"""The GitHub client against the local fake API, and the fake's fidelity to GitHub itself."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mlgate.github.client import GitHubClient, GitHubError, parse_link_header
from support.github_api import FakeGitHub

TOKEN = "ghs_s3cretTOKENvalue"
REPO = "acme/trips"
NOW = 1_700_000_000.0
HEAD = "a" * 40


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
    return GitHubClient(gh.url, TOKEN, REPO, sleep=waits.append, clock=lambda: NOW)


def api_get(gh: FakeGitHub, path: str, token: str | None = TOKEN, **params: Any):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(gh.url + path, params=params, headers=headers, timeout=5)


# -- the client --------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "/api/v3"])
def test_iter_issue_comments_follows_links_across_all_pages(prefix: str) -> None:
    with FakeGitHub(token=TOKEN, repository=REPO, path_prefix=prefix) as gh:
        gh.add_pull(7, HEAD)
        for i in range(250):
            gh.add_comment(7, f"comment {i}")
        client = GitHubClient(gh.url + "/", TOKEN, REPO)

        bodies = [c["body"] for c in client.iter_issue_comments(7)]

        assert bodies == [f"comment {i}" for i in range(250)]
        linked = f"{prefix}/repositories/{gh.repo_id}/issues/7/comments"
        assert [(r.path, r.query) for r in gh.requests] == [
            (f"{prefix}/repos/{REPO}/issues/7/comments", {"per_page": "100"}),
            (linked, {"per_page": "100", "page": "2"}),
            (linked, {"per_page": "100", "page": "3"}),
        ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            '<https://api.github.com/repositories/1/issues?page=2>; rel="prev", '
            '<https://api.github.com/repositories/1/issues?page=4>; rel="next", '
            '<https://api.github.com/repositories/1/issues?page=9>; rel="last", '
            '<https://api.github.com/repositories/1/issues?page=1>; rel="first"',
            {
                "prev": "https://api.github.com/repositories/1/issues?page=2",
                "next": "https://api.github.com/repositories/1/issues?page=4",
                "last": "https://api.github.com/repositories/1/issues?page=9",
                "first": "https://api.github.com/repositories/1/issues?page=1",
            },
        ),
        ("<https://h/x?a=1&page=2>;rel=next", {"next": "https://h/x?a=1&page=2"}),
        ('<https://h/x?page=3> ; title="t"; rel="next last"', {"next": "https://h/x?page=3",
                                                                "last": "https://h/x?page=3"}),
        ("", {}),
        (None, {}),
    ],
)  # fmt: skip
def test_parse_link_header(header: str | None, expected: dict[str, str]) -> None:
    assert parse_link_header(header) == expected


def test_pagination_link_to_another_host_is_not_followed(gh: FakeGitHub, client) -> None:
    link = '<https://elsewhere.example/steal?page=2>; rel="next"'
    gh.fail_next("GET", r"/issues/7/comments$", 200, headers={"link": link}, body=[])
    with pytest.raises(GitHubError, match="refusing to follow"):
        list(client.iter_issue_comments(7))


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_with_backoff(gh, client, waits, status: int) -> None:
    gh.fail_next("GET", r"/pulls/7$", status, times=2)

    assert client.get_pull(7)["head"]["sha"] == HEAD
    assert waits == [1.0, 2.0]
    assert [r.status for r in gh.requests] == [status, status, 200]


def test_connection_errors_are_retried(gh: FakeGitHub, waits: list[float]) -> None:
    class DropsFirstCall(requests.Session):
        dropped = False

        def request(self, *args: Any, **kwargs: Any) -> requests.Response:
            if not self.dropped:
                self.dropped = True
                raise requests.ConnectionError("Connection reset by peer")
            return super().request(*args, **kwargs)

    client = GitHubClient(gh.url, TOKEN, REPO, DropsFirstCall(), sleep=waits.append)
    assert client.get_pull(7)["number"] == 7
    assert waits == [1.0]


@pytest.mark.parametrize("status", [403, 429])
def test_primary_rate_limit_waits_until_reset(gh, client, waits, status: int) -> None:
    reset = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 30)}
    gh.fail_next("GET", r"/pulls/7$", status, headers=reset)

    assert client.get_pull(7)["number"] == 7
    assert waits == [31.0]  # until the reset, plus a second for clock skew


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_honours_retry_after(gh, client, waits, status: int) -> None:
    gh.fail_next("POST", r"/issues/7/comments$", status, headers={"retry-after": "7"})

    assert client.create_issue_comment(7, "hi")["body"] == "hi"
    assert waits == [7.0]
    assert len(gh.comments(7)) == 1


def test_rate_limit_beyond_max_wait_fails_at_once(gh, client, waits) -> None:
    reset = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 3600)}
    gh.fail_next("GET", r"/pulls/7$", 403, headers=reset)

    with pytest.raises(GitHubError) as caught:
        client.get_pull(7)

    message = str(caught.value)
    assert "rate limit" in message
    assert "2023-11-14T23:13:20Z (in 3601 s)" in message
    assert "max_wait=120" in message
    assert caught.value.status == 403
    assert waits == []
    assert len(gh.requests) == 1


def test_retries_are_bounded_in_count(gh, waits) -> None:
    gh.fail_next("GET", r"/pulls/7$", 502, times=10)
    client = GitHubClient(gh.url, TOKEN, REPO, max_retries=3, sleep=waits.append)

    with pytest.raises(GitHubError, match=r"GET /repos/acme/trips/pulls/7 .* 4 attempts: 502"):
        client.get_pull(7)
    assert waits == [1.0, 2.0, 4.0]
    assert len(gh.requests) == 4


def test_retries_are_bounded_in_total_wait(gh, waits) -> None:
    gh.fail_next("GET", r"/pulls/7$", 503, times=10)
    client = GitHubClient(gh.url, TOKEN, REPO, max_retries=10, max_wait=5, sleep=waits.append)

    with pytest.raises(GitHubError, match="503") as caught:
        client.get_pull(7)
    assert waits == [1.0, 2.0]  # the next wait (4 s) would exceed max_wait
    assert caught.value.status == 503


def error_for(call) -> GitHubError:
    with pytest.raises(GitHubError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize(
    ("scenario", "status", "expected"),
    [
        ("bad-token", 401, "GitHub rejected the token (401 Bad credentials): check GITHUB_TOKEN"),
        ("forbidden", 403, "Resource not accessible by integration"),
        ("missing-pr", 404, "/repos/acme/trips/pulls/99"),
        ("too-long", 422, "body is too long (maximum is 65536 characters)"),
    ],
)
def test_errors_are_one_clear_line(gh, waits, scenario: str, status: int, expected: str) -> None:
    token = "ghs_wrongTOKEN" if scenario == "bad-token" else TOKEN
    client = GitHubClient(gh.url, token, REPO, sleep=waits.append)
    if scenario == "forbidden":
        body = {"message": "Resource not accessible by integration", "documentation_url": "x"}
        gh.fail_next("POST", r"/comments$", 403, body=body)
    calls = {
        "bad-token": lambda: client.get_pull(7),
        "forbidden": lambda: client.create_issue_comment(7, "hi"),
        "missing-pr": lambda: client.get_pull(99),
        "too-long": lambda: client.create_issue_comment(7, "x" * 65_537),
    }

    error = error_for(calls[scenario])

    assert error.status == status
    assert expected in str(error)
    assert "\n" not in str(error)
    assert token not in str(error)
    assert token not in repr(error)
    assert token not in repr(client)
    assert waits == []  # none of these is worth retrying
    if status == 403:
        assert "pull-requests: write" in str(error)
    if status == 401:
        assert str(error) == expected


def test_token_is_scrubbed_even_if_github_echoes_it(gh, client) -> None:
    gh.fail_next("GET", r"/pulls/7$", 400, body={"message": f"bad header Bearer {TOKEN}\nx"})
    error = error_for(lambda: client.get_pull(7))
    assert TOKEN not in str(error)
    assert "***" in str(error)
    assert "\n" not in str(error)


def test_pulls_for_commit_and_unknown_commit(gh, client) -> None:
    assert [p["number"] for p in client.pulls_for_commit(HEAD)] == [7]
    error = error_for(lambda: client.pulls_for_commit("f" * 40))
    assert error.status == 422
    assert "No commit found for SHA" in str(error)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"GITHUB_REPOSITORY": REPO}, "GITHUB_TOKEN"),
        ({"GITHUB_TOKEN": TOKEN}, "GITHUB_REPOSITORY"),
        ({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "not-a-repo"}, "owner/name"),
    ],
)
def test_from_env_names_the_missing_variable(monkeypatch, env: dict, problem: str) -> None:
    for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_API_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(GitHubError, match=problem) as caught:
        GitHubClient.from_env()
    assert TOKEN not in str(caught.value)


def test_from_env_reads_the_actions_variables(monkeypatch, gh: FakeGitHub) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    assert GitHubClient.from_env().api_url == "https://api.github.com"

    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    client = GitHubClient.from_env()
    assert client.get_pull(7)["number"] == 7
    assert TOKEN not in repr(client)


# -- the fake behaves like GitHub --------------------------------------------------------


def test_fake_paginates_like_github(gh: FakeGitHub) -> None:
    for i in range(130):
        gh.add_comment(7, f"c{i}")
    base = f"{gh.url}/repositories/{gh.repo_id}/issues/7/comments"

    first = api_get(gh, f"/repos/{REPO}/issues/7/comments")
    assert len(first.json()) == 30  # GitHub's default page size
    assert first.headers["Link"] == (f'<{base}?page=2>; rel="next", <{base}?page=5>; rel="last"')

    middle = api_get(gh, f"/repositories/{gh.repo_id}/issues/7/comments", per_page=50, page=2)
    assert [c["body"] for c in middle.json()] == [f"c{i}" for i in range(50, 100)]
    assert middle.headers["Link"] == (
        f'<{base}?per_page=50&page=1>; rel="prev", <{base}?per_page=50&page=3>; rel="next", '
        f'<{base}?per_page=50&page=3>; rel="last", <{base}?per_page=50&page=1>; rel="first"'
    )

    capped = api_get(gh, f"/repos/{REPO}/issues/7/comments", per_page=500)
    assert len(capped.json()) == 100
    assert 'rel="prev"' not in capped.headers["Link"]

    gh.add_pull(8, "b" * 40)
    single = api_get(gh, f"/repos/{REPO}/issues/8/comments")
    assert single.json() == []
    assert "Link" not in single.headers


@pytest.mark.parametrize(
    ("token", "message"), [(None, "Requires authentication"), ("nope", "Bad credentials")]
)
def test_fake_rejects_bad_auth_like_github(gh, token: str | None, message: str) -> None:
    response = api_get(gh, f"/repos/{REPO}/pulls/7", token=token)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["message"] == message
    assert response.json()["documentation_url"].startswith("https://docs.github.com/")
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= {
        name.lower() for name in response.headers
    }


def test_fake_enforces_its_primary_rate_limit(waits: list[float]) -> None:
    with FakeGitHub(token=TOKEN, repository=REPO, rate_limit=2) as gh:
        gh.add_pull(7, HEAD)
        assert api_get(gh, f"/repos/{REPO}/pulls/7").headers["x-ratelimit-remaining"] == "1"
        assert api_get(gh, f"/repos/{REPO}/pulls/7").headers["x-ratelimit-used"] == "2"
        limited = api_get(gh, f"/repos/{REPO}/pulls/7")
        assert limited.status_code == 403
        assert limited.headers["x-ratelimit-remaining"] == "0"
        assert "rate limit exceeded" in limited.json()["message"]

        client = GitHubClient(gh.url, TOKEN, REPO, max_wait=60, sleep=waits.append)
        with pytest.raises(GitHubError, match=r"rate limit .* it lifts at \S+Z \(in \d+ s\)"):
            client.get_pull(7)
        assert waits == []


@pytest.mark.parametrize(
    "path",
    ["/repos/acme/other/pulls/7", f"/repos/{REPO}/pulls/99", f"/repos/{REPO}/issues/99/comments",
     f"/repos/{REPO}/issues/comments/123", "/repositories/1/issues/7/comments"],
)  # fmt: skip
def test_fake_404s_unknown_things(gh: FakeGitHub, path: str) -> None:
    response = api_get(gh, path)
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"


def test_fake_comment_objects_look_like_githubs(gh: FakeGitHub) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/vnd.github+json"}
    url = f"{gh.url}/repos/{REPO}/issues/7/comments"
    first = requests.post(url, json={"body": "one"}, headers=headers, timeout=5)
    second = requests.post(url, json={"body": "two"}, headers=headers, timeout=5)
    assert (first.status_code, second.status_code) == (201, 201)
    comment = first.json()
    assert second.json()["id"] > comment["id"]
    assert comment["html_url"] == f"https://github.com/{REPO}/pull/7#issuecomment-{comment['id']}"
    assert comment["user"] == comment["user"] | {"login": "github-actions[bot]", "type": "Bot"}
    assert comment["created_at"].endswith("Z")
    assert {"node_id", "url", "issue_url", "author_association", "updated_at"} <= comment.keys()

    edited = requests.patch(comment["url"], json={"body": "uno"}, headers=headers, timeout=5)
    assert edited.status_code == 200
    assert edited.json()["body"] == "uno"
    assert edited.json()["created_at"] == comment["created_at"]
    assert edited.json()["updated_at"] > comment["updated_at"]

    for payload, message in [({}, "wasn't supplied"), ({"body": "x" * 65_537}, "Validation")]:
        rejected = requests.post(url, json=payload, headers=headers, timeout=5)
        assert rejected.status_code == 422
        assert message in rejected.json()["message"]
    assert requests.post(url, json={"body": "x" * 65_536}, headers=headers, timeout=5).ok


def test_fake_pull_shapes(gh: FakeGitHub) -> None:
    gh.add_pull(9, "c" * 40, head_repo="mallory/trips", head_ref="patch-1")
    full = api_get(gh, f"/repos/{REPO}/pulls/9").json()
    assert full["merged"] is False
    assert full["head"]["repo"]["full_name"] == "mallory/trips"
    assert full["head"]["ref"] == "patch-1"
    assert full["base"]["repo"]["full_name"] == REPO

    gh.merge_pull(9, "d" * 40)
    listed = api_get(gh, f"/repos/{REPO}/commits/{'d' * 40}/pulls").json()
    assert [p["number"] for p in listed] == [9]
    assert "merged" not in listed[0]  # list endpoints return the simple shape
    assert listed[0]["merged_at"].endswith("Z")
    assert listed[0]["merge_commit_sha"] == "d" * 40


def test_fake_runs_as_a_separate_process_and_dumps_state(tmp_path) -> None:
    state = tmp_path / "state.json"
    root = Path(__file__).resolve().parents[3]
    command = [sys.executable, "-m", "tests.support.github_api", "--port", "0", "--token", TOKEN,
               "--repository", REPO, "--state", str(state)]  # fmt: skip
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        call = {"method": "add_pull", "kwargs": {"number": 3, "head_sha": HEAD}}
        assert requests.post(f"{url}/_fake/call", json=call, timeout=5).ok
        client = GitHubClient(url, TOKEN, REPO)
        client.create_issue_comment(3, "from another process")
        remote = requests.get(f"{url}/_fake/state", timeout=5).json()
        assert [c["body"] for c in remote["comments"]] == ["from another process"]
    finally:
        process.terminate()
        process.wait(timeout=5)
        process.stdout.close()
    saved = json.loads(state.read_text())
    assert saved["comments"][0]["login"] == "github-actions[bot]"
    assert [r["method"] for r in saved["requests"]] == ["POST"]
