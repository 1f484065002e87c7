"""The world the workflow tests run in: a clone played by act, GitHub's stand-in and a real
MLflow server, with the steps a pull request goes through (push, PR run, comment, merge,
promotion) and the checks every scenario shares.

Shared by the scenarios of `tests/e2e` (the regression plug-in's and the classifiers')."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.config import Settings, load_settings
from mlgate.registry import versions as registry
from mlgate.report.document import Report, load_report
from support.act import ActSession
from support.act_events import event_pull_request, event_push, event_workflow_run
from support.act_results import ActResult
from support.git_repo import commit_files, create_branch, head_sha, merge_branch, switch
from support.github_api import BOT_LOGIN, FakeGitHub

if TYPE_CHECKING:
    from mlflow import MlflowClient

PR_WORKFLOW = ".github/workflows/pr.yml"
COMMENT_WORKFLOW = ".github/workflows/pr-comment.yml"
PROMOTE_WORKFLOW = ".github/workflows/promote.yml"
PR_JOB, COMMENT_JOB, PROMOTE_JOB = "checks", "comment", "promote"
PR_STEPS = ("Install", "Lint", "Tests", "Train and compare", "Report", "Upload report")
RUN_TIMEOUT = 600
# The plug-in's package is importable the way a team's installed package would be.
PLUGIN_ENV = {"PYTHONPATH": "tests"}
# The tests of the plug-in contract: the one module a scenario's clone keeps when its PR runs
# need the `tests` step to judge the plug-in, not to repeat the whole fast suite.
CONTRACT_TESTS = "tests/mlgate/test_model_contract.py"


@dataclass
class PrRun:
    """One run of pr.yml for a PR head, with the report it uploaded."""

    number: int
    branch: str
    head: str
    result: ActResult
    artifact: Path

    @property
    def conclusion(self) -> str:
        return "success" if self.result.ok else "failure"

    @cached_property
    def report(self) -> Report:
        return load_report(self.artifact / "report.json")

    @cached_property
    def markdown(self) -> str:
        return (self.artifact / "report.md").read_text(encoding="utf-8")


@dataclass
class Repository:
    """The clone, GitHub (fake) and MLflow (real) as the workflows see them, plus run timings."""

    session: ActSession
    github: FakeGitHub
    mlflow_url: str
    timings: list[tuple[str, ActResult]] = field(default_factory=list)
    credentials: dict[str, str] = field(default_factory=dict)
    """Extra secrets (the PR and promotion credentials of a team server)."""
    admin_env: dict[str, str] = field(default_factory=dict)
    """How the test itself reads a team server (as its admin)."""

    @property
    def path(self) -> Path:
        return self.session.repo_dir

    @property
    def settings(self) -> Settings:
        """The configuration on the checked-out branch."""
        return load_settings(self.path / "pyproject.toml")

    @cached_property
    def client(self) -> MlflowClient:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.mlflow_url, registry_uri=self.mlflow_url)

    def run(
        self, label: str, event_name: str, payload: dict, workflow: str, **kw: Any
    ) -> ActResult:
        """Run a workflow with the repository's secrets, variables and API; time it."""
        result = self.session.run(
            event_name,
            payload,
            workflow=workflow,
            api_url=self.github.url,
            env=PLUGIN_ENV,
            secrets={"MLFLOW_TRACKING_URI": self.mlflow_url, **self.credentials},
            vars={"MLFLOW_UI_URL": self.mlflow_url},
            timeout=RUN_TIMEOUT,
            **kw,
        )
        assert not result.timed_out, f"{label}: act timed out\n{result.describe()}"
        self.timings.append((label, result))
        return result

    # -- pull requests ---------------------------------------------------------------------

    def push_to_pr(
        self, number: int, branch: str, files: dict[str, str], message: str
    ) -> tuple[str, str]:
        """Commit on the PR branch (created from main the first time) and tell GitHub.

        Returns (the new head, the action of the pull_request event it triggers)."""
        if number in {p["number"] for p in self.github.state()["pulls"]}:
            switch(self.path, branch)
            head = commit_files(self.path, files, message)
            self.github.set_head(number, head)
            return head, "synchronize"
        create_branch(self.path, branch, "main")
        head = commit_files(self.path, files, message)
        self.github.add_pull(number, head, head_ref=branch, title=message)
        return head, "opened"

    def run_pr(self, number: int, branch: str, head: str, action: str) -> PrRun:
        """pr.yml's `checks` job for the PR's current head (the clone is on that branch)."""
        assert head_sha(self.path) == head
        event = event_pull_request(
            number, head, branch, base_sha=head_sha(self.path, "main"), action=action
        )
        label = f"PR #{number} {action} {head[:7]}"
        result = self.run(label, "pull_request", event, PR_WORKFLOW, job=PR_JOB)
        # GitHub records the run; promotion checks a candidate's origin against it.
        self.github.add_run(
            head,
            pr=number,
            path=PR_WORKFLOW,
            conclusion="success" if result.returncode == 0 else "failure",
            run_id=int(result.run_id),
        )
        artifact = self.session.artifact_dir(result.run_id, "pr-report")
        assert (artifact / "report.json").is_file(), f"no report uploaded\n{result.describe()}"
        return PrRun(number, branch, head, result, artifact)

    def comment(self, pr_run: PrRun) -> ActResult:
        """pr-comment.yml for a finished PR run, from the default branch as on GitHub."""
        switch(self.path, "main")
        event = event_workflow_run(
            pr_run.result.run_id,
            pr_run.head,
            pr_run.conclusion,
            [pr_run.number],
            head_branch=pr_run.branch,
        )
        label = f"comment PR #{pr_run.number} {pr_run.head[:7]} ({pr_run.conclusion})"
        return self.run(label, "workflow_run", event, COMMENT_WORKFLOW)

    def merge(self, pr_run: PrRun) -> dict[str, Any]:
        """Merge the PR with a merge commit; returns the push event it causes on main."""
        before = head_sha(self.path, "main")
        merged = merge_branch(
            self.path, pr_run.branch, message=f"Merge pull request #{pr_run.number}"
        )
        self.github.merge_pull(pr_run.number, merged)
        return event_push(merged, before=before, message=f"Merge pull request #{pr_run.number}")

    def promote(self, push: dict[str, Any], label: str) -> ActResult:
        switch(self.path, "main")
        assert head_sha(self.path) == push["after"]
        return self.run(label, "push", push, PROMOTE_WORKFLOW)

    # -- GitHub and MLflow state -----------------------------------------------------------

    def sticky_comment(self, number: int) -> dict[str, Any]:
        """The PR's one comment, which the bot wrote."""
        comments = self.github.comments(number)
        assert len(comments) == 1, [c["body"][:200] for c in comments]
        assert comments[0]["user"]["login"] == BOT_LOGIN
        return comments[0]

    def champion(self) -> str | None:
        tracking = self.settings.tracking
        current = registry.champion(
            self.client, self.settings.registered_model, tracking.champion_alias
        )
        return None if current is None else str(current.version)

    def version_tags(self, version: str) -> dict[str, str]:
        model = self.settings.registered_model
        return dict(self.client.get_model_version(model, version).tags)

    def registry_state(self) -> tuple[str | None, dict[str, dict[str, str]], int]:
        """(champion, every version's tags, number of MLflow runs in the experiment)."""
        versions = {
            str(v.version): dict(v.tags)
            for v in registry.versions(self.client, self.settings.registered_model)
        }
        experiment = self.client.get_experiment_by_name(self.settings.experiment)
        runs = self.client.search_runs([experiment.experiment_id], max_results=1000)
        return self.champion(), versions, len(runs)

    def traces_of(self, head: str) -> tuple[list[str], list[str]]:
        """(model versions, MLflow runs) anywhere on the server that carry this PR head."""
        where = f"tags.{registry.TAG_HEAD} = '{head}'"
        versions = [f"{v.name} v{v.version}" for v in self.client.search_model_versions(where)]
        experiments = [e.experiment_id for e in self.client.search_experiments()]
        runs = [r.info.run_id for r in self.client.search_runs(experiments, where)]
        return versions, runs

    def print_timings(self) -> None:
        print("\nact run timings:")
        for label, result in self.timings:
            print(f"  {result.duration:7.1f} s  exit {result.returncode}  {label}")
        print(f"  {sum(r.duration for _, r in self.timings):7.1f} s  total")


