"""GitHub under faults: credentials in retry lines, lines cut mid-word, secondary rate limits,
a PR longer than GitHub lists, replies that trickle or never come, a bad GITHUB_API_URL."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator

import pytest

from mlgate import progress
from mlgate.github.changes import model_inputs_changed
from mlgate.github.client import SECONDARY_LIMIT_WAIT, GitHubClient, GitHubError
from support.github_api import FakeGitHub

TOKEN = "ghs_faultsTOKENvalue00000000"
REPO = "acme/trips"
HEAD = "c" * 40


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPO) as fake:
        fake.add_pull(7, HEAD)
        yield fake
        fake.trickle_s = None


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """The progress lines a command prints, as stderr would show them."""
    stream = io.StringIO()
    progress.configure(quiet=False, stream=stream)
    yield stream
    progress.configure(quiet=False)


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        pytest.param(429, {"retry-after": "1"}, id="429"),
        pytest.param(500, {}, id="500"),
        pytest.param(502, {}, id="502"),
    ],
)
def test_a_token_echoed_by_a_failing_reply_reaches_no_retry_line(
    gh: FakeGitHub, lines: io.StringIO, waits: list[float], status: int, headers: dict
) -> None:
    body = {"message": f"upstream said: Authorization: Bearer {TOKEN} was rejected"}
    gh.fail_next("GET", r"/pulls/7$", status, headers=headers, body=body, times=10)
    client = GitHubClient(gh.url, TOKEN, REPO, sleep=waits.append)

    with pytest.raises(GitHubError) as caught:
        client.get_pull(7)

    shown = lines.getvalue()
    assert "attempt 1/5" in shown, "the retries are announced"
    assert TOKEN not in shown + str(caught.value)


def test_retry_lines_are_cut_at_a_word_boundary(
    gh: FakeGitHub, lines: io.StringIO, waits: list[float]
) -> None:
    words = [
        "Max",
        "retries",
        "exceeded",
        "with",
        "url",
        "because",
        "the",
        "upstream",
        "gateway",
        "kept",
        "resetting",
    ]
    message = " ".join(words * 3)
    gh.fail_next("GET", r"/pulls/7$", 502, body={"message": message}, times=2)
    client = GitHubClient(gh.url, TOKEN, REPO, sleep=waits.append)

    client.get_pull(7)

    retry_lines = [line for line in lines.getvalue().splitlines() if "(attempt" in line]
    assert len(retry_lines) == 2
    for line in retry_lines:
        shown = line.split("502 ", 1)[1].split(" (attempt", 1)[0]
        assert shown.endswith("\u2026"), line
        assert shown[:-1].split()[-1] in words, f"cut mid-word: {line}"


@pytest.mark.parametrize(
    ("status", "headers", "message", "expected"),
    [
        pytest.param(429, {}, "Too Many Requests", SECONDARY_LIMIT_WAIT, id="bare-429"),
        pytest.param(
            403, {}, "You have exceeded a secondary rate limit.", SECONDARY_LIMIT_WAIT,
            id="403-documented-wording",
        ),
        pytest.param(
            403, {}, "You have triggered an abuse detection mechanism.", SECONDARY_LIMIT_WAIT,
            id="403-other-wording",
        ),
        pytest.param(403, {"retry-after": "7"}, "slow down", 7.0, id="retry-after-wins"),
        pytest.param(
            429, {"retry-after": "soon"}, "Too Many Requests", SECONDARY_LIMIT_WAIT,
            id="unreadable-retry-after",
        ),
    ],
)  # fmt: skip
def test_secondary_rate_limits_wait_at_least_a_minute(
    gh: FakeGitHub, waits: list[float], status: int, headers: dict, message: str, expected: float
) -> None:
    gh.fail_next("GET", r"/pulls/7$", status, headers=headers, body={"message": message})
    client = GitHubClient(gh.url, TOKEN, REPO, sleep=waits.append)

    assert client.get_pull(7)["number"] == 7
    assert waits == [expected]


def test_rate_limit_waits_stop_at_the_total_github_wait(gh: FakeGitHub, waits: list[float]) -> None:
    gh.fail_next("GET", r"/pulls/7$", 429, body={"message": "Too Many Requests"}, times=10)
    client = GitHubClient(gh.url, TOKEN, REPO, sleep=waits.append)

    with pytest.raises(GitHubError) as caught:
        client.get_pull(7)

    assert sum(waits) <= client.max_wait
    assert "max_wait=120" in str(caught.value)


@pytest.mark.parametrize(
    ("files", "model_file", "unlisted"),
    [
        pytest.param(3001, None, True, id="3001-docs-only"),
        pytest.param(4500, None, True, id="4500-docs-only"),
        pytest.param(3000, None, False, id="3000-all-listed"),
        pytest.param(3001, 100, False, id="model-input-listed"),
    ],
)
def test_files_beyond_githubs_listing_count_as_model_inputs(
    gh: FakeGitHub, files: int, model_file: int | None, unlisted: bool
) -> None:
    paths = [f"docs/page-{i:04}.md" for i in range(files)]
    if model_file is not None:
        paths[model_file] = "src/green_taxi/features.py"
    gh.set_files(7, paths)
    client = GitHubClient(gh.url, TOKEN, REPO)

    touched = model_inputs_changed(client, 7, ["src/**"])

    if model_file is not None:
        assert touched == ["src/green_taxi/features.py"]
    elif unlisted:
        assert len(touched) == 1
        assert f"{files - 3000} changed files GitHub does not list" in touched[0]
    else:
        assert touched == []


@pytest.fixture
def silent_listener() -> Iterator[str]:
    """A port that accepts connections (the kernel completes them) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.mark.parametrize("fault", ["trickle", "never-answers"])
