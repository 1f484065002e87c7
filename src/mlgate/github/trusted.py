"""What the comment may take from the PR run's artifact, and what only the trusted event says.

The artifact was written by PR code, possibly from a fork, so it decides none of: which
commit and PR the comment is about, which run it links to, or where its other links point.
Those come from the `workflow_run` event (`head_sha`, `html_url`) and the API-confirmed PR
number; MLflow links survive only under the configured UI base, GitHub links only inside
this repository.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from mlgate.report.document import Lineage, Links, Report, Status

# Conclusions that say nothing about the PR's code: no "workflow failed" comment, no status.
NOT_REPORTED = {
    "action_required": "the PR run is waiting for a maintainer to approve it",
    "cancelled": "the PR run was cancelled (usually by a newer push)",
    "skipped": "the PR run was skipped",
    "stale": "the PR run went stale before it finished",
}
# Conclusions after which a missing report still means "the workflow failed".
FAILED = {"failure", "timed_out", "startup_failure"}
GITHUB_SERVER = "https://github.com"


def skip_reason(conclusion: str | None) -> str | None:
    """Why a run with this conclusion gets no comment, or None if it gets one."""
    return NOT_REPORTED.get((conclusion or "").strip().lower())


def is_failure(conclusion: str | None) -> bool:
    return (conclusion or "").strip().lower() in FAILED


def failure_report(conclusion: str, head_sha: str | None, run_url: str | None) -> Report:
    """The report of a PR run that failed before writing one, described from the event only.

    Nothing of the comment workflow's own checkout (main) or run goes in: the head and the
    run link are the PR run's.
    """
    detail = (
        "it could not start: check the workflow file"
        if conclusion == "startup_failure"
        else conclusion
    )
    return Report(
        generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        status=Status(outcome="failure", failed_step=f"the workflow ({detail}, before any report)"),
        lineage=Lineage(head_sha=head_sha, workflow_run_url=run_url),
        links=Links(workflow_run=run_url),
    )


def allowed_link(url: str | None, bases: list[str]) -> bool:
    """True if `url` lies under one of `bases` (same scheme and host, path below the base)."""
    if not url:
        return False
    try:
        target = urlsplit(url.strip())
        port = target.port
    except ValueError:
        return False
    if target.scheme not in ("http", "https") or target.username or target.password:
        return False
    if ".." in unquote(target.path).split("/") or "\\" in unquote(target.path):
        return False
    for base in bases:
        allowed = urlsplit(base.rstrip("/") + "/")
        if (target.scheme, (target.hostname or "").lower(), port) == (
            allowed.scheme,
            (allowed.hostname or "").lower(),
            allowed.port,
        ) and (target.path.rstrip("/") + "/").lower().startswith(allowed.path.lower()):
            return True
    return False


def trusted_view(
    report: Report,
    *,
    head_sha: str,
    pr: int,
    run_url: str | None,
    repository: str,
    mlflow_ui: str | None,
    github_server: str = GITHUB_SERVER,
) -> Report:
    """The report as the comment shows it: identity from the event, links filtered."""
    repo_base = f"{github_server.rstrip('/')}/{repository}"
    mlflow_bases = [mlflow_ui] if mlflow_ui else []

    def keep(url: str | None, bases: list[str]) -> str | None:
        return url if allowed_link(url, bases) else None

    workflow_run = run_url or keep(
        report.links.workflow_run or report.lineage.workflow_run_url, [repo_base]
    )
    links = Links(
        run=keep(report.links.run, mlflow_bases),
        model_version=keep(report.links.model_version, mlflow_bases),
        workflow_run=workflow_run,
    )
    # The artifact's `git_commit` (the PR run's test merge) cannot be checked: it is left out.
    lineage = report.lineage.model_copy(
        update={
            "head_sha": head_sha,
            "pr_number": pr,
            "workflow_run_url": workflow_run,
            "git_commit": None,
        }
    )
    return report.model_copy(update={"links": links, "lineage": lineage})
