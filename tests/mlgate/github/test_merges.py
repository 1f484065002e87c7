"""Finding the PR a commit on main merged while GitHub's `commits/{sha}/pulls` still lags."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgate.cli import main
from mlgate.github.client import GitHubClient
from mlgate.github.merges import (
    LOOKUP_ATTEMPTS,
    UnconfirmedMergeError,
    find_merged_pr,
    pr_numbers_in_message,
)
from support.github_api import FakeGitHub

TOKEN = "ghs_mergesTOKENvalue0000"
REPO = "acme/trips"
HEAD = "c" * 40
MERGE = "d" * 40
OTHER = "e" * 40


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPO) as fake:
        yield fake


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(gh: FakeGitHub, waits: list[float]) -> GitHubClient:
    return GitHubClient(gh.url, TOKEN, REPO, sleep=waits.append)


@pytest.mark.parametrize(
    ("message", "numbers"),
    [
        ("Merge pull request #12 from acme/feature-x\n\nBetter model", [12]),
        ("Lower alpha (#34)", [34]),
        ("Lower alpha (#34)\n\n* tune\n* (#99) in the body is not a hint", [34]),
        ("Merge pull request #5 from a/b (#6)", [5, 6]),
        ("Fix typo in README", []),
        ('Revert "Lower alpha (#34)"', []),
        ("", []),
    ],
)
def test_pr_numbers_in_message(message: str, numbers: list[int]) -> None:
    assert pr_numbers_in_message(message) == numbers


@pytest.mark.parametrize("lag", [1, LOOKUP_ATTEMPTS - 1])
def test_lagging_index_is_retried_with_backoff(gh, client, waits, lag: int) -> None:
    gh.add_pull(7, HEAD)
    gh.merge_pull(7, MERGE)
    gh.lag_commit_pulls(lag)

    assert find_merged_pr(client, MERGE) == (7, HEAD)
    assert waits == [2.0**i for i in range(lag)]


@pytest.mark.parametrize(
    "message", ["Merge pull request #7 from acme/feature-7\n\nChange 7", "Better model (#7)"]
)
def test_after_the_retries_the_message_hint_is_confirmed_by_the_api(
    gh, client, waits, message: str
) -> None:
    gh.add_pull(7, HEAD)
    gh.merge_pull(7, MERGE, message=message)
    gh.lag_commit_pulls(100)

    assert find_merged_pr(client, MERGE) == (7, HEAD)
    assert len(waits) == LOOKUP_ATTEMPTS - 1
    assert sum(waits) <= 15
    assert [r.path for r in gh.requests][-2:] == [
        f"/repos/{REPO}/commits/{MERGE}",
        f"/repos/{REPO}/pulls/7",
    ]


@pytest.mark.parametrize("case", ["not-merged", "merged-elsewhere", "no-such-pr"])
def test_a_hint_github_does_not_confirm_fails_instead_of_skipping(gh, client, case: str) -> None:
    if case == "not-merged":
        gh.add_pull(7, HEAD)
    elif case == "merged-elsewhere":
        gh.add_pull(7, HEAD, merged=True, merge_commit_sha=OTHER)
    gh.add_commit(MERGE, message="Merge pull request #7 from acme/feature-7")
    gh.lag_commit_pulls(100)

    with pytest.raises(UnconfirmedMergeError) as caught:
        find_merged_pr(client, MERGE)

    message = str(caught.value)
    assert "#7" in message
    assert "nothing promoted" in message
    assert len(message.splitlines()) == 1


def test_a_direct_push_is_still_a_direct_push(gh, client, waits) -> None:
    gh.add_commit(MERGE, message="Fix typo in README")

    assert find_merged_pr(client, MERGE) is None
    assert sum(waits) <= 15


def test_the_lag_wait_comes_out_of_the_command_budget(gh, waits) -> None:
    client = GitHubClient(gh.url, TOKEN, REPO, sleep=waits.append, max_wait=3)
    gh.add_pull(7, HEAD)
    gh.merge_pull(7, MERGE)
    gh.lag_commit_pulls(100)

    assert find_merged_pr(client, MERGE) == (7, HEAD)  # by the hint, after what the budget allows
    assert waits == [1.0, 2.0]


def test_promote_exits_non_zero_when_the_merge_cannot_be_confirmed(
    gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """It used to say "a direct push: nothing promoted" and exit 0."""
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    config = tmp_path / "mlgate.toml"
    config.write_text('[model]\nplugin = "support.diabetes:Diabetes"\n', encoding="utf-8")
    gh.add_commit(MERGE, message="Better model (#7)")
    gh.lag_commit_pulls(100)

    code = main(["--config", str(config), "promote", "--merge-commit", MERGE])

    out, err = capsys.readouterr()
    assert code == 1
    assert "direct push" not in out
    [line] = [line for line in err.splitlines() if not line.startswith("[")]  # not progress
    assert line.startswith("error: ")
    assert "#7" in line
    assert "attempt 4/5" in err  # it said what it was waiting for
    assert "nothing promoted" in (tmp_path / "summary.md").read_text(encoding="utf-8")
