"""Prove the act harness on demo workflows: stand-ins, artifacts across runs, failures, events."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from support.act import FAKE_TOKEN, PINNED_ACTIONS, ActSession
from support.act_events import event_pull_request, event_push, event_workflow_run
from support.act_results import ActResult
from support.git_repo import (
    commit_files,
    create_branch,
    head_sha,
    is_test_module,
    make_repo_clone,
    merge_branch,
    snapshot_files,
    switch,
)

E2E_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = E2E_DIR.parents[1]
PR_DEMO = "tests/e2e/demo/pr.yml"
COMMENT_DEMO = "tests/e2e/demo/comment.yml"
FAIL_DEMO = "tests/e2e/demo/fail.yml"
SECRETS_DEMO = "tests/e2e/demo/secrets.yml"
ENVIRONMENT_DEMO = "tests/e2e/demo/environment.yml"


def open_pr(session: ActSession, number: int = 12) -> tuple[str, dict]:
    """Emulate a feature branch with one commit and the pull_request event for it."""
    create_branch(session.repo_dir, "feature/better-model")
    sha = commit_files(session.repo_dir, {"notes/change.txt": "tuned\n"}, "Tune the model")
    return sha, event_pull_request(number, sha, "feature/better-model")


def test_demo_workflows_pin_the_mapped_actions() -> None:
    """The demos use exactly the pinned `uses:` lines the harness maps to stand-ins."""
    root = E2E_DIR.parents[1]
    text = "".join((root / p).read_text() for p in (PR_DEMO, COMMENT_DEMO))
    for uses in PINNED_ACTIONS:
        assert f"uses: {uses}" in text
    for folder in PINNED_ACTIONS.values():
        assert (E2E_DIR / "actions" / folder / "action.yml").is_file()


def test_pull_request_runs_stand_ins_and_uploads(act_session: ActSession) -> None:
    """setup-uv gives a working uv, event fields reach steps, the artifact lands in the store."""
    sha, event = open_pr(act_session)
    result = act_session.run("pull_request", event, workflow=PR_DEMO, run_id="4101")
    assert result.ok, result.describe()
    assert result.jobs == {"Demo PR/build": "success"}

    log = result.step_log("Show uv")
    assert log.startswith("uv "), log
    assert "UV_PYTHON=3.11" in log
    assert "python 3.11" in log
    assert "/.venv" in log
    assert "lock hash=" in log
    assert "lock hash=\n" not in log
    assert "artifact id=1" in result.step_log("Show artifact id")
    assert result.summaries["build"].startswith("## Demo report")
    assert sha in result.summaries["build"]

    stored = act_session.artifact_dir("4101", "pr-report")
    report = json.loads((stored / "report.json").read_text())
    assert report == {"pr": 12, "sha": sha, "repo": "acme/trips", "run": "4101"}
    assert (stored / "nested" / "note.txt").read_text() == "kept\n"
    assert not (stored / ".hidden").exists()


def test_workflow_run_downloads_artifact_of_the_pr_run(act_session: ActSession) -> None:
    """The comment workflow reads the PR run's artifact by run id and checks out its head."""
    sha, event = open_pr(act_session, number=7)
    pr_run = act_session.run("pull_request", event, workflow=PR_DEMO)
    assert pr_run.ok, pr_run.describe()

    switch(act_session.repo_dir, "main")
    follow_up = event_workflow_run(
        pr_run.run_id, sha, "success", [7], head_branch="feature/better-model"
    )
    result = act_session.run(
        "workflow_run", follow_up, workflow=COMMENT_DEMO, api_url="http://127.0.0.1:9"
    )
    assert result.ok, result.describe()
    assert result.run_id != pr_run.run_id
    log = result.step_log("Read report")
    assert f"comment for PR 7 sha {sha} via http://127.0.0.1:9" in log
    assert "token set: True" in log
    assert "token=***" in log
    assert FAKE_TOKEN not in result.output
    assert "shallow=true" in result.step_log("Inspect head checkout")


def test_workflow_run_condition_skips_the_job(act_session: ActSession) -> None:
    """A job whose `if:` is false leaves no record and act exits 0."""
    sha = head_sha(act_session.repo_dir)
    event = event_workflow_run("4102", sha, "failure", [3])
    result = act_session.run("workflow_run", event, workflow=COMMENT_DEMO)
    assert result.ok, result.describe()
    assert result.jobs == {}


def test_missing_artifact_fails_with_the_step_name(act_session: ActSession) -> None:
    """Downloading from a run without that artifact fails the step, clearly."""
    sha = head_sha(act_session.repo_dir)
    event = event_workflow_run("4103", sha, "success", [3])
    result = act_session.run("workflow_run", event, workflow=COMMENT_DEMO)
    assert result.returncode != 0
    assert result.failed_step == f"actions/download-artifact@{_sha_of('download-artifact')}"
    assert "Artifact not found for name: pr-report" in result.output
    assert any(kind == "error" and "pr-report" in text for kind, text in result.annotations)


def test_failing_step_is_reported_and_stops_the_run(act_session: ActSession) -> None:
    """act exits non-zero; the harness names the failed step; later steps and jobs never run."""
    event = event_pull_request(5, head_sha(act_session.repo_dir), "feature/x")
    result = act_session.run("pull_request", event, workflow=FAIL_DEMO)
    assert result.returncode == 1
    assert result.failed_step == "Check the model"
    assert result.jobs == {"Demo failure/check": "failure"}
    names = [s.step for s in result.steps]
    assert "Passing step" in names
    assert "Never runs" not in names
    assert "metric below threshold" in result.step_log("Check the model")


