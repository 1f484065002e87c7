"""`report` and `comment`: the report rendered in the PR run, then posted by the privileged
comment workflow (which installs no MLflow: nothing here imports it)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from mlgate.commands import default_report, settings_of
from mlgate.errors import UserError


def cmd_report(args: argparse.Namespace) -> int:
    from mlgate.report.document import check_writable, load_report
    from mlgate.report.markdown import render_configured, write_step_summary

    settings = settings_of(args)
    path = args.report or default_report(settings)
    failed = _first_failure(args.step)
    out = args.markdown or path.with_suffix(".md")
    check_writable(out, *([path] if failed is not None else []))
    if failed is None:
        report = load_report(path)
    else:
        report = _failed_report(path if path.exists() else None, failed, settings.root)
        report.write(path)
    markdown = render_configured(settings, report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown, encoding="utf-8")
    write_step_summary(markdown)
    print(f"wrote {out}")
    return 0


def _first_failure(steps: Sequence[str]) -> str | None:
    """The first step whose outcome is failure or cancelled, from NAME=OUTCOME pairs."""
    for item in steps:
        name, sep, outcome = item.partition("=")
        if not sep or not name:
            raise UserError(f"--step {item!r}: expected NAME=OUTCOME, e.g. tests=failure")
        if outcome.strip() in {"failure", "cancelled"}:
            return name.strip()
    return None


def _failed_report(path: Path | None, failed_step: str, root: Path):
    """The report of a run that failed at `failed_step`, keeping whatever it had measured."""
    from mlgate.registry import versions as registry
    from mlgate.report.document import Report, Status, load_report
    from mlgate.tracking.lineage import collect

    data = load_report(path).model_dump() if path else {"generated_at": registry.now()}
    data["status"] = Status(outcome="failure", failed_step=failed_step).model_dump()
    if path is None:
        data["lineage"] = collect(root).model_dump()
    return Report.model_validate(data)


def cmd_comment(args: argparse.Namespace) -> int:
    from mlgate.github import trusted
    from mlgate.github.changes import model_inputs_changed
    from mlgate.github.client import GitHubClient
    from mlgate.github.comment import resolve_pr_for_head, upsert_sticky_comment
    from mlgate.github.status import set_model_gate, verdict
    from mlgate.report.document import load_report
    from mlgate.report.markdown import render_configured

    settings = settings_of(args)
    skip = trusted.skip_reason(args.conclusion)
    if skip is not None:
        print(f"skipped: {skip} ({args.conclusion}): no comment, no model-gate status")
        return 0
    if args.report.exists() or not trusted.is_failure(args.conclusion):
        report = load_report(args.report)
    else:
        report = trusted.failure_report(args.conclusion, args.head_sha, args.run_url)
    client = GitHubClient.from_env()
    head = args.head_sha or report.lineage.head_sha
    if not head:
        raise UserError("comment needs --head-sha (or a report that records the PR head SHA)")
    # The artifact's own PR number is never a hint: the PR is the one GitHub says has `head`.
    pr = resolve_pr_for_head(client, head, args.pr, explain=lambda why: print(f"skipped: {why}"))
    if pr is None:
        return 0
    view = trusted.trusted_view(
        report,
        head_sha=head,
        pr=pr,
        run_url=args.run_url,
        repository=client.repository,
        mlflow_ui=os.environ.get("MLFLOW_UI_URL") or settings.tracking.ui_url,
        github_server=os.environ.get("GITHUB_SERVER_URL") or trusted.GITHUB_SERVER,
    )
    result = upsert_sticky_comment(
        client, pr, render_configured(settings, view), author=settings.report.comment_author
    )
    print(f"{result.action} comment {result.comment_id} on PR #{pr}: {result.html_url}")
    inputs = settings.promotion.model_inputs
    state, description = verdict(view, lambda: model_inputs_changed(client, pr, inputs))
    set_model_gate(client, head, state, description, result.html_url or args.run_url)
    print(f"model-gate {state} on {head[:12]}: {description}")
    return 0