def main_steps(result: ActResult, job: str) -> dict[str, str]:
    """Result of each top-level step of a job's main stage, by step name."""
    return {
        s.step: s.result
        for s in result.steps
        if s.job_id == job and s.stage == "Main" and not s.nested
    }


def assert_green(pr_run: PrRun) -> None:
    """pr.yml went through: every step ran and passed, and the report says so."""
    result = pr_run.result
    assert result.ok, result.describe()
    assert {s.job_id for s in result.steps} == {PR_JOB}, "only the checks job ran"
    assert set(result.jobs.values()) == {"success"}, result.jobs
    steps = main_steps(result, PR_JOB)
    assert {name: steps.get(name) for name in PR_STEPS} == dict.fromkeys(PR_STEPS, "success")
    report = pr_run.report
    assert report.status.outcome == "success"
    assert report.lineage.pr_number == pr_run.number
    assert report.lineage.head_sha == pr_run.head
    assert report.candidate is not None
    assert report.candidate.version is not None


def assert_report_is_shown(world: Repository, pr_run: PrRun, comment: dict[str, Any]) -> None:
    """Reviewers see exactly the run's report: in the job summary as uploaded, and in the
    comment as the trusted workflow shows it (identity from the event, links filtered)."""
    from mlgate.github import trusted
    from mlgate.report.markdown import render_configured

    repository = world.github.repository
    view = trusted.trusted_view(
        pr_run.report,
        head_sha=pr_run.head,
        pr=pr_run.number,
        run_url=f"{trusted.GITHUB_SERVER}/{repository}/actions/runs/{pr_run.result.run_id}",
        repository=repository,
        mlflow_ui=world.mlflow_url,
    )
    assert comment["body"] == render_configured(world.settings, view)
    assert pr_run.result.step_summaries(PR_JOB).get("Report", "").strip() == pr_run.markdown.strip()
    assert pr_run.markdown.strip() in pr_run.result.summaries[PR_JOB]
    head = pr_run.head
    assert f"Computed for PR head **{head[:7]}** (<code>{head}</code>)" in comment["body"]


def expected_verdict(report: Report) -> bool:
    """Whether the gate should pass, recomputed from the report's own numbers."""
    gate, candidate = report.gate, report.candidate
    assert gate is not None
    assert candidate is not None
    value = candidate.metrics[gate.metric]
    ok = True
    for metric, bound in gate.bounds.items():
        mine = candidate.metrics[metric]
        ok &= mine <= bound["max"] if "max" in bound else mine >= bound["min"]
    if gate.baseline == "champion":
        theirs = report.deltas[gate.metric].champion
        slack = abs(theirs) * gate.relative_tolerance
        ok &= value >= theirs - slack if gate.greater_is_better else value <= theirs + slack
    return ok


def verdict_line(report: Report) -> str:
    return "Would be promoted on merge" if report.gate.passed else "Would not be promoted on merge"
