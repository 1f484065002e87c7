"""What the comment takes from the trusted event, never from the artifact PR code wrote."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgate.cli import main
from mlgate.errors import UserError
from mlgate.github.trusted import allowed_link, trusted_view
from mlgate.report.document import MAX_REPORT_BYTES, load_report
from mlgate.report.markdown import MARKER, render_markdown
from support.github_api import FakeGitHub
from support.reports import make_report, report_data

TOKEN = "ghs_trustedTOKENvalue000"
REPO = "acme/trips"
HEAD = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
FORGED = "f" * 40
PR = 7
RUN_URL = f"https://github.com/{REPO}/actions/runs/4242"
OWN_RUN_ID = "999000111"  # the comment workflow's own run
UI = "https://mlflow.example.com"


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPO) as fake:
        for key, value in {
            "GITHUB_API_URL": fake.url,
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_RUN_ID": OWN_RUN_ID,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_SHA": "0" * 40,
            "MLFLOW_UI_URL": UI,
        }.items():
            monkeypatch.setenv(key, value)
        fake.add_pull(PR, HEAD)
        yield fake


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mlgate.toml"
    path.write_text("", encoding="utf-8")
    return path


def comment(config: Path, report: Path, *extra: str) -> int:
    args = ["--report", str(report), "--head-sha", HEAD, "--run-url", RUN_URL, *extra]
    return main(["--config", str(config), "comment", *args])


def marked(gh: FakeGitHub) -> list[dict]:
    return [c for c in gh.comments(PR) if MARKER in c["body"]]


# -- conclusions ---------------------------------------------------------------------------


@pytest.mark.parametrize("conclusion", ["action_required", "cancelled", "skipped", "stale"])
def test_runs_that_did_not_judge_the_code_get_no_comment_and_no_status(
    gh: FakeGitHub, config: Path, tmp_path: Path, capsys, conclusion: str
) -> None:
    missing = tmp_path / "artifact" / "report.json"

    assert comment(config, missing, "--conclusion", conclusion) == 0

    assert gh.comments(PR) == []
    assert gh.statuses(HEAD) == []
    assert [r.method for r in gh.requests if r.method != "GET"] == []
    assert "skipped: " in capsys.readouterr().out


@pytest.mark.parametrize("conclusion", ["failure", "timed_out", "startup_failure"])
def test_a_failed_run_without_report_is_described_from_the_event(
    gh: FakeGitHub, config: Path, tmp_path: Path, conclusion: str
) -> None:
    assert comment(config, tmp_path / "none.json", "--conclusion", conclusion) == 0

    [posted] = marked(gh)
    body = posted["body"]
    assert "workflow failed" in body
    assert RUN_URL in body
    assert f"/actions/runs/{OWN_RUN_ID}" not in body
    assert HEAD in body
    assert "0" * 40 not in body  # main's checkout is not what failed
    [status] = gh.statuses(HEAD)
    assert status["state"] == "failure"


# -- identity and links --------------------------------------------------------------------


def lying_report(tmp_path: Path) -> Path:
    data = report_data(
        lineage={
            "head_sha": FORGED,
            "pr_number": 99,
            "git_commit": FORGED,
            "workflow_run_url": "https://evil.example/actions/runs/1",
        },
        links={
            "run": "https://evil.example/#/experiments/1/runs/abc",
            "model_version": f"{UI}/#/models/trips/versions/3",
            "workflow_run": "https://github.com/someone/else/actions/runs/1",
        },
    )
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_head_pr_and_run_link_come_from_the_event(
    gh: FakeGitHub, config: Path, tmp_path: Path
) -> None:
    assert comment(config, lying_report(tmp_path)) == 0

    [posted] = marked(gh)
    body = posted["body"]
    assert HEAD in body
    assert FORGED not in body
    assert RUN_URL in body
    assert "evil.example" not in body
    assert "someone/else" not in body
    assert f"{UI}/#/models/trips/versions/3" in body  # under the configured MLflow UI


def test_trusted_view_replaces_identity_and_filters_links(tmp_path: Path) -> None:
    report = load_report(lying_report(tmp_path))

    view = trusted_view(report, head_sha=HEAD, pr=PR, run_url=None, repository=REPO, mlflow_ui=None)

    assert (view.lineage.head_sha, view.lineage.pr_number) == (HEAD, PR)
    assert view.links.run is None
    assert view.links.model_version is None  # no UI configured: no MLflow link is trusted
    assert view.links.workflow_run is None  # the artifact's run link is another repository's
    assert view.lineage.workflow_run_url is None
    assert view.candidate == report.candidate


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (f"https://github.com/{REPO}/actions/runs/5", True),
        ("https://GitHub.com/ACME/Trips/actions/runs/5", True),
        ("https://github.com/acme/trips-fork/actions/runs/5", False),
        ("https://github.com/acme/trips/../../evil/x", False),
        ("https://github.com/acme/trips/%2e%2e/%2e%2e/evil", False),
        ("https://user:pw@github.com/acme/trips/actions/runs/5", False),
        ("http://github.com/acme/trips/actions/runs/5", False),
        ("javascript:alert(1)", False),
        (f"{UI}/#/experiments/1/runs/abc", True),
        ("https://mlflow.example.com.evil.example/#/runs/abc", False),
        ("https://mlflow.example.com:8443/#/runs/abc", False),
        ("", False),
    ],
)
def test_allowed_link(url: str, allowed: bool) -> None:
    assert allowed_link(url, [f"https://github.com/{REPO}", UI]) is allowed


# -- size and depth ------------------------------------------------------------------------


def test_an_oversized_report_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    data = report_data(experiment="x" * MAX_REPORT_BYTES)
    path.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(UserError, match=r"over 1,000,000 bytes") as caught:
        load_report(path)
    assert str(path) in str(caught.value)


def test_a_report_just_under_the_cap_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    data = report_data(experiment="x" * (MAX_REPORT_BYTES - 2_000))
    path.write_text(json.dumps(data), encoding="utf-8")

    assert len(load_report(path).experiment or "") == MAX_REPORT_BYTES - 2_000


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_is_one_line_not_a_recursion_error(
    gh: FakeGitHub, config: Path, tmp_path: Path, capsys, opening: str
) -> None:
    closing = "]" if opening == "[" else "}"
    path = tmp_path / "report.json"
    path.write_text(opening * 100_000 + "1" + closing * 100_000, encoding="utf-8")

    assert comment(config, path) == 1

    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "nests deeper than" in err[0]
    assert gh.comments(PR) == []


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report_data(experiment='[[[{{{"' * 50)), encoding="utf-8")

    assert load_report(path).experiment == '[[[{{{"' * 50


def test_the_rendered_comment_of_a_real_report_keeps_its_links(tmp_path: Path) -> None:
    report = make_report(links={"run": f"{UI}/#/experiments/1/runs/abc"})

    view = trusted_view(
        report, head_sha=HEAD, pr=PR, run_url=RUN_URL, repository=REPO, mlflow_ui=UI
    )

    body = render_markdown(view)
    assert f"{UI}/#/experiments/1/runs/abc" in body
    assert RUN_URL in body
