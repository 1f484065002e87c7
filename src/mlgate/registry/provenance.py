"""Where a candidate came from, checked against GitHub before it may become champion.

Pull-request runs share one tracking credential, so the tags on a candidate version are only
a claim: any PR's code could register a version tagged with another PR's number and head SHA.
The claim is checked against the Actions API, which PR code cannot write to: the recorded run
must be a successful `pull_request` run of the PR workflow, in this repository, at the merged
PR's final head SHA, and exactly one version may claim that run attempt. A forged version
either names a run that does not match, or collides with the real run's own version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from mlgate.errors import UserError
from mlgate.registry.versions import TAG_HEAD, TAG_PR

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion

    from mlgate.github.client import GitHubClient

PR_WORKFLOW = ".github/workflows/pr.yml"
TAG_RUN_ID = "workflow_run_id"
TAG_RUN_ATTEMPT = "workflow_run_attempt"


class ProvenanceError(UserError):
    """The candidate's recorded origin does not hold up against the Actions API."""


def verify(
    github: GitHubClient,
    candidate: ModelVersion,
    pr: int,
    head_sha: str,
    claimants: Callable[[str], Iterable[ModelVersion]],
) -> str:
    """Check the candidate's origin (see the module docstring); returns the run's URL.

    `claimants(run_id)` lists the versions whose tags name that Actions run.
    """
    where = f"v{candidate.version} (PR #{pr} at {head_sha[:12]})"
    tags = dict(candidate.tags)
    run_id, attempt = tags.get(TAG_RUN_ID, ""), tags.get(TAG_RUN_ATTEMPT, "")
    if not run_id.isdigit() or not attempt.isdigit():
        raise ProvenanceError(
            f"{where} records no Actions run ({TAG_RUN_ID}/{TAG_RUN_ATTEMPT} tags): "
            "only versions registered by the PR workflow can be promoted; not promoted"
        )
    if tags.get(TAG_PR) != str(pr) or tags.get(TAG_HEAD) != head_sha:
        raise ProvenanceError(f"{where} is tagged for another PR or head; not promoted")
    from mlgate.github.client import GitHubError

    try:
        run = github.get_workflow_run(int(run_id))
    except GitHubError as exc:
        if exc.status != 404:
            raise
        raise ProvenanceError(
            f"{where} claims Actions run {run_id}, which {github.repository} does not have; "
            "not promoted"
        ) from None
    problem = _mismatch(run, github.repository, pr, head_sha, int(attempt))
    if problem:
        raise ProvenanceError(
            f"{where} claims Actions run {run_id} attempt {attempt}, but {problem}; not promoted"
        )
    others = [
        str(v.version)
        for v in claimants(run_id)
        if str(v.version) != str(candidate.version)
        and v.tags.get(TAG_RUN_ID) == run_id
        and v.tags.get(TAG_RUN_ATTEMPT) == attempt
    ]
    if others:
        raise ProvenanceError(
            f"{where} and v{', v'.join(others)} claim the same Actions run {run_id} attempt "
            f"{attempt}: all but one were registered by other code; not promoted"
        )
    return str(run.get("html_url") or f"run {run_id}")


def _mismatch(run: Any, repository: str, pr: int, head_sha: str, attempt: int) -> str | None:
    """What about the run disqualifies it, or None when it is the PR workflow's success."""
    if not isinstance(run, dict):
        return "GitHub returned no run object"
    full_name = (run.get("repository") or {}).get("full_name")
    if not isinstance(full_name, str) or full_name.lower() != repository.lower():
        return f"that run belongs to {full_name or 'no repository'}, not {repository}"
    path = str(run.get("path") or "")
    if path.split("@", 1)[0] != PR_WORKFLOW:
        return f"that run is of {path or 'an unnamed workflow'}, not {PR_WORKFLOW}"
    if run.get("event") != "pull_request":
        return f"that run was triggered by {run.get('event')!r}, not 'pull_request'"
    if run.get("head_sha") != head_sha:
        return f"that run built {str(run.get('head_sha'))[:12]}, not the merged head"
    if run.get("status") != "completed" or run.get("conclusion") != "success":
        state = run.get("conclusion") or run.get("status")
        return f"that run did not succeed ({state})"
    if run.get("run_attempt") != attempt:
        return f"its conclusion is that of attempt {run.get('run_attempt')}, not {attempt}"
    numbers = [p.get("number") for p in run.get("pull_requests") or [] if isinstance(p, dict)]
    if numbers and pr not in numbers:
        return f"that run was for PR #{', #'.join(map(str, numbers))}"
    return None
