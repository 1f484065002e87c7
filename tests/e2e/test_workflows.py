"""The project's real workflow files, end to end, under act.

`.github/workflows/pr.yml` (job `checks`), `pr-comment.yml` and `promote.yml` run in host mode
against a real `mlflow server` on 127.0.0.1 and a fake of GitHub's REST API, in a clone of the
working tree whose commits play the pull requests. The clone first adopts the tests' own model
plug-in (`support.diabetes`) the way a team adopts the template (`support.adoption`): data files
and its own configuration in place of the example's tables, so the scenario holds for any
model and after the example is deleted. `alpha` is the adopter's own Lasso's.

1. PR #1 (a docs change) is green and gets one report comment; its merge makes its version the
   first champion.
2. PR #2 changes `alpha` twice (a worse model, then a better one): one report comment, edited in
   place, ends up showing the second head's numbers against champion v1; the merge promotes the
   final version exactly when its report said it would, and re-running that promotion changes
   nothing.
3. PR #3 breaks the plug-in's data cleaning: the run stops at the `tests` step, nothing reaches
   MLflow, and the comment says where it failed.

Expectations come from the reports the runs uploaded and from MLflow, not from fixed numbers.
Each PR run's `tests` step is the real `pytest -m "not slow"` of its clone, whose only test
module is the plug-in contract's (`clone_tests`): that is what the scenarios judge, and the
whole fast suite would only repeat itself in every run. That suite runs in .ci/run itself and,
after the example is removed, in a clean clone (tests/e2e/test_adopt_page.py).
integration.yml, which runs this file, is never run here.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgate.registry import versions as registry
from support.act import FAKE_TOKEN, ActSession
from support.adoption import adopted_files
from support.git_repo import commit_files
from support.github_api import FakeGitHub
from support.mlflow_server import MlflowServer
from support.team_server import ADMIN, PR_USER, PROMOTE_USER, TeamServer
from support.workflows import (
    COMMENT_JOB,
    CONTRACT_TESTS,
    PR_JOB,
    PROMOTE_JOB,
    Repository,
    assert_green,
    assert_report_is_shown,
    expected_verdict,
    main_steps,
    verdict_line,
)

# Every scenario's clone keeps only the contract tests (see the module docstring).
pytestmark = [pytest.mark.clone_tests(CONTRACT_TESTS), pytest.mark.reuse_environments]

MODEL_TABLE = "tool.mlgate.model"

# PR #2's two pushes. v1 (PR #1) keeps the configured alpha; on the bundled data a much larger
# alpha fits worse and a smaller one better. The test checks this premise from the reports
# rather than trusting it.
CONFIGURED_ALPHA = 10.0
WORSE_ALPHA = 30.0
BETTER_ALPHA = 1.0

# PR #3: implausible (negative) targets survive cleaning; the contract tests must catch it.
PLUGIN_SOURCE = "tests/support/diabetes.py"
CLEANING_RULE = "between(0, self.options.max_progression)"
BROKEN_RULE = "between(-1e9, self.options.max_progression)"


@pytest.fixture
def repository(act_session: ActSession, mlflow_server: MlflowServer) -> Iterator[Repository]:
    """The clone, adopted to the tests' plug-in, with its own experiment and model name on the
    shared server, and a fake GitHub.

    Everything is set in pyproject.toml on main, the configuration place the workflows read.
    """
    name = f"models-e2e-{uuid.uuid4().hex[:8]}"
    adopt(act_session.repo_dir, name)
    with FakeGitHub(token=FAKE_TOKEN) as github:
        world = Repository(act_session, github, mlflow_server.url)
        assert world.settings.registered_model == name
        yield world
        world.print_timings()


def adopt(repo: Path, name: str, *, production: str | None = None) -> None:
    """Commit the adoption of the tests' plug-in on main, as docs/adopt.md says: its data, and
    its own tables in place of the example's (nothing of the example's is edited)."""
    params = {"alpha": CONFIGURED_ALPHA}
    files = adopted_files(repo, name, params=params, production=production)
    commit_files(repo, files, "Adopt the template for our own model")


# --------------------------------------------------------------------------- helpers


def set_toml_value(text: str, table: str, key: str, value: str) -> str:
    """Replace the one `key = ...` line of `[table]` with `key = value` (TOML source)."""
    lines = text.splitlines(keepends=True)
    inside, hits = False, []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped == f"[{table}]"
        elif inside and re.match(rf"{re.escape(key)}\s*=", stripped):
            hits.append(index)
    assert len(hits) == 1, f"expected one `{key} =` line in [{table}], found {len(hits)}"
    lines[hits[0]] = f"{key} = {value}\n"
    return "".join(lines)


def with_alpha(repo: Path, alpha: float) -> dict[str, str]:
    """pyproject.toml with the model's `alpha` changed, as a PR author would edit it."""
    text = (repo / "pyproject.toml").read_text(encoding="utf-8")
    text = set_toml_value(text, MODEL_TABLE, "params", f"{{ alpha = {alpha!r} }}")
    assert tomllib.loads(text)["tool"]["mlgate"]["model"]["params"] == {"alpha": alpha}
    return {"pyproject.toml": text}


