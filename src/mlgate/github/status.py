"""The `model-gate` commit status on the PR head, so branch protection can require it.

Its state says whether merging would promote a model; its description is the verdict and
its link the report comment. It reflects the PR run's report: the promotion on merge checks
the gate again, under the lock, against the champion of that moment.
"""

from __future__ import annotations

from collections.abc import Callable

from mlgate.github.client import JSON, GitHubClient
from mlgate.report.document import Report

CONTEXT = "model-gate"
MAX_DESCRIPTION = 140  # GitHub's limit for a status description


def shorten(text: str, limit: int = MAX_DESCRIPTION) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def verdict(report: Report, model_inputs_changed: Callable[[], list[str]]) -> tuple[str, str]:
    """(state, description) for the report; `model_inputs_changed` is asked only when the PR
    registered nothing, to tell a harmless change from a model change without a candidate."""
    if report.status.outcome == "failure":
        step = report.status.failed_step or "an unknown step"
        return "failure", shorten(f"PR workflow failed at {step}: nothing would be promoted")
    gate, candidate = report.gate, report.candidate
    if gate is None or candidate is None:
        return "failure", "the report has no gate decision: nothing would be promoted"
    if candidate.version is None:
        touched = model_inputs_changed()
        if not touched:
            return "success", "no model input changed: merging promotes nothing and needs nothing"
        return "failure", shorten(
            f"not registered (no tracking credentials?) but changes {touched[0]}: "
            "merging would promote nothing"
        )
    if gate.passed:
        against = "the champion" if gate.baseline == "champion" else "the bounds (no champion)"
        return "success", shorten(
            f"v{candidate.version} passes the gate on {gate.metric} against {against}: "
            "would be promoted on merge"
        )
    failures = [r for r in gate.reasons if r.startswith("FAIL")] or gate.reasons
    reason = failures[0] if failures else "the gate failed"
    return "failure", shorten(f"v{candidate.version} would not be promoted: {reason}")


def set_model_gate(
    client: GitHubClient, sha: str, state: str, description: str, target_url: str | None
) -> JSON:
    return client.create_commit_status(
        sha, state, context=CONTEXT, description=shorten(description), target_url=target_url
    )
