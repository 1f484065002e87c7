"""The one open `model-drift` issue: opened on drift, updated while it lasts, closed after.

A scheduled check that opened an issue per run would bury the alert; this keeps exactly one
open issue per label, holding the latest report, and never opens a second while one is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.comment import MAX_COMMENT_CHARS, POST_ATTEMPTS
from mlgate.monitoring.document import MonitoringReport
from mlgate.monitoring.markdown import render_monitoring, verdict_line


@dataclass(frozen=True)
class IssueOutcome:
    action: Literal["opened", "updated", "unchanged", "closed", "nothing"]
    number: int | None
    html_url: str
    message: str


def open_labelled_issues(client: GitHubClient, label: str) -> list[dict[str, Any]]:
    """Open issues carrying `label`, oldest first; pull requests (which the API mixes in) are not.

    The label filter (case-insensitive, as GitHub's) is applied here as well as in the query, so
    a server that ignores it cannot make the command edit an unrelated issue.
    """
    found = [
        issue
        for issue in client.iter_issues(state="open", labels=label)
        if "pull_request" not in issue
        and issue.get("state") == "open"
        and any(
            (_label_name(item) or "").lower() == label.lower() for item in issue.get("labels") or []
        )
    ]
    return sorted(found, key=lambda issue: issue["number"])


def sync_drift_issue(
    client: GitHubClient, report: MonitoringReport, *, label: str, title: str
) -> IssueOutcome:
    body = render_monitoring(report)
    if len(body) > MAX_COMMENT_CHARS:
        raise GitHubError(
            f"drift report is {len(body)} characters, over GitHub's limit of "
            f"{MAX_COMMENT_CHARS}: watch fewer features or lower monitoring.top_k"
        )
    existing = open_labelled_issues(client, label)
    summary = verdict_line(report)
    if report.drift:
        if not existing:
            created = _open_once(client, title, body, label)
            return IssueOutcome(
                "opened",
                created["number"],
                created.get("html_url", ""),
                f"opened issue #{created['number']} ({label}): {summary}",
            )
        issue = existing[0]
        others = _others(existing)
        if _same(issue.get("body") or "", body):
            return IssueOutcome(
                "unchanged",
                issue["number"],
                issue.get("html_url", ""),
                f"issue #{issue['number']} ({label}) already holds this report{others}",
            )
        client.update_issue(issue["number"], body=body)
        client.create_issue_comment(issue["number"], f"Still drifting: {summary}")
        return IssueOutcome(
            "updated",
            issue["number"],
            issue.get("html_url", ""),
            f"updated issue #{issue['number']} ({label}): {summary}{others}",
        )
    if not existing:
        return IssueOutcome("nothing", None, "", f"{summary}; no open {label} issue to close")
    for issue in existing:
        client.create_issue_comment(issue["number"], f"Drift is gone: {summary}\n\n{body}")
        client.update_issue(issue["number"], state="closed", state_reason="completed")
    numbers = ", ".join(f"#{issue['number']}" for issue in existing)
    return IssueOutcome(
        "closed",
        existing[0]["number"],
        existing[0].get("html_url", ""),
        f"closed issue{'s' if len(existing) > 1 else ''} {numbers} ({label}): {summary}",
    )


def _open_once(client: GitHubClient, title: str, body: str, label: str) -> dict[str, Any]:
    """Open the issue; after a 5xx or a timeout (GitHub may have opened it anyway) look for it
    before posting again, so a retry never opens a second one."""
    for attempt in range(POST_ATTEMPTS):
        try:
            return client.create_issue(title, body, [label])
        except GitHubError as exc:
            why = f"POST issue ({label}) may not have worked ({exc.status or exc})"
            last = attempt == POST_ATTEMPTS - 1
            if not exc.ambiguous or last or not client.pause(client.backoff * 2**attempt, why):
                raise
            if found := open_labelled_issues(client, label):
                return found[0]
    raise AssertionError("unreachable")


def _label_name(item: Any) -> str | None:
    return item.get("name") if isinstance(item, dict) else item if isinstance(item, str) else None


def _others(existing: list[dict[str, Any]]) -> str:
    if len(existing) < 2:
        return ""
    rest = ", ".join(f"#{issue['number']}" for issue in existing[1:])
    return f" (also open with the label: {rest}; left as they are)"


def _same(old: str, new: str) -> bool:
    return old.replace("\r\n", "\n") == new.replace("\r\n", "\n")