def metric_text(value: float) -> str:
    """A metric as the report table prints it."""
    return f"{value:,.3f}"


def signed_text(value: float) -> str:
    return f"{value:+,.3f}"


# --------------------------------------------------------------------------- scenarios


def test_pull_requests_report_promote_and_stay_idempotent(repository: Repository) -> None:
    """PR #1 becomes the first champion; PR #2 keeps one updated comment and is promoted exactly
    when its final report says so; re-running that promotion changes nothing; PR #4, a worse
    model merged anyway, is refused at promotion."""
    world = repository
    model = world.settings.registered_model
    alias = world.settings.tracking.champion_alias

    # a. PR #1: green, one comment with the metrics table.
    head, action = world.push_to_pr(
        1, "docs/model-card", {"docs/model-card.md": "# Progression\n"}, "Add a model card"
    )
    pr1 = world.run_pr(1, "docs/model-card", head, action)
    assert_green(pr1)
    report1 = pr1.report
    v1 = report1.candidate.version
    assert report1.comparison.performed, report1.comparison.skipped_reason
    assert report1.champion is None, "a fresh registered model has no champion"
    assert report1.gate.baseline == "bounds-only"
    assert report1.gate.passed == expected_verdict(report1)
    assert report1.gate.passed, f"the first model must pass the bounds: {report1.gate.reasons}"
    tags1 = world.version_tags(v1)
    assert tags1[registry.TAG_PR] == "1"
    assert tags1[registry.TAG_HEAD] == pr1.head
    versions, runs = world.traces_of(pr1.head)
    assert versions == [f"{model} v{v1}"]
    assert runs == [report1.candidate.run_id]
    assert world.champion() is None, "nothing is promoted before a merge"

    comment_run = world.comment(pr1)
    assert comment_run.ok, comment_run.describe()
    assert main_steps(comment_run, COMMENT_JOB).get("Comment") == "success"
    comment = world.sticky_comment(1)
    assert_report_is_shown(world, pr1, comment)
    calls = [(r.method, tuple(r.path.rsplit("/", 2)[-2:])) for r in world.github.requests]
    confirmations = {("GET", ("pulls", "1")), ("GET", (pr1.head, "pulls"))}
    confirmed = min(i for i, call in enumerate(calls) if call in confirmations)
    assert confirmed < calls.index(("POST", ("1", "comments"))), (
        "the PR's head is confirmed through the API before anything is written"
    )
    body = comment["body"]
    assert verdict_line(report1) in body
    assert f"| Metric | Candidate v{v1} |" in body
    rmse1 = report1.candidate.metrics[report1.gate.metric]
    assert f"| **{metric_text(rmse1)}** |" in body, "the gate metric's value is in the table"
    assert report1.links.model_version
    assert report1.links.model_version in body, "the comment links to the MLflow version"

    # b. Merging PR #1 promotes v1 to champion.
    push1 = world.merge(pr1)
    promote1 = world.promote(push1, "promote merge of PR #1")
    assert promote1.ok, promote1.describe()
    assert f"merged PR #1 (head {pr1.head[:12]})" in promote1.step_log("Promote")
    assert world.champion() == v1
    tags = world.version_tags(v1)
    assert tags[registry.TAG_PROMOTED_COMMIT] == push1["after"]
    assert tags[registry.TAG_REPLACED] == registry.NO_VERSION
    assert registry.TAG_PROMOTED_AT in tags
    summary = promote1.summaries[PROMOTE_JOB]
    assert f"✅ {model}@{alias} is now v{v1} (first champion)" in summary

    # c. PR #2, first push: a worse alpha. One comment, against champion v1.
    branch = "model/alpha"
    head, action = world.push_to_pr(2, branch, with_alpha(world.path, WORSE_ALPHA), "Raise alpha")
    pr2a = world.run_pr(2, branch, head, action)
    assert_green(pr2a)
    report2a = pr2a.report
    assert report2a.candidate.params["alpha"] == WORSE_ALPHA
    assert report2a.champion is not None
    assert report2a.champion.version == v1
    assert report2a.gate.baseline == "champion"
    assert report2a.gate.passed == expected_verdict(report2a)
    assert world.comment(pr2a).ok
    first = world.sticky_comment(2)
    assert_report_is_shown(world, pr2a, first)
    assert verdict_line(report2a) in first["body"]

    # c. Second push: a better alpha. The same comment is edited, for the new head.
    head, action = world.push_to_pr(2, branch, with_alpha(world.path, BETTER_ALPHA), "Lower alpha")
    pr2b = world.run_pr(2, branch, head, action)
    assert_green(pr2b)
    report2b = pr2b.report
    assert report2b.candidate.params["alpha"] == BETTER_ALPHA
    assert report2b.champion.version == v1, "still compared with champion v1"
    assert report2b.gate.passed == expected_verdict(report2b)
    premise = {
        "v1": rmse1,
        "push 1": report2a.candidate.metrics[report2a.gate.metric],
        "push 2": report2b.candidate.metrics[report2b.gate.metric],
    }
    assert not report2a.gate.passed, f"scenario premise: push 1 should be worse than v1 {premise}"
    assert report2b.gate.passed, f"scenario premise: push 2 should beat v1 {premise}"
    versions2 = {report2a.candidate.version, report2b.candidate.version}
    assert len(versions2 | {v1}) == 3, "each run registered its own version"
    for pr_run in (pr2a, pr2b):
        tags = world.version_tags(pr_run.report.candidate.version)
        assert tags[registry.TAG_PR] == "2"
        assert tags[registry.TAG_HEAD] == pr_run.head
        assert tags["gate.passed"] == str(pr_run.report.gate.passed).lower()

    assert world.comment(pr2b).ok
    second = world.sticky_comment(2)
    assert second["id"] == first["id"], "the comment is updated in place"
    patches = [r for r in world.github.requests if r.method == "PATCH"]
    edited = f"/repos/{world.github.repository}/issues/comments/{first['id']}"
    assert [r.path for r in patches] == [edited]
    assert_report_is_shown(world, pr2b, second)
    body = second["body"]
    assert pr2a.head not in body, "nothing of the first push is left"
    assert verdict_line(report2b) in body
    assert f"quality gate passed against champion v{v1}" in body
    assert f"| Metric | Candidate v{report2b.candidate.version} | Champion v{v1} |" in body
    delta = report2b.deltas[report2b.gate.metric]
    row = (
        f"| **{metric_text(delta.candidate)}** | **{metric_text(delta.champion)}** "
        f"| **{signed_text(delta.absolute)}** |"
    )
    assert row in body, "the gate metric's row shows candidate, champion and delta"
    assert f"<code>{BETTER_ALPHA}</code>" in body, "the alpha change is listed"
    assert world.champion() == v1, "nothing is promoted before the merge"

    # d. Merging PR #2 promotes its final version exactly when its report said it would.
    push2 = world.merge(pr2b)
    before = world.registry_state()
    promote2 = world.promote(push2, "promote merge of PR #2")
    v3 = report2b.candidate.version
    assert f"merged PR #2 (head {pr2b.head[:12]})" in promote2.step_log("Promote")
    summary = promote2.summaries[PROMOTE_JOB]
    if report2b.gate.passed:
        assert promote2.ok, promote2.describe()
        assert world.champion() == v3
        assert world.version_tags(v3)[registry.TAG_REPLACED] == v1
        assert world.version_tags(v3)[registry.TAG_PROMOTED_COMMIT] == push2["after"]
        assert f"✅ {model}@{alias} is now v{v3} (replaced v{v1}" in summary
    else:
        assert promote2.returncode != 0
        assert promote2.failed_step == "Promote"
        assert "exit status 3" in promote2.output
        assert world.champion() == before[0] == v1
        assert f"❌ v{v3} not promoted" in summary
        assert f"{model}@{alias} stays v{v1}" in summary
    assert registry.TAG_PROMOTED_AT not in world.version_tags(report2a.candidate.version)

    # f. Re-running the promotion of that push changes nothing.
    before = world.registry_state()
    rerun = world.promote(push2, "re-run promote of PR #2's merge")
    assert rerun.ok, rerun.describe()
    assert world.registry_state() == before, "champion, tags and runs are unchanged"
    assert f"✅ {model}@{alias} is already v{before[0]}" in rerun.summaries[PROMOTE_JOB]
    assert len(world.github.comments(1)) == len(world.github.comments(2)) == 1

    # d. (refused) PR #4 brings back the worse alpha and is merged anyway: the promote job
    # fails with the gate's reason and `champion` does not move.
    reigning = world.champion()
    branch = "model/alpha-again"
    head, action = world.push_to_pr(4, branch, with_alpha(world.path, WORSE_ALPHA), "Raise alpha")
    pr4 = world.run_pr(4, branch, head, action)
    assert_green(pr4)
    report4 = pr4.report
    assert report4.champion.version == reigning
    assert report4.gate.passed == expected_verdict(report4)
    assert not report4.gate.passed, "scenario premise: the worse alpha loses to the champion"
    v4 = report4.candidate.version
    push4 = world.merge(pr4)
    refused = world.promote(push4, "promote merge of PR #4")
    assert refused.returncode != 0, refused.describe()
    assert refused.failed_step == "Promote"
    assert world.champion() == reigning
    assert registry.TAG_PROMOTED_AT not in world.version_tags(v4)
    summary = refused.summaries[PROMOTE_JOB]
    assert f"❌ v{v4} not promoted" in summary
    assert f"{model}@{alias} stays v{reigning}" in summary


