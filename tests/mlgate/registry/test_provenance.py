"""Promotion's provenance check against the GitHub stand-in's Actions runs endpoint.

Each case forges or breaks one fact about a candidate's origin; each must be refused with one
line that names the version, while the honest candidate passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mlflow.entities.model_registry import ModelVersion, ModelVersionTag

from mlgate.github.client import GitHubClient, GitHubError
from mlgate.registry import provenance
from mlgate.registry.provenance import ProvenanceError
from support.github_api import FakeGitHub

TOKEN = "ghs_provenanceTOKEN"
REPO = "acme/trips"
HEAD = "c" * 40
OTHER = "d" * 40


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPO) as fake:
        fake.add_pull(7, HEAD)
        fake.add_pull(8, OTHER)
        yield fake


@pytest.fixture
def github(gh: FakeGitHub) -> GitHubClient:
    return GitHubClient(gh.url, TOKEN, REPO, max_retries=0)


def version(number: str, **tags: Any) -> ModelVersion:
    return ModelVersion(
        "candidates",
        number,
        0,
        tags=[ModelVersionTag(k, str(v)) for k, v in tags.items()],
    )


def claim(run: dict[str, Any], pr: int = 7, head: str = HEAD, attempt: int | None = None) -> dict:
    return {
        "pr_number": pr,
        "head_sha": head,
        "workflow_run_id": run["id"],
        "workflow_run_attempt": attempt or run["run_attempt"],
    }


def check(github: GitHubClient, candidate: ModelVersion, *others: ModelVersion) -> str:
    everyone = [candidate, *others]
    return provenance.verify(github, candidate, 7, HEAD, lambda _run: everyone)


def test_a_successful_pr_run_at_the_merged_head_passes(
    gh: FakeGitHub, github: GitHubClient
) -> None:
    run = gh.add_run(HEAD, pr=7)
    rerun_elsewhere = version("2", **claim(gh.add_run(HEAD, pr=7)))

    url = check(github, version("3", **claim(run)), rerun_elsewhere)

    assert url == run["html_url"]
    assert ("GET", f"/repos/{REPO}/actions/runs/{run['id']}") in {
        (r.method, r.path) for r in gh.requests
    }


Forgery = Callable[[FakeGitHub], ModelVersion]

CASES: dict[str, tuple[Forgery, str]] = {
    "no run recorded": (lambda gh: version("3", pr_number=7, head_sha=HEAD), "records no"),
    "tags name another PR": (
        lambda gh: version("3", **claim(gh.add_run(HEAD, pr=7), pr=8)),
        "another PR",
    ),
    "run of another workflow": (
        lambda gh: version("3", **claim(gh.add_run(HEAD, pr=7, path=".github/workflows/x.yml"))),
        "not .github/workflows/pr.yml",
    ),
    "run not on pull_request": (
        lambda gh: version("3", **claim(gh.add_run(HEAD, pr=7, event="push"))),
        "'push'",
    ),
    "run built another head": (
        lambda gh: version("3", **claim(gh.add_run(OTHER, pr=7))),
        "not the merged head",
    ),
    "run failed": (
        lambda gh: version("3", **claim(gh.add_run(HEAD, pr=7, conclusion="failure"))),
        "did not succeed (failure)",
    ),
    "run still going": (
        lambda gh: version("3", **claim(gh.add_run(HEAD, pr=7, status="in_progress"))),
        "did not succeed (in_progress)",
    ),
    "run re-run since": (
        lambda gh: version("3", **claim(gh.add_run(HEAD, pr=7, run_attempt=2), attempt=1)),
        "attempt 2, not 1",
    ),
    "run of another PR": (
        lambda gh: version("3", **claim(gh.add_run(HEAD, pr=8))),
        "for PR #8",
    ),
    "run unknown to GitHub": (
        lambda gh: version(
            "3", pr_number=7, head_sha=HEAD, workflow_run_id=424242, workflow_run_attempt=1
        ),
        "does not have",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_candidate_whose_origin_does_not_hold_is_refused_in_one_line(
    gh: FakeGitHub, github: GitHubClient, case: str
) -> None:
    forge, expected = CASES[case]
    with pytest.raises(ProvenanceError) as refused:
        check(github, forge(gh))
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("v3 (PR #7 at cccccccccccc)")
    assert expected in message
    assert message.endswith("not promoted")


def test_two_versions_claiming_one_run_attempt_are_both_refused(
    gh: FakeGitHub, github: GitHubClient
) -> None:
    run = gh.add_run(HEAD, pr=7)
    real, forged = version("3", **claim(run)), version("4", **claim(run))

    for candidate, other in ((real, forged), (forged, real)):
        with pytest.raises(ProvenanceError, match="claim the same Actions run"):
            check(github, candidate, other)


def test_a_run_in_another_repository_is_refused(gh: FakeGitHub) -> None:
    run = gh.add_run(HEAD, pr=7)
    run["repository"] = {**run["repository"], "full_name": "mallory/trips"}

    class Moved(GitHubClient):
        def get_workflow_run(self, run_id: int) -> dict[str, Any]:
            return run

    with pytest.raises(ProvenanceError, match="belongs to mallory/trips, not acme/trips"):
        check(Moved(gh.url, TOKEN, REPO), version("3", **claim(run)))


def test_github_errors_other_than_404_stay_github_errors(
    gh: FakeGitHub, github: GitHubClient
) -> None:
    run = gh.add_run(HEAD, pr=7)
    gh.fail_next("GET", r"/actions/runs/", 401)
    with pytest.raises(GitHubError, match="401"):
        check(github, version("3", **claim(run)))


def test_the_stand_in_hides_fork_prs_from_a_run_like_github(gh: FakeGitHub) -> None:
    gh.add_pull(9, "e" * 40, head_repo="fork/trips")
    run = gh.add_run("e" * 40, pr=9, head_repo="fork/trips")
    assert run["pull_requests"] == []
    assert run["head_repository"]["full_name"] == "fork/trips"
    assert run["repository"]["full_name"] == REPO