def test_fork_pull_request_fields_reach_steps(act_session: ActSession) -> None:
    """head.repo.full_name of a fork PR is visible to steps through env."""
    event = event_pull_request(
        9, head_sha(act_session.repo_dir), "patch-1", head_repository="someone/trips"
    )
    result = act_session.run("pull_request", event, workflow=PR_DEMO, run_id="4104")
    assert result.ok, result.describe()
    report = json.loads((act_session.artifact_dir("4104", "pr-report") / "report.json").read_text())
    assert report["repo"] == "someone/trips"
    assert report["pr"] == 9


def test_secrets_and_vars_reach_steps_verbatim(act_session: ActSession) -> None:
    """Secrets with $, quotes and newlines arrive unchanged and are masked in the log."""
    secrets = {
        "PLAIN": "s3cr3t-value",
        "DOLLAR": "a=b $HOME ${X} \\n",
        "MULTI": 'line1\nline2 "q"\n',
        "APOSTROPHE": "it's\n$HOME",
    }
    expected = secrets | {"GITHUB_TOKEN": FAKE_TOKEN}
    result = act_session.run(
        "push",
        event_push(head_sha(act_session.repo_dir)),
        workflow=SECRETS_DEMO,
        secrets=secrets,
        vars={"EXPECTED": json.dumps(expected)},
    )
    assert result.ok, result.describe()
    log = result.step_log("Compare")
    assert "secrets match: ['APOSTROPHE', 'DOLLAR', 'GITHUB_TOKEN', 'MULTI', 'PLAIN']" in log
    assert "plain is ***" in log
    assert "s3cr3t-value" not in result.output


def test_a_kept_environment_carries_bytecode_and_a_failed_run_discards_it(
    act_session: ActSession, tmp_path: Path
) -> None:
    """With a pool, runs of one workflow share an environment outside the workspace (the
    second finds the first's bytecode, and a new one this process's, seeded after its sync);
    a failed run removes it; without a pool each run syncs a new `.venv` in its workspace and
    compiles, as on a runner."""

    def pooled(name: str) -> ActSession:
        return ActSession(
            repo_dir=act_session.repo_dir,
            home=act_session.home,
            artifact_store=act_session.artifact_store,
            environments=tmp_path / name,
        )

    def compiled_before(result: ActResult, prefix: str) -> bool:
        assert result.ok, result.describe()
        log = result.step_log("Show environment")
        assert re.search(rf"^prefix {prefix}$", log, re.M), log
        return "compiled before True" in log

    event = event_push(head_sha(act_session.repo_dir))
    unseeded = {"E2E_BYTECODE_FROM": ""}
    kept = pooled("environments")
    slot = tmp_path / "environments" / Path(ENVIRONMENT_DEMO).stem / "0"
    seeded_slot = tmp_path / "seeded" / Path(ENVIRONMENT_DEMO).stem / "0"
    first, second = (
        kept.run("push", event, workflow=ENVIRONMENT_DEMO, env=unseeded) for _ in range(2)
    )
    assert not compiled_before(first, re.escape(str(slot)))
    assert compiled_before(second, re.escape(str(slot)))
    failed = kept.run("push", event, workflow=ENVIRONMENT_DEMO, env={"FAIL_RUN": "1"})
    assert failed.failed_step == "Fail when asked", failed.describe()
    assert not slot.exists(), "a failed run's environment is never reused"

    seeded = pooled("seeded").run("push", event, workflow=ENVIRONMENT_DEMO)
    assert compiled_before(seeded, re.escape(str(seeded_slot)))

    fresh = act_session.run("push", event, workflow=ENVIRONMENT_DEMO)
    assert not compiled_before(fresh, r"\S+/hostexecutor/\.venv")


def test_git_helpers_emulate_a_merge(act_session: ActSession) -> None:
    """Branch, commit and merge helpers give the SHAs a push event after a PR merge carries."""
    repo = act_session.repo_dir
    base = head_sha(repo)
    create_branch(repo, "feature/y")
    feature = commit_files(repo, {"README.md": "changed\n"}, "Edit readme")
    merged = merge_branch(repo, "feature/y")
    assert head_sha(repo, "origin/main") == merged
    assert head_sha(repo, f"{merged}^1") == base
    assert head_sha(repo, f"{merged}^2") == feature
    event = event_push(merged, before=base)
    assert event["head_commit"]["id"] == merged
    assert event["ref"] == "refs/heads/main"


def _sha_of(folder: str) -> str:
    """The pinned SHA of the action mapped to a stand-in folder."""
    return next(uses.split("@")[1] for uses, name in PINNED_ACTIONS.items() if name == folder)


def test_a_clone_keeps_only_the_named_test_modules_and_every_helper(tmp_path: Path) -> None:
    """`clone_tests` leaves out the other test modules, never a helper, conftest or source."""
    full = set(snapshot_files(make_repo_clone(PROJECT_ROOT, tmp_path / "full")))
    kept = "tests/mlgate/test_model_contract.py"
    lean = set(
        snapshot_files(make_repo_clone(PROJECT_ROOT, tmp_path / "lean", test_modules=[kept]))
    )
    assert {f for f in lean if is_test_module(f)} == {kept}
    dropped = full - lean
    assert dropped, "the full clone has other test modules"
    assert all(is_test_module(f) for f in dropped), sorted(
        f for f in dropped if not is_test_module(f)
    )
    assert {"tests/conftest.py", "tests/support/diabetes.py", "src/mlgate/cli.py"} <= lean


def test_a_clone_refuses_a_test_module_that_does_not_exist(tmp_path: Path) -> None:
    missing = "tests/mlgate/test_nowhere.py"
    with pytest.raises(ValueError, match=re.escape(missing)):
        make_repo_clone(PROJECT_ROOT, tmp_path / "c", test_modules=[missing])