def test_broken_cleaning_stops_the_pull_request_at_tests(repository: Repository) -> None:
    """e. PR #3 breaks the plug-in's data cleaning: act fails at `tests`, MLflow gets nothing,
    and the comment says where the run failed."""
    world = repository
    source = (world.path / PLUGIN_SOURCE).read_text(encoding="utf-8")
    assert source.count(CLEANING_RULE) == 1, "the cleaning rule this test breaks has moved"
    broken = {PLUGIN_SOURCE: source.replace(CLEANING_RULE, BROKEN_RULE)}
    head, action = world.push_to_pr(3, "fix/keep-all-rows", broken, "Keep every row")
    pr3 = world.run_pr(3, "fix/keep-all-rows", head, action)

    result = pr3.result
    assert result.returncode != 0
    assert result.failed_step == "Tests", result.describe()
    assert {s.job_id for s in result.steps} == {PR_JOB}
    assert set(result.jobs.values()) == {"failure"}
    steps = main_steps(result, PR_JOB)
    assert steps["Lint"] == "success", "the change is lint-clean: the tests catch it"
    assert "Train and compare" not in steps, "training never started"
    assert steps["Report"] == steps["Upload report"] == "success"
    log = result.step_log("Tests")
    failed = re.findall(r"^FAILED (\S+?)::", log, flags=re.MULTILINE)
    assert failed, log[-3000:]
    # The contract tests catch it.
    assert CONTRACT_TESTS in failed, sorted(set(failed))
    assert re.search(rf"\b{len(failed)} failed\b", log)

    report = pr3.report
    assert report.status.outcome == "failure"
    assert report.status.failed_step == "tests"
    assert report.candidate is None
    assert report.lineage.pr_number == 3
    assert report.lineage.head_sha == head

    assert world.traces_of(head) == ([], []), "no MLflow run or model version for PR #3"

    comment_run = world.comment(pr3)
    assert comment_run.ok, comment_run.describe()
    comment = world.sticky_comment(3)
    assert_report_is_shown(world, pr3, comment)
    body = comment["body"]
    assert "The workflow failed at step <code>tests</code>" in body
    assert "nothing was registered, so nothing will be promoted on merge" in body


