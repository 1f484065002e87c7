"""The `mlgate` command line: help and usage, the report and comment steps against a
local fake of GitHub's API, promotion of a merged PR's version, and configuration errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlgate.cli import COMMANDS, main
from mlgate.report.document import METRIC_LABELS, Report, Status, load_report
from mlgate.report.markdown import MARKER, render_markdown
from support.github_api import FakeGitHub
from support.project import Project
from support.stores import sqlite_store

pytestmark = pytest.mark.slow  # trains or registers models in an MLflow store

TOKEN = "ghs_cliTestToken0123456789"
REPO = "acme/trips"
PR = 7
HEAD = "6f1e9c0d2b3a4f5e6d7c8b9a0f1e2d3c4b5a6978"
NEWER = "77aa88bb99cc00dd11ee22ff33aa44bb55cc66dd"
MERGE = "8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b"
RMSE = "root_mean_squared_error"
RUN_ID = 7700123
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sqlite_store(tmp_path_factory, "cli-store")


@dataclass(frozen=True)
class Trained:
    project: Project
    report_path: Path
    report: Report


@pytest.fixture(scope="module")
def trained_runs() -> dict[str, Trained]:
    return {}


@pytest.fixture
def trained(
    trained_runs: dict[str, Trained],
    store: str,
    tmp_path_factory: pytest.TempPathFactory,
    github_event: Callable[[object], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Trained:
    """PR #7 at HEAD trained once per module, as the PR workflow does."""
    if "pr" not in trained_runs:
        project = Project.create(tmp_path_factory.mktemp("cli-project"), store)
        project.enter(monkeypatch)
        event = github_event({"pull_request": {"number": PR, "head": {"sha": HEAD}}})
        monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
        monkeypatch.setenv("GITHUB_RUN_ID", str(RUN_ID))
        monkeypatch.setenv("GITHUB_RUN_ATTEMPT", "1")
        path = project.root / "reports" / "report.json"
        assert project.cli("train", "--report", str(path)) == 0
        monkeypatch.delenv("GITHUB_EVENT_PATH")
        monkeypatch.delenv("GITHUB_RUN_ID")
        monkeypatch.delenv("GITHUB_RUN_ATTEMPT")
        trained_runs["pr"] = Trained(project, path, load_report(path))
    run = trained_runs["pr"]
    run.project.enter(monkeypatch)
    return run


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A project with no store in use yet (its sqlite file is never created by these tests)."""
    created = Project.create(tmp_path, f"sqlite:///{tmp_path / 'never.db'}")
    created.enter(monkeypatch)
    return created


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPO) as fake:
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
        yield fake


def writes(gh: FakeGitHub) -> list[str]:
    """The comment writes (the `model-gate` status has tests of its own)."""
    return [
        request.method
        for request in gh.requests
        if request.method != "GET" and "/comments" in request.path
    ]


def marked(gh: FakeGitHub, number: int = PR) -> list[dict]:
    return [comment for comment in gh.comments(number) if MARKER in comment["body"]]


# -- help and usage ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "stream", "needle"),
    [
        (["report", "--step", "tests=failure", "--report", "{tmp}/r.json"], 0, "stdout", "wrote"),
        (["report", "--report", "{tmp}/missing.json"], 1, "stderr", "missing.json"),
        (["report", "--no-such-flag"], 2, "stderr", "--no-such-flag"),
    ],
    ids=["success", "error", "usage"],
)
def test_the_fast_exit_keeps_the_exit_status_and_flushes_output(
    tmp_path: Path, args: list[str], code: int, stream: str, needle: str
) -> None:
    """The command's process skips the interpreter's teardown: its status and its last lines
    must come out as `main` returned and printed them, through a pipe."""
    command = [a.format(tmp=tmp_path) for a in args]
    config = ["--config", str(ROOT / "pyproject.toml")]
    done = subprocess.run(
        [sys.executable, "-m", "mlgate.cli", *config, *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )

    assert done.returncode == code, done.stderr
    assert needle in getattr(done, stream)


def test_help_is_fast_and_lists_every_command() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "mlgate.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    elapsed = time.monotonic() - started

    assert done.returncode == 0, done.stderr
    assert elapsed < 2.0
    for command in COMMANDS:
        assert command in done.stdout


def test_help_does_not_import_heavy_libraries() -> None:
    script = (
        "import json, sys\n"
        "import mlgate.cli\n"
        "try:\n"
        "    mlgate.cli.main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'mlflow', 'sklearn'}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )

    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main([command, "--help"])

    assert raised.value.code == 0
    assert f"usage: mlgate {command}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["deploy"],
        ["train", "--bogus"],
        ["train", "--param"],
        ["comment"],
        ["comment", "--report", "r.json", "--pr", "seven"],
        ["promote", "--version"],
    ],
    ids=lambda argv: " ".join(argv) or "no-command",
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(argv)

    assert raised.value.code == 2
    assert "usage: mlgate" in capsys.readouterr().err


# -- report --------------------------------------------------------------------------------


def test_report_renders_markdown_and_appends_to_the_step_summary(
    trained: Trained, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project.root / "out" / "report.json"
    path.parent.mkdir()
    shutil.copyfile(trained.report_path, path)
    summary = project.root / "summary.md"
    earlier = "### Lint\n\npassed\n"
    summary.write_text(earlier, encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    assert project.cli("report", "--report", str(path)) == 0

    markdown = path.with_suffix(".md").read_text(encoding="utf-8")
    assert markdown == render_markdown(trained.report)
    assert MARKER in markdown
    written = summary.read_text(encoding="utf-8")
    assert written.startswith(earlier)
    assert written.rstrip("\n").endswith(markdown.rstrip("\n"))


def test_failed_step_without_a_report_writes_a_failure_report(project: Project) -> None:
    path = project.root / "reports" / "report.json"
    steps = ["lint=success", "tests=failure", "train=skipped"]

    assert project.cli("report", *[arg for step in steps for arg in ("--step", step)]) == 0

    report = load_report(path)
    assert report.status == Status(outcome="failure", failed_step="tests")
    assert report.candidate is None
    markdown = path.with_suffix(".md").read_text(encoding="utf-8")
    assert "failed at step" in markdown
    assert "tests" in markdown.split("failed at step", 1)[1].splitlines()[0]


@pytest.mark.parametrize("outcome", ["failure", "cancelled"])
def test_failed_step_after_training_keeps_the_measurements(
    trained: Trained, project: Project, outcome: str
) -> None:
    path = project.root / "reports" / "report.json"
    path.parent.mkdir()
    shutil.copyfile(trained.report_path, path)

    assert project.cli("report", "--step", "train=success", "--step", f"upload={outcome}") == 0

    report = load_report(path)
    assert report.status == Status(outcome="failure", failed_step="upload")
    assert report.candidate == trained.report.candidate
    assert report.gate == trained.report.gate
    markdown = path.with_suffix(".md").read_text(encoding="utf-8")
    assert "failed at step" in markdown
    assert f"v{trained.report.candidate.version}" in markdown


# -- comment -------------------------------------------------------------------------------


def _comment(project: Project, report: Path, *extra: str) -> int:
    return project.cli("comment", "--report", str(report), "--head-sha", HEAD, *extra)


def test_comment_is_created_once_then_updated_in_place(
    trained: Trained, project: Project, gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    gh.add_pull(PR, HEAD)
    for i in range(150):
        gh.add_comment(PR, f"review remark {i}", login=f"reviewer{i % 4}")
    later = trained.report.model_dump()
    later["candidate"]["metrics"][RMSE] += 0.25
    later_path = project.root / "later.json"
    Report.model_validate(later).write(later_path)

    assert _comment(project, trained.report_path, "--pr", str(PR)) == 0
    [first] = marked(gh)
    assert _comment(project, later_path, "--pr", str(PR)) == 0

    [comment] = marked(gh)
    assert comment["id"] == first["id"]
    assert comment["body"] == render_markdown(load_report(later_path))
    assert comment["body"] != first["body"]
    assert any(
        line.startswith("|") and METRIC_LABELS[RMSE] in line
        for line in comment["body"].splitlines()
    )
    assert writes(gh) == ["POST", "PATCH"]
    assert len(gh.comments(PR)) == 151
    assert f"comment {first['id']} on PR #{PR}" in capsys.readouterr().out


@pytest.mark.parametrize("case", ["stale-run", "lying-pr-number"])
def test_comment_for_another_head_is_skipped(
    trained: Trained,
    project: Project,
    gh: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    gh.add_pull(PR, HEAD)
    gh.add_pull(PR + 1, NEWER, user="someone-else")
    if case == "stale-run":
        gh.set_head(PR, NEWER)
        hint = PR
    else:
        hint = PR + 1

    assert _comment(project, trained.report_path, "--pr", str(hint)) == 0

    assert "skipped" in capsys.readouterr().out
    assert writes(gh) == []
    assert gh.comments(PR) == gh.comments(PR + 1) == []


def test_failed_workflow_without_report_still_gets_a_comment(
    project: Project, gh: FakeGitHub
) -> None:
    gh.add_pull(PR, HEAD)
    missing = project.root / "artifact" / "report.json"

    assert _comment(project, missing, "--pr", str(PR), "--conclusion", "failure") == 0

    [comment] = marked(gh)
    assert "workflow failed" in comment["body"]
    assert not missing.exists()


def test_rejected_token_is_one_line_without_the_token(
    trained: Trained,
    project: Project,
    gh: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh.add_pull(PR, HEAD)
    wrong = "ghs_wrongTokenABCDEF987654"
    monkeypatch.setenv("GITHUB_TOKEN", wrong)

    assert _comment(project, trained.report_path, "--pr", str(PR)) == 1

    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "401" in lines[0]
    assert wrong not in out + err
    assert gh.comments(PR) == []


# -- promote -------------------------------------------------------------------------------


def test_promote_merge_commit_promotes_the_version_the_pr_registered(
    trained: Trained, gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    gh.add_pull(PR, HEAD)
    gh.add_run(HEAD, pr=PR, run_id=RUN_ID)  # the PR workflow run that trained it
    gh.merge_pull(PR, MERGE)
    project = trained.project

    assert project.cli("promote", "--merge-commit", MERGE) == 0

    assert project.champion() == trained.report.candidate.version
    assert f"merged PR #{PR}" in capsys.readouterr().out


def test_promote_direct_push_promotes_nothing(
    trained: Trained,
    gh: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    push = "0f0e0d0c0b0a09080706050403020100fedcba98"
    gh.add_commit(push)
    project = trained.project
    before = project.champion()
    summary = project.root / f"summary-{uuid.uuid4().hex[:6]}.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    # GitHub's commit-to-PR index can lag: promote asks again after 1, 2, 4 and 8 s before it
    # calls the commit a direct push (test_merges.py times those waits).
    monkeypatch.setattr("time.sleep", lambda seconds: None)

    assert project.cli("promote", "--merge-commit", push) == 0

    assert "nothing promoted" in capsys.readouterr().out
    assert "nothing promoted" in summary.read_text(encoding="utf-8")
    assert project.champion() == before


# -- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["train"],
        ["report"],
        ["comment", "--report", "report.json", "--head-sha", HEAD],
        ["promote", "--version", "1"],
        ["rollback"],
    ],
    ids=lambda command: command[0],
)
def test_unknown_setting_is_one_line_naming_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    typo = "relative_tolerence = 0.05\n"
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'never.db'}", tracking=typo)
    project.enter(monkeypatch)

    assert project.cli(*command) == 1

    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "relative_tolerence" in lines[0]
    assert not (tmp_path / "never.db").exists()


def test_candidate_takes_every_train_flag() -> None:
    """`candidate` is what the PR workflow runs instead of `train`: the same flags must parse."""
    from mlgate.arguments import build_parser

    def flags(name: str) -> set[str]:
        sub = next(a for a in build_parser()._actions if hasattr(a, "choices") and a.choices)
        return {opt for action in sub.choices[name]._actions for opt in action.option_strings}

    assert flags("train") <= flags("candidate")
