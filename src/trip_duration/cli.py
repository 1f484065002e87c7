"""`trip-duration`: every workflow step is one of these commands, runnable on a laptop too.

Heavy libraries (MLflow, scikit-learn) are imported inside the commands that need them, so
`--help` and the GitHub-only commands start in a fraction of a second.
"""

from __future__ import annotations

import argparse
import logging
import os
import string
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from trip_duration.errors import UsageError, UserError

EXIT_ERROR = 1
EXIT_GATE_FAILED = 3
EXIT_NO_CANDIDATE = 4

EPILOG = f"""exit status: 0 success (including "nothing to do"), {EXIT_ERROR} error (bad input,
unreachable server, GitHub API error), 2 usage, {EXIT_GATE_FAILED} quality gate failed (nothing
promoted), {EXIT_NO_CANDIDATE} no candidate version to promote, 143 terminated (SIGTERM; a held
promotion lock is released first).
environment: MLFLOW_TRACKING_URI (default sqlite:///mlflow.db) and MLflow's auth variables;
GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL for the GitHub commands."""


def _hex_sha(value: str) -> str:
    """A commit SHA as git prints it; checked before any network call is spent on it."""
    if not (7 <= len(value) <= 64 and all(c in string.hexdigits for c in value)):
        raise argparse.ArgumentTypeError(f"expected a git commit SHA (hex), got {value!r}")
    return value


def _finish_subcommands(commands: argparse._SubParsersAction) -> None:
    """Every subcommand shows its help line as its description and takes --config as well."""
    for action in commands._choices_actions:
        sub = commands.choices[action.dest]
        sub.description = sub.description or action.help
        sub.add_argument(
            "--config",
            type=Path,
            default=argparse.SUPPRESS,
            help="TOML configuration (default: the nearest pyproject.toml)",
        )


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
        "--step",
        action="append",
        default=[],
        metavar="NAME=OUTCOME",
        help="outcome of a workflow step, in order (success, failure, cancelled, skipped); the "
        "first failure marks the report as failed at that step, even with no JSON report yet",
    )

    comment = commands.add_parser(
        "comment", help="post or update the one sticky PR comment with the report"
    )
    comment.add_argument("--report", type=Path, required=True, help="JSON report to post")
    comment.add_argument(
        "--conclusion",
        help="conclusion of the PR workflow run; a failed run without a report still gets a "
        "comment saying so",
    )
    comment.add_argument("--pr", type=int, help="PR number (untrusted hint; checked via the API)")
    comment.add_argument(
        "--head-sha",
        type=_hex_sha,
        help="the PR head SHA the report must belong to (from the trusted event)",
    )

    promote = commands.add_parser(
        "promote", help="make the PR's registered version the champion if it passes the gate"
    )
    promote.add_argument("--pr", type=int, help="number of the merged pull request")
    promote.add_argument("--head-sha", type=_hex_sha, help="final head SHA of that pull request")
    promote.add_argument("--version", help="promote this registered version (local use)")
    promote.add_argument(
        "--merge-commit",
        type=_hex_sha,
        help="a commit pushed to main: find the PR it merged through the GitHub API, then "
        "promote that PR's version (a direct push promotes nothing)",
    )
    promote.add_argument("--commit", help="the commit on main being deployed (recorded as a tag)")
    promote.add_argument("--val-data", type=Path, help="validation month for the re-check")

    commands.add_parser("rollback", help="give the champion alias back to the version it replaced")

    _finish_subcommands(commands)
    return parser


def _quiet_mlflow() -> None:
    """Keep job logs to what a person needs: MLflow's chatter and its own deprecations go.

    MLflow sets its log level when first imported, from MLFLOW_LOGGING_LEVEL (a user's own
    setting of it wins).
    """
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    logging.getLogger("mlflow.utils.environment").setLevel(logging.ERROR)
    # The store's own database errors come with a traceback; the command's one error line
    # carries the cause.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    for category in (UserWarning, FutureWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=r"mlflow(\.|$)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _quiet_mlflow()
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"error: {_redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from trip_duration.tracking.connection import describe_failure

        line = describe_failure(exc)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return EXIT_ERROR


def _redact(text: str) -> str:
    if "trip_duration.tracking.connection" not in sys.modules:
        return text
    from trip_duration.tracking.connection import redact

    return redact(text)