@pytest.fixture
def team_repository(act_session: ActSession, team_server: TeamServer) -> Iterator[Repository]:
    """The clone on a team server: candidates and production are separate registered models,
    PR runs hold the PR credential and promotion the promotion credential."""
    name = f"models-e2e-{uuid.uuid4().hex[:8]}"
    adopt(act_session.repo_dir, name, production=f"{name}-production")
    team_server.setup_project(act_session.repo_dir / "pyproject.toml")
    secrets = {
        "MLFLOW_PR_USERNAME": PR_USER,
        "MLFLOW_PR_PASSWORD": team_server.passwords[PR_USER],
        "MLFLOW_PROMOTE_USERNAME": PROMOTE_USER,
        "MLFLOW_PROMOTE_PASSWORD": team_server.passwords[PROMOTE_USER],
    }
    with FakeGitHub(token=FAKE_TOKEN) as github:
        world = Repository(
            act_session,
            github,
            team_server.url,
            credentials=secrets,
            admin_env=team_server.credentials(ADMIN),
        )
        yield world
        world.print_timings()


def test_two_credentials_pr_registers_and_only_promotion_moves_production(
    team_repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the two credentials of a least-privilege team server: the PR run registers its
    candidate with the PR credential, and the merge's promotion, with the promotion credential,
    copies exactly that version into the production model and moves `champion` there."""
    world = team_repository
    for key, value in world.admin_env.items():
        monkeypatch.setenv(key, value)
    tracking = world.settings.tracking
    head, action = world.push_to_pr(
        1, "docs/model-card", {"docs/model-card.md": "# Progression\n"}, "Add a model card"
    )
    pr1 = world.run_pr(1, "docs/model-card", head, action)
    assert_green(pr1)
    candidate = pr1.report.candidate.version
    version = world.client.get_model_version(world.settings.registered_model, candidate)
    assert version.tags[registry.TAG_HEAD] == head
    assert world.client.get_run(version.run_id).info.user_id == PR_USER

    assert world.comment(pr1).ok
    push = world.merge(pr1)
    promoted = world.promote(push, "promote merge of PR #1 (promotion credential)")
    assert promoted.ok, promoted.describe()

    champion = registry.champion(world.client, world.settings.production, tracking.champion_alias)
    assert champion is not None, "champion lives in the production model"
    assert champion.run_id == version.run_id, "production holds a copy of the reviewed version"
    assert registry.champion(world.client, world.settings.registered_model, "champion") is None
