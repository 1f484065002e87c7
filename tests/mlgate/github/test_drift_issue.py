"""The one `model-drift` issue, and the fake API's issue endpoints it relies on."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.issues import open_labelled_issues, sync_drift_issue
from mlgate.monitoring.document import ChampionRef, Check, DataRef, MonitoringReport
from mlgate.monitoring.markdown import MARKER
from support.github_api import FakeGitHub

TOKEN = "ghs_issueTOKEN"
REPO = "acme/trips"
LABEL = "model-drift"
TITLE = "Model drift detected"


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPO) as fake:
        yield fake


@pytest.fixture
def client(gh: FakeGitHub) -> GitHubClient:
    return GitHubClient(gh.url, TOKEN, REPO, sleep=lambda seconds: None)


@pytest.fixture
def monitoring() -> Callable[..., MonitoringReport]:
    """`monitoring(psi=0.05, month="2023-03")`: a report whose distance PSI is `psi`."""

    def make(psi: float = 0.05, month: str = "2023-03") -> MonitoringReport:
        def ref(role: str, origin: str) -> DataRef:
            return DataRef(
                role=role, path=f"data/{role}-{month}.parquet", digest=f"{role}-{month}",
                rows=1000, rows_raw=1050, origin=origin,
            )  # fmt: skip

        check = Check(
            kind="numeric", subject="trip_distance", test="PSI", statistic=psi,
            threshold=0.25, comparison="<", passed=psi < 0.25,
        )  # fmt: skip
        return MonitoringReport(
            generated_at=f"{month}-02T06:00:00Z",
            registered_model="trips",
            champion=ChampionRef(version="3", model_uri="models:/trips/3"),
            reference=ref("reference", "champion training data"),
            current=ref("current", "current"),
            checks=[check],
        )

    return make


def open_drift(gh: FakeGitHub) -> list[dict]:
    return [i for i in gh.issues() if i["state"] == "open" and LABEL in _names(i)]


def _names(issue: dict) -> list[str]:
    return [label["name"] for label in issue["labels"]]


def sync(client: GitHubClient, report: MonitoringReport):
    return sync_drift_issue(client, report, label=LABEL, title=TITLE)


def test_drift_opens_one_issue_then_updates_it_then_closes_it(
    gh: FakeGitHub, client: GitHubClient, monitoring: Callable[..., MonitoringReport]
) -> None:
    opened = sync(client, monitoring(psi=0.4, month="2023-03"))
    assert opened.action == "opened"
    [issue] = open_drift(gh)
    assert issue["number"] == opened.number
    assert issue["title"] == TITLE
    assert issue["body"].startswith(MARKER)
    assert "trip_distance: PSI 0.4 ≥ 0.25" in issue["body"]
    assert issue["user"]["login"] == "github-actions[bot]"

    again = sync(client, monitoring(psi=0.6, month="2023-04"))
    assert again.action == "updated"
    assert again.number == opened.number
    [issue] = open_drift(gh)
    assert "PSI 0.6 ≥ 0.25" in issue["body"]
    assert "2023-04" in issue["body"]
    assert "Still drifting" in gh.comments(opened.number)[-1]["body"]

    repeat = sync(client, monitoring(psi=0.6, month="2023-04"))
    assert repeat.action == "unchanged"

    closed = sync(client, monitoring(psi=0.01, month="2023-05"))
    assert closed.action == "closed"
    assert open_drift(gh) == []
    [issue] = gh.issues()
    assert issue["state"] == "closed"
    assert issue["state_reason"] == "completed"
    assert gh.comments(opened.number)[-1]["body"].startswith("Drift is gone")
    assert len(gh.issues()) == 1


def test_no_drift_and_no_issue_writes_nothing(
    gh: FakeGitHub, client: GitHubClient, monitoring: Callable[..., MonitoringReport]
) -> None:
    outcome = sync(client, monitoring(psi=0.01))
    assert outcome.action == "nothing"
    assert gh.issues() == []
    assert all(r.method == "GET" for r in gh.requests)


def test_a_labelled_pull_request_is_not_the_issue(
    gh: FakeGitHub, client: GitHubClient, monitoring: Callable[..., MonitoringReport]
) -> None:
    gh.add_pull(1, "a" * 40, labels=[LABEL])
    listed = list(client.iter_issues(labels=LABEL))
    assert [item["number"] for item in listed] == [1]
    assert "pull_request" in listed[0]

    outcome = sync(client, monitoring(psi=0.4))
    assert outcome.action == "opened"
    assert outcome.number == 2  # issues and PRs share one number sequence
    assert gh.comments(1) == []


def test_a_human_opened_labelled_issue_is_updated_not_duplicated(
    gh: FakeGitHub, client: GitHubClient, monitoring: Callable[..., MonitoringReport]
) -> None:
    human = gh.add_issue("Distances look odd", "see dashboard", labels=["Model-Drift", "bug"])
    gh.add_issue("Unrelated", labels=["bug"])
    outcome = sync(client, monitoring(psi=0.4))
    assert outcome.action == "updated"
    assert outcome.number == human["number"]
    assert len(gh.issues()) == 2


def test_the_issue_is_found_past_the_first_page(
    gh: FakeGitHub, client: GitHubClient, monitoring: Callable[..., MonitoringReport]
) -> None:
    first = sync(client, monitoring(psi=0.4))
    for i in range(130):
        gh.add_issue(f"newer issue {i}", labels=[LABEL] if i % 2 else ["question"])
    found = open_labelled_issues(client, LABEL)
    assert found[0]["number"] == first.number
    assert len(found) == 66
    pages = [r for r in gh.requests if r.path.endswith("/issues") and r.method == "GET"]
    assert len(pages) >= 1
    assert sync(client, monitoring(psi=0.7)).number == first.number


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "open"}, [3, 1]),
        ({"state": "closed"}, [2]),
        ({"state": "all"}, [3, 2, 1]),
        ({"state": "all", "labels": "a,b"}, [3]),
        ({"state": "all", "labels": "a"}, [3, 1]),
        ({"state": "all", "direction": "asc"}, [1, 2, 3]),
    ],
)
def test_fake_lists_issues_like_github(
    gh: FakeGitHub, query: dict[str, str], expected: list[int]
) -> None:
    gh.add_issue("one", labels=["a"])
    gh.add_issue("two", labels=["b"], state="closed")
    gh.add_issue("three", labels=["a", "b"])
    response = requests.get(
        f"{gh.url}/repos/{REPO}/issues",
        params=query,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    assert response.status_code == 200
    assert [item["number"] for item in response.json()] == expected


def test_fake_paginates_issue_lists(gh: FakeGitHub) -> None:
    for i in range(35):
        gh.add_issue(f"issue {i}")
    response = requests.get(
        f"{gh.url}/repos/{REPO}/issues", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    assert len(response.json()) == 30  # GitHub's default page size
    assert 'rel="next"' in response.headers["link"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/issues", {"body": "no title"}, 422),
        ("POST", "/issues", {"title": "t", "labels": "model-drift"}, 422),
        ("PATCH", "/issues/1", {"state": "resolved"}, 422),
        ("PATCH", "/issues/1", {"state": "closed", "state_reason": "fixed"}, 422),
        ("PATCH", "/issues/99", {"state": "closed"}, 404),
        ("GET", "/issues/99", None, 404),
    ],
)
def test_fake_rejects_what_github_rejects(
    gh: FakeGitHub, method: str, path: str, body: dict | None, status: int
) -> None:
    gh.add_issue("exists")
    response = requests.request(
        method,
        f"{gh.url}/repos/{REPO}{path}",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    assert response.status_code == status
    assert "message" in response.json()


def test_fake_needs_a_token_for_issues(gh: FakeGitHub) -> None:
    response = requests.get(f"{gh.url}/repos/{REPO}/issues", timeout=5)
    assert response.status_code == 401


def test_missing_issue_permission_is_explained(
    gh: FakeGitHub, client: GitHubClient, monitoring: Callable[..., MonitoringReport]
) -> None:
    gh.fail_next(
        "POST", r"/issues$", 403, body={"message": "Resource not accessible by integration"}
    )
    with pytest.raises(GitHubError, match=r"permissions: issues: write") as caught:
        sync(client, monitoring(psi=0.4))
    assert TOKEN not in str(caught.value)
    assert gh.issues() == []


def test_issue_listing_stops_after_its_page_budget(gh: FakeGitHub, client: GitHubClient) -> None:
    for i in range(250):
        gh.add_issue(f"issue {i}", labels=[LABEL])
    with pytest.raises(GitHubError, match=r"more than 2 pages of 100"):
        list(client.iter_issues(labels=LABEL, max_pages=2))
    assert len(list(client.iter_issues(labels=LABEL, max_pages=3))) == 250


@pytest.mark.parametrize("applied", [True, False], ids=["opened-anyway", "not-opened"])
@pytest.mark.parametrize("status", [500, 502])
def test_a_failed_issue_post_is_looked_up_before_posting_again(
    gh: FakeGitHub, client: GitHubClient, monitoring, status: int, applied: bool
) -> None:
    """A 5xx after GitHub opened the issue must not open a second one on the retry."""
    gh.fail_next("POST", r"/issues$", status, applied=applied)

    outcome = sync(client, monitoring(psi=0.4))

    assert outcome.action == "opened"
    assert len(open_drift(gh)) == 1
    assert outcome.number == open_drift(gh)[0]["number"]
    posts = [r for r in gh.requests if r.method == "POST"]
    assert len(posts) == (1 if applied else 2)
