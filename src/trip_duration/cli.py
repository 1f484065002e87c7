"""`trip-duration`: every workflow step is one of these commands, runnable on a laptop too.

Heavy libraries (MLflow, scikit-learn) are imported inside the commands that need them, so
`--help` and the GitHub-only commands start in a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from trip_duration.errors import UserError

EXIT_ERROR = 1
EXIT_GATE_FAILED = 3
EXIT_NO_CANDIDATE = 4

EPILOG = f"""exit status: 0 success (including "nothing to do"), {EXIT_ERROR} error (bad input,
unreachable server, GitHub API error), 2 usage, {EXIT_GATE_FAILED} quality gate failed (nothing
promoted), {EXIT_NO_CANDIDATE} no candidate version to promote.
environment: MLFLOW_TRACKING_URI (default sqlite:///mlflow.db) and MLflow's auth variables;
GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL for the GitHub commands."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trip-duration",
        description="Train, compare, report and promote the trip-duration model with MLflow.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config", type=Path, help="TOML configuration (default: the nearest pyproject.toml)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train, track in MLflow, compare with the champion, gate, register, write the report",
    )
    train.add_argument("--train-data", type=Path, help="training month (TLC green parquet)")
    train.add_argument("--val-data", type=Path, help="validation month (TLC green parquet)")
    train.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a hyperparameter for this run, e.g. --param alpha=0.5 (repeatable)",
    )
    train.add_argument(
        "--report", type=Path, help="JSON report path (default: reports/report.json)"
    )
    train.add_argument(
        "--fallback-local",
        action="store_true",
        help="if the tracking server is unreachable, use an ephemeral local store and say so in "
        "the report (for pull requests)",
    )

    report = commands.add_parser(
        "report", help="render the JSON report as Markdown (and to $GITHUB_STEP_SUMMARY)"
    )
    report.add_argument("--report", type=Path, help="JSON report (default: reports/report.json)")
    report.add_argument("--markdown", type=Path, help="output (default: next to the JSON, .md)")
    report.add_argument(
        "--failed-step",
        help="mark the run as failed at this step; works without a JSON report (writes one)",
    )

    comment = commands.add_parser(
        "comment", help="post or update the one sticky PR comment with the report"
    )
    comment.add_argument("--report", type=Path, required=True, help="JSON report to post")
    comment.add_argument("--pr", type=int, help="PR number (untrusted hint; checked via the API)")
    comment.add_argument(
        "--head-sha", help="the PR head SHA the report must belong to (from the trusted event)"
    )

    promote = commands.add_parser(
        "promote", help="make the PR's registered version the champion if it passes the gate"
    )
    promote.add_argument("--pr", type=int, help="number of the merged pull request")
    promote.add_argument("--head-sha", help="final head SHA of that pull request")
    promote.add_argument("--version", help="promote this registered version (local use)")
    promote.add_argument("--commit", help="the commit on main being deployed (recorded as a tag)")
    promote.add_argument("--val-data", type=Path, help="validation month for the re-check")

    commands.add_parser("rollback", help="give the champion alias back to the version it replaced")

    merged = commands.add_parser(
        "merged-pr", help="find the PR a commit on main merged; writes pr and head_sha outputs"
    )
    merged.add_argument("--sha", required=True, help="the pushed commit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _settings(args: argparse.Namespace):
    from trip_duration.config import load_settings

    return load_settings(args.config)


def _default_report(settings) -> Path:
    return settings.path(settings.report.directory) / "report.json"


def cmd_train(args: argparse.Namespace) -> int:
    from trip_duration.config import parse_param
    from trip_duration.report import render_markdown
    from trip_duration.training import train

    settings = _settings(args)
    params = dict(parse_param(p) for p in args.param)
    report = train(
        settings,
        train_path=args.train_data,
        val_path=args.val_data,
        params=params,
        fallback_local=args.fallback_local,
    )
    path = args.report or _default_report(settings)
    report.write(path)
    markdown = path.with_suffix(".md")
    markdown.write_text(render_markdown(report), encoding="utf-8")
    print(_summary_line(report))
    print(f"report: {path} and {markdown}")
    return 0


def _summary_line(report) -> str:
    candidate, gate = report.candidate, report.gate
    rmse = candidate.metrics.get("root_mean_squared_error", float("nan"))
    verdict = "passes" if gate.passed else "FAILS"
    against = (
        f"champion v{report.champion.version}"
        if report.champion and gate.baseline == "champion"
        else "the bounds alone"
    )
    return (
        f"run {candidate.run_id} → {report.registered_model} v{candidate.version}: "
        f"validation RMSE {rmse:.3f} min; gate {verdict} against {against}"
    )


def cmd_report(args: argparse.Namespace) -> int:
    from trip_duration.report import render_markdown, write_step_summary
    from trip_duration.summary import Report, Status, load_report

    settings = _settings(args)
    path = args.report or _default_report(settings)
    if args.failed_step:
        previous = load_report(path) if path.exists() else None
        data = previous.model_dump() if previous else {"generated_at": _now()}
        data["status"] = Status(outcome="failure", failed_step=args.failed_step).model_dump()
        if previous is None:
            from trip_duration.lineage import collect

            data["lineage"] = collect(settings.root).model_dump()
        report = Report.model_validate(data)
        report.write(path)
    else:
        report = load_report(path)
    markdown = render_markdown(report)
    out = args.markdown or path.with_suffix(".md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown, encoding="utf-8")
    write_step_summary(markdown)
    print(f"wrote {out}")
    return 0


def cmd_comment(args: argparse.Namespace) -> int:
    from trip_duration.comment import resolve_pr_for_head, upsert_sticky_comment
    from trip_duration.github import GitHubClient
    from trip_duration.report import render_markdown
    from trip_duration.summary import load_report

    settings = _settings(args)
    report = load_report(args.report)
    client = GitHubClient.from_env()
    head = args.head_sha or report.lineage.head_sha
    if not head:
        raise UserError("comment needs --head-sha (or a report that records the PR head SHA)")
    hint = args.pr if args.pr is not None else report.lineage.pr_number
    pr = resolve_pr_for_head(client, head, hint, explain=lambda why: print(f"skipped: {why}"))
    if pr is None:
        return 0
    result = upsert_sticky_comment(
        client, pr, render_markdown(report), author=settings.report.comment_author
    )
    print(f"{result.action} comment {result.comment_id} on PR #{pr}: {result.html_url}")
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    from trip_duration.promotion import promote
    from trip_duration.report import write_step_summary

    settings = _settings(args)
    try:
        outcome = promote(
            settings,
            pr=args.pr,
            head_sha=args.head_sha,
            version=args.version,
            commit=args.commit or os.environ.get("GITHUB_SHA"),
            val_path=args.val_data,
        )
    except UserError as exc:
        write_step_summary(f"### Promotion\n\n❌ {exc}\n")
        raise
    print(outcome.message)
    write_step_summary(f"### Promotion\n\n✅ {outcome.message}\n")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from trip_duration import registry, tracking
    from trip_duration.report import write_step_summary

    settings = _settings(args)
    client = tracking.connect(tracking.resolve_uri(), settings.tracking.connect_retries)
    outcome = registry.rollback(
        client, settings.tracking.registered_model, settings.tracking.champion_alias
    )
    print(outcome.message)
    write_step_summary(f"### Rollback\n\n{outcome.message}\n")
    return 0


def cmd_merged_pr(args: argparse.Namespace) -> int:
    from trip_duration.comment import merged_pr_for_commit
    from trip_duration.github import GitHubClient

    found = merged_pr_for_commit(GitHubClient.from_env(), args.sha)
    if found is None:
        print(f"{args.sha[:12]} merged no pull request (a direct push): nothing to promote")
        _write_outputs({"pr": "", "head_sha": ""})
        return 0
    number, head = found
    print(json.dumps({"pr": number, "head_sha": head}))
    _write_outputs({"pr": str(number), "head_sha": head})
    return 0


def _write_outputs(values: dict[str, str]) -> None:
    """Step outputs for the next workflow step, when running inside GitHub Actions."""
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


COMMANDS = {
    "train": cmd_train,
    "report": cmd_report,
    "comment": cmd_comment,
    "promote": cmd_promote,
    "rollback": cmd_rollback,
    "merged-pr": cmd_merged_pr,
}

if __name__ == "__main__":
    sys.exit(main())