def test_a_github_that_stalls_is_a_bounded_wait_that_says_what_it_waits_for(
    gh: FakeGitHub, silent_listener: str, lines: io.StringIO, fault: str
) -> None:
    """Timeouts scaled down: 0.2 s per attempt, 3 attempts, real sleeps; bound = the budget."""
    url = silent_listener if fault == "never-answers" else gh.url
    gh.trickle_s = 0.05 if fault == "trickle" else None
    client = GitHubClient(url, TOKEN, REPO, timeout=0.2, max_retries=2, backoff=0.05, max_wait=10)

    started = time.monotonic()
    with pytest.raises(GitHubError) as caught:
        client.get_pull(7)
    took = time.monotonic() - started

    assert took < 3 * 0.2 + 0.05 + 0.1 + 2.0, "three bounded attempts and two short sleeps"
    assert "GET /repos/acme/trips/pulls/7" in str(caught.value)
    assert "(attempt 1/3)" in lines.getvalue(), "each retry says what it waits for"
    assert len(str(caught.value).splitlines()) == 1


def test_failed_attempts_count_against_the_total_wait(silent_listener: str) -> None:
    client = GitHubClient(
        silent_listener, TOKEN, REPO, timeout=0.1, max_retries=50, backoff=0.02, max_wait=0.4
    )

    started = time.monotonic()
    with pytest.raises(GitHubError):
        client.get_pull(7)

    assert time.monotonic() - started < 0.4 + 0.1 + 1.0, "50 attempts of 0.1 s would take 5 s"


@pytest.mark.parametrize(
    "api_url",
    ["http://[::1", "not a url", "ftp://github.example", "http://127.0.0.1:99999", ":99999"],
)
def test_a_bad_github_api_url_is_one_line_naming_it(
    api_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_API_URL", api_url)

    with pytest.raises(GitHubError) as caught:
        GitHubClient.from_env()

    message = str(caught.value)
    assert message.startswith("GITHUB_API_URL")
    assert "tracking" not in message
    assert len(message.splitlines()) == 1