def _settings(args: argparse.Namespace):
    from trip_duration.config import load_settings

    return load_settings(args.config)


def _default_report(settings) -> Path:
    return settings.path(settings.report.directory) / "report.json"


def cmd_train(args: argparse.Namespace) -> int:
    from trip_duration.config import parse_param
    from trip_duration.report.document import check_writable
    from trip_duration.report.markdown import render_markdown
    from trip_duration.train.job import train

    settings = _settings(args)
    params = dict(parse_param(p) for p in args.param)
    path = args.report or _default_report(settings)
    check_writable(path, path.with_suffix(".md"))
    report = train(
        settings,
        train_path=args.train_data,
        val_path=args.val_data,
        params=params,
        fallback_local=args.fallback_local,
    )
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
    from trip_duration.report.document import load_report
    from trip_duration.report.markdown import render_markdown, write_step_summary

    settings = _settings(args)
    path = args.report or _default_report(settings)
    failed = _first_failure(args.step)
    if failed is None:
        report = load_report(path)
    else:
        report = _failed_report(path if path.exists() else None, failed, settings.root)
        report.write(path)
    markdown = render_markdown(report)
    out = args.markdown or path.with_suffix(".md")
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
    from trip_duration.registry import versions as registry
    from trip_duration.report.document import Report, Status, load_report
    from trip_duration.tracking.lineage import collect

    data = load_report(path).model_dump() if path else {"generated_at": registry.now()}
    data["status"] = Status(outcome="failure", failed_step=failed_step).model_dump()
    if path is None:
        data["lineage"] = collect(root).model_dump()
    return Report.model_validate(data)


def cmd_comment(args: argparse.Namespace) -> int:
    from trip_duration.github.client import GitHubClient
    from trip_duration.github.comment import resolve_pr_for_head, upsert_sticky_comment
    from trip_duration.report.document import load_report
    from trip_duration.report.markdown import render_markdown

    settings = _settings(args)
    if args.report.exists() or args.conclusion in (None, "success"):
        report = load_report(args.report)
    else:
        report = _failed_report(
            None, f"the workflow ({args.conclusion}, before any report)", settings.root
        )
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
    from trip_duration.registry.promotion import promote
    from trip_duration.report.markdown import write_step_summary

    if not (args.merge_commit or args.version or (args.pr is not None and args.head_sha)):
        raise UsageError(
            "promote needs --merge-commit, --pr with --head-sha, or --version "
            "(see trip-duration promote --help)"
        )
    settings = _settings(args)
    pr, head_sha = args.pr, args.head_sha
    if args.merge_commit:
        from trip_duration.github.client import GitHubClient
        from trip_duration.github.comment import merged_pr_for_commit

        found = merged_pr_for_commit(GitHubClient.from_env(), args.merge_commit)
        if found is None:
            message = (
                f"{args.merge_commit[:12]} merged no pull request (a direct push): nothing promoted"
            )
            print(message)
            write_step_summary(f"### Promotion\n\n{message}\n")
            return 0
        pr, head_sha = found
        print(f"{args.merge_commit[:12]} merged PR #{pr} (head {head_sha[:12]})")
    try:
        outcome = promote(
            settings,
            pr=pr,
            head_sha=head_sha,
            version=args.version,
            commit=args.commit or args.merge_commit or os.environ.get("GITHUB_SHA"),
            val_path=args.val_data,
        )
    except UserError as exc:
        write_step_summary(f"### Promotion\n\n❌ {exc}\n")
        raise
    print(outcome.message)
    write_step_summary(f"### Promotion\n\n✅ {outcome.message}\n")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from trip_duration.registry import versions as registry
    from trip_duration.report.markdown import write_step_summary
    from trip_duration.tracking import connection as tracking

    settings = _settings(args)
    client = tracking.connect(tracking.resolve_uri(), settings.tracking.connect_retries)
    outcome = registry.rollback(
        client, settings.tracking.registered_model, settings.tracking.champion_alias
    )
    print(outcome.message)
    write_step_summary(f"### Rollback\n\n{outcome.message}\n")
    return 0


COMMANDS = {
    "train": cmd_train,
    "report": cmd_report,
    "comment": cmd_comment,
    "promote": cmd_promote,
    "rollback": cmd_rollback,
}

if __name__ == "__main__":
    sys.exit(main())
