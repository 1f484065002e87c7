"""The `model-gate` commit status: the fake's statuses endpoint, the verdict, the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mlgate.cli import main
from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.status import CONTEXT, MAX_DESCRIPTION, set_model_gate, verdict
from mlgate.report.document import Report, Status
from mlgate.report.markdown import MARKER
from support.github_api import FakeGitHub
from support.reports import make_report

TOKEN = "ghs_gateTOKENvalue000000"
REPO = "acme/trips"
HEAD = "1234567890abcdef1234567890abcdef12345678"
PR = 7
RUN_URL = f"https://github.com/{REPO}/actions/runs/77"


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPO) as fake:
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
        fake.add_pull(PR, HEAD, files=["src/my_model/features.py"])
        yield fake


@pytest.fixture
def client(gh: FakeGitHub) -> GitHubClient:
    return GitHubClient(gh.url, TOKEN, REPO, sleep=lambda _: None)


# -- the fake's statuses endpoint, shaped like GitHub's ------------------------------------


def post_status(gh: FakeGitHub, sha: str, body: dict) -> requests.Response:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return requests.post(
        f"{gh.url}/repos/{REPO}/statuses/{sha}", json=body, headers=headers, timeout=5
    )


def test_fake_status_objects_look_like_githubs(gh: FakeGitHub) -> None:
    body = {"state": "success", "target_url": RUN_URL, "description": "ok", "context": CONTEXT}

    answer = post_status(gh, HEAD, body)

    assert answer.status_code == 201
    status = answer.json()
    assert {k: status[k] for k in body} == body
    for key in ("url", "avatar_url", "id", "node_id", "created_at", "updated_at", "creator"):
        assert key in status
    assert status["creator"]["login"] == "github-actions[bot]"
    listed = requests.get(
        f"{gh.url}/repos/{REPO}/commits/{HEAD}/statuses",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    ).json()
    assert [s["id"] for s in listed] == [status["id"]]


@pytest.mark.parametrize(
    ("sha", "body", "message"),
    [
        ("9" * 40, {"state": "success"}, "No commit found for SHA"),
        (HEAD, {"state": "great"}, "is not one of"),
        (HEAD, {"state": "success", "description": "x" * 141}, "Validation Failed"),
    ],
)
def test_fake_validates_statuses_like_github(
    gh: FakeGitHub, sha: str, body: dict, message: str
) -> None:
    answer = post_status(gh, sha, body)

    assert answer.status_code == 422
    assert message in answer.json()["message"]


def test_fake_needs_auth_for_statuses(gh: FakeGitHub) -> None:
    answer = requests.post(
        f"{gh.url}/repos/{REPO}/statuses/{HEAD}", json={"state": "success"}, timeout=5
    )
    assert answer.status_code == 401


# -- the verdict ---------------------------------------------------------------------------


def no_files() -> list[str]:
    return []


CASES = {
    "passes": (make_report(), "success", "v3 passes the gate"),
    "fails": (make_report(passed=False), "failure", "FAIL root_mean_squared_error"),
    "workflow-failed": (
        Report(
            generated_at="2026-01-05T10:00:00Z",
            status=Status(outcome="failure", failed_step="tests"),
        ),
        "failure",
        "failed at tests",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_verdict(case: str) -> None:
    report, state, phrase = CASES[case]

    got_state, description = verdict(report, no_files)

    assert got_state == state
    assert phrase in description
    assert len(description) <= MAX_DESCRIPTION


@pytest.mark.parametrize(("changed", "state"), [([], "success"), (["uv.lock"], "failure")])
def test_unregistered_candidate_depends_on_what_the_pr_changed(
    changed: list[str], state: str
) -> None:
    report = make_report(version=None)

    got_state, description = verdict(report, lambda: changed)

    assert got_state == state
    if changed:
        assert "uv.lock" in description


def test_a_long_reason_is_cut_to_githubs_limit(gh: FakeGitHub, client: GitHubClient) -> None:
    report = make_report(passed=False)
    long = report.gate.model_copy(update={"reasons": ["FAIL " + "very long reason " * 30]})
    state, description = verdict(report.model_copy(update={"gate": long}), no_files)

    status = set_model_gate(client, HEAD, state, description, RUN_URL)

    assert len(status["description"]) == MAX_DESCRIPTION
    assert status["description"].endswith("\u2026")


def test_missing_statuses_permission_names_it(gh: FakeGitHub, client: GitHubClient) -> None:
    forbidden = {"message": "Resource not accessible by integration", "documentation_url": "x"}
    gh.fail_next("POST", r"/statuses/", 403, body=forbidden)

    with pytest.raises(GitHubError, match="statuses: write"):
        set_model_gate(client, HEAD, "success", "ok", RUN_URL)


# -- through the CLI -----------------------------------------------------------------------


@pytest.mark.parametrize(("passed", "state"), [(True, "success"), (False, "failure")])
def test_comment_sets_the_model_gate_status_on_the_pr_head(
    gh: FakeGitHub, tmp_path: Path, passed: bool, state: str
) -> None:
    config = tmp_path / "mlgate.toml"
    config.write_text("", encoding="utf-8")
    report = tmp_path / "report.json"
    make_report(passed=passed).write(report)

    args = ["comment", "--report", str(report), "--head-sha", HEAD, "--run-url", RUN_URL]
    assert main(["--config", str(config), *args]) == 0

    [posted] = [c for c in gh.comments(PR) if MARKER in c["body"]]
    [status] = gh.statuses(HEAD)
    assert status["context"] == "model-gate"
    assert status["state"] == state
    assert status["target_url"] == posted["html_url"]
    assert 0 < len(status["description"]) <= MAX_DESCRIPTION
