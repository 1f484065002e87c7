"""`mlgate`: every workflow step is one of these commands, runnable on a laptop too.

Heavy libraries (MLflow, scikit-learn) are imported inside the commands that need them, so
`--help` and the GitHub-only commands start in a fraction of a second. Once a command has
returned, the process exits without tearing the interpreter down (`entry`): after MLflow,
SQLAlchemy and skops are imported, that teardown alone costs about a second per command.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import string
import sys
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate import progress
from mlgate.errors import NoCandidateError, UsageError, UserError
from mlgate.storage import argument as data_location
from mlgate.termination import TERMINATED_EXIT

if TYPE_CHECKING:
    from mlgate.tracking.newstore import Creation
    from mlgate.tracking.store import Store

EXIT_ERROR = 1
EXIT_GATE_FAILED = 3
EXIT_NO_CANDIDATE = 4
EXIT_DRIFT = 5
EXIT_SERVING_FAILED = 6

TERMINATED_LINE = "stopped at a safe point; nothing half-written is kept"

EPILOG = f"""exit status: 0 success (including "nothing to do"), {EXIT_ERROR} error (bad input,
unreachable server, GitHub API error), 2 usage, {EXIT_GATE_FAILED} quality gate failed (nothing
promoted), {EXIT_NO_CANDIDATE} no candidate version to promote, {EXIT_DRIFT} monitor found drift,
{EXIT_SERVING_FAILED} the model failed the serving contract (nothing registered),
{TERMINATED_EXIT} terminated (SIGTERM; a held promotion lock is released first).
environment: MLFLOW_TRACKING_URI (default sqlite:///mlflow.db) and MLflow's auth variables;
GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL for the GitHub commands; AWS_* (AWS_ENDPOINT_URL),
GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_* for data in a bucket (s3://, gs://, abfs://)."""


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
        prog="mlgate",
        description="Train, compare, report and promote a model from pull requests, with MLflow.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config", type=Path, help="TOML configuration (default: the nearest pyproject.toml)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train, track in MLflow, compare with the champion, gate, register, write the report",
    )
    _add_candidate_arguments(train)
    train.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a hyperparameter for this run, e.g. --param max_depth=4 (repeatable)",
    )
    _add_requirements_flag(train)

    _serving_parsers(commands)

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
        help="conclusion of the PR workflow run; a failed, timed-out or unstartable run without "
        "a report still gets a comment saying so; action_required, cancelled, skipped and "
        "stale runs get no comment",
    )
    comment.add_argument("--pr", type=int, help="PR number (untrusted hint; checked via the API)")
    comment.add_argument(
        "--head-sha",
        type=_hex_sha,
        help="the PR head SHA the report must belong to (from the trusted event)",
    )
    comment.add_argument(
        "--run-url",
        help="the PR workflow run's page (workflow_run.html_url): the comment links to it; "
        "the artifact's own links to GitHub or MLflow are kept only when they point at this "
        "repository or at MLFLOW_UI_URL",
    )

    promote = commands.add_parser(
        "promote", help="make the PR's registered version the champion if it passes the gate"
    )
    promote.add_argument("--pr", type=int, help="number of the merged pull request")
    promote.add_argument("--head-sha", type=_hex_sha, help="final head SHA of that pull request")
    promote.add_argument(
        "--version",
        help="promote this candidate version, or `latest` for the newest one (local use with "
        "your own credential: no provenance check)",
    )
    promote.add_argument(
        "--merge-commit",
        type=_hex_sha,
        help="a commit pushed to main: find the PR it merged through the GitHub API, verify "
        "through the Actions API that its version came from a successful PR workflow run at "
        "the PR's final head, then promote it (a direct push promotes nothing)",
    )
    promote.add_argument("--commit", help="the commit on main being deployed (recorded as a tag)")
    promote.add_argument(
        "--val-data", type=data_location, help="validation month for the re-check (path or URI)"
    )

    commands.add_parser("rollback", help="give the champion alias back to the version it replaced")

    monitor = commands.add_parser(
        "monitor",
        help="compare a new month with the champion's training data: drift, quality, "
        f"performance (exit {EXIT_DRIFT} on drift)",
    )
    monitor.add_argument(
        "--current", type=data_location, required=True, help="the new data file (path or URI)"
    )
    monitor.add_argument(
        "--reference",
        type=data_location,
        help="compare with this file instead of the champion's logged training data",
    )
    monitor.add_argument(
        "--out", type=Path, help="folder for monitoring.json and .md (default: reports/monitoring)"
    )
    _add_engine_arguments(monitor)

    fetch = commands.add_parser(
        "fetch-current",
        help="run the [tool.mlgate.monitoring.current] command for one month and leave its "
        "data at --out (nothing is written when the command fails or times out)",
    )
    fetch.add_argument(
        "--month",
        help="YYYY-MM (default, or empty: monitoring.current.months_back months ago, UTC)",
    )
    fetch.add_argument(
        "--out",
        type=data_location,
        default=Path("data/current.parquet"),
        help="the file (or s3://, gs://, abfs:// object) to leave the data in "
        "(default: data/current.parquet)",
    )

    drift_issue = commands.add_parser(
        "drift-issue",
        help="keep one open issue labelled model-drift: open or update it on drift, comment "
        "and close it when drift is gone",
    )
    drift_issue.add_argument(
        "--report", type=Path, required=True, help="monitoring.json written by `monitor`"
    )

    _add_tuning_commands(commands)
    _finish_subcommands(commands)
    return parser


def _add_requirements_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--check-requirements",
        action="store_true",
        help="run the serving contract including the slow clean-environment check (the logged "
        "requirements installed with uv from PyPI), whatever [serving] says",
    )


def _add_candidate_arguments(command: argparse.ArgumentParser) -> None:
    """The data, report and fallback flags that train, tune and candidate share."""
    command.add_argument(
        "--train-data",
        type=data_location,
        help="training data file (a path, or s3://, gs://, abfs:// URI)",
    )
    command.add_argument(
        "--val-data", type=data_location, help="validation data file (a path or URI)"
    )
    command.add_argument(
        "--report", type=Path, help="JSON report path (default: reports/report.json)"
    )
    command.add_argument(
        "--fallback-local",
        action="store_true",
        help="if the tracking server is unreachable, use an ephemeral local store and say so in "
        "the report (for pull requests)",
    )


def _add_tuning_commands(commands: argparse._SubParsersAction) -> None:
    tune = commands.add_parser(
        "tune",
        help="seeded, budgeted Optuna search ([tuning] in the configuration); the winner is "
        "refit, tracked, compared, gated, registered and reported like `train`",
    )
    _add_candidate_arguments(tune)
    tune.add_argument("--trials", type=int, help="trial budget (default: tuning.n_trials)")
    tune.add_argument(
        "--timeout", type=float, help="safety net in seconds (default: tuning.timeout_s)"
    )
    tune.add_argument("--seed", type=int, help="sampler and fold seed (default: tuning.seed)")
    tune.add_argument(
        "--storage",
        help="Optuna RDB storage URL (sqlite:///study.db, postgresql://...) shared by several "
        "`tune` processes; default: in memory",
    )
    tune.add_argument(
        "--study", help="study name in the storage (default: experiment name + commit)"
    )
    matrix = commands.add_parser(
        "tune-matrix",
        help="the tuning workflow's plan: the workers' matrix and the study they share, "
        "written to $GITHUB_OUTPUT",
    )
    matrix.add_argument(
        "--workers", type=int, default=2, help="how many `tune` workers (default 2, at most 10)"
    )
    matrix.add_argument(
        "--study",
        default="",
        help="study name (default: experiment name + commit + workflow run id)",
    )
    candidate = commands.add_parser(
        "candidate",
        help="the PR workflow's step: `tune` when tuning.enabled is true, else `train`",
    )
    _add_candidate_arguments(candidate)
    _add_requirements_flag(candidate)
    candidate.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="as for `train` (refused when tuning is enabled: the search chooses)",
    )


def _serving_parsers(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "serve-check",
        help="serve a logged model with MLflow's scoring server and check the serving contract",
    )
    check.add_argument(
        "--model",
        default="champion",
        help=(
            "champion (default; on the production model when one is set), a version number "
            "of the candidates, or any MLflow model URI"
        ),
    )
    check.add_argument(
        "--requirements",
        action="store_true",
        help="also install the logged requirements into a clean uv environment (slow)",
    )
    check.add_argument(
        "--report", type=Path, help="JSON report whose serving section to fill (optional)"
    )

    predict = commands.add_parser(
        "predict",
        help="score a parquet file with a registered model, streaming by row group",
    )
    predict.add_argument(
        "--model",
        default="champion",
        help=(
            "champion (default; on the production model when one is set), a version number "
            "of the candidates, or any MLflow model URI"
        ),
    )
    predict.add_argument(
        "--data", type=data_location, required=True, help="parquet file of raw records (or URI)"
    )
    predict.add_argument(
        "--out",
        type=data_location,
        required=True,
        help="parquet file of predictions, or URI (with --engine spark: a local parquet folder)",
    )
    _add_engine_arguments(predict)


def _add_engine_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--engine",
        choices=("local", "spark"),
        default="local",
        help="local (default): this process, streamed in bounded batches; spark: a Spark "
        "session (needs the spark extra and Java)",
    )
    command.add_argument(
        "--spark-master",
        metavar="URL",
        help="with --engine spark: the cluster's master (default local[*]; SPARK_REMOTE, "
        "when set, connects through Spark Connect instead)",
    )


def _quiet_mlflow() -> None:
    """Keep job logs to what a person needs: MLflow's chatter and its own deprecations go.

    MLflow sets its log level when first imported, from MLFLOW_LOGGING_LEVEL (a user's own
    setting of it wins).
    """
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    # Its download bars redraw one line with carriage returns: noise in a CI log.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # A server that keeps artifacts in a bucket would hand out presigned URLs to download
    # from it directly; read through the server instead, which works when the bucket is on
    # the server's private network (deploy/compose.yaml's MinIO). docs/storage.md.
    os.environ.setdefault("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "false")
    logging.getLogger("mlflow.utils.environment").setLevel(logging.ERROR)
    # The store's own database errors come with a traceback; the command's one error line
    # carries the cause.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    # Schema migrations of a new store, and Optuna's own lines (quieted again by the search
    # once Optuna has configured its logger): progress lines are the command's alone.
    for name in ("alembic", "optuna"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for category in (UserWarning, FutureWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=r"mlflow(\.|$)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _quiet_mlflow()
    progress.configure(quiet=args.quiet)
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"error: {_redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:
        if exc.code != TERMINATED_EXIT:
            raise
        print(f"error: {args.command} terminated (SIGTERM): {TERMINATED_LINE}", file=sys.stderr)
        return TERMINATED_EXIT
    except Exception as exc:
        from mlgate.tracking.access import as_user_error
        from mlgate.tracking.connection import describe_failure

        refused = as_user_error(exc)
        if refused is not None:
            print(f"error: {_redact(str(refused))}", file=sys.stderr)
            return refused.exit_code
        line = describe_failure(exc)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return EXIT_ERROR


def _redact(text: str) -> str:
    if "mlgate.tracking.connection" not in sys.modules:
        return text
    from mlgate.tracking.connection import redact

    return redact(text)


def _settings(args: argparse.Namespace, *, names: bool = False):
    """The configuration; with `names`, the tracking names are checked too (before any work)."""
    from mlgate.config import load_settings

    settings = load_settings(args.config)
    if names:
        settings.names()
    return settings


def _default_report(settings) -> Path:
    return settings.path(settings.report.directory) / "report.json"


def cmd_train(args: argparse.Namespace) -> int:
    from mlgate.tracking.newstore import Creation
    from mlgate.tracking.store import choose_store

    # First, before the heavy imports: a store that does not exist yet is made meanwhile.
    store = choose_store(os.environ)
    with Creation.start(store.uri) as creation:
        return _train_and_report(args, store, creation)


def _report_outputs(settings, path: Path):
    """The report's two files, checked now (template and paths); the job rehearses the write
    before it registers, and writes the report together with the registration."""
    from mlgate.report import template as templates
    from mlgate.report.markdown import render_markdown
    from mlgate.report.outputs import ReportOutputs

    config = settings.report
    template = templates.load(settings.path(config.template) if config.template else None)
    return ReportOutputs(
        path,
        path.with_suffix(".md"),
        lambda doc: render_markdown(doc, template=template, keep=config.keep),
    )


def _train_and_report(args: argparse.Namespace, store: Store, creation: Creation) -> int:
    from mlgate.config import parse_param
    from mlgate.train.job import train

    settings = _settings(args, names=True)
    params = dict(parse_param(p) for p in args.param)
    path = args.report or _default_report(settings)
    markdown = path.with_suffix(".md")
    outputs = _report_outputs(settings, path)
    report = train(
        settings,
        train_path=args.train_data,
        val_path=args.val_data,
        params=params,
        fallback_local=args.fallback_local,
        check_requirements=args.check_requirements,
        store=store,
        creation=creation,
        outputs=outputs,
    )
    if report.serving is not None and not report.serving.passed:
        from mlgate.errors import ServingFailedError

        raise ServingFailedError(
            f"the candidate failed the serving contract, nothing registered "
            f"({report.serving.failed_request}); report: {path}"
        )
    print(_summary_line(report))
    print(f"report: {path} and {markdown}")
    return 0


def _summary_line(report) -> str:
    """One line a person reads first: which version, the gate's own metric, the verdict."""
    from mlgate.report.document import metric_label

    candidate, gate = report.candidate, report.gate
    value = candidate.metrics.get(gate.metric, float("nan"))
    verdict = "passes" if gate.passed else "FAILS"
    against = (
        f"champion v{report.champion.version}"
        if report.champion and gate.baseline == "champion"
        else "the bounds alone"
    )
    kept = ""
    if report.comparison.skipped_reason:  # a temporary store: the version is thrown away
        verdict = "would pass" if gate.passed else "would FAIL"
        kept = "; nothing is kept: the tracking store was temporary, removed at exit"
    return (
        f"run {candidate.run_id} → {report.registered_model} v{candidate.version}: "
        f"validation {metric_label(gate.metric, report.model.unit)} {value:.3f}; "
        f"gate {verdict} against {against}{kept}"
    )


def cmd_report(args: argparse.Namespace) -> int:
    from mlgate.report.document import check_writable, load_report
    from mlgate.report.markdown import render_configured, write_step_summary

    settings = _settings(args)
    path = args.report or _default_report(settings)
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

    settings = _settings(args)
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


def cmd_promote(args: argparse.Namespace) -> int:
    from mlgate.registry.promotion import promote
    from mlgate.report.markdown import write_step_summary

    if not (args.merge_commit or args.version or (args.pr is not None and args.head_sha)):
        raise UsageError(
            "promote needs --merge-commit, --pr with --head-sha, or --version "
            "(see mlgate promote --help)"
        )
    settings = _settings(args, names=True)
    pr, head_sha, github = args.pr, args.head_sha, None
    if args.merge_commit:
        from mlgate.github.client import GitHubClient
        from mlgate.github.merges import find_merged_pr

        github = GitHubClient.from_env()
        try:
            found = find_merged_pr(github, args.merge_commit)
        except UserError as exc:
            write_step_summary(f"### Promotion\n\n❌ {exc}\n")
            raise
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
            github=github,
        )
    except NoCandidateError as exc:
        if github is None or pr is None:
            write_step_summary(f"### Promotion\n\n❌ {exc}\n")
            raise
        message = _no_candidate(github, pr, settings.promotion.model_inputs, exc)
        print(message)
        write_step_summary(f"### Promotion\n\n{message}\n")
        return 0
    except UserError as exc:
        write_step_summary(f"### Promotion\n\n❌ {exc}\n")
        raise
    print(outcome.message)
    write_step_summary(f"### Promotion\n\n✅ {outcome.message}\n")
    return 0


def _no_candidate(github, pr: int, patterns: Sequence[str], error: UserError) -> str:
    """A merged PR with no registered version: fine if it changed no model input, else fail.

    Such a PR's runs had no tracking credentials (a fork, or Dependabot without Dependabot
    secrets); a workflow or docs change needs no promotion, a model change must not vanish.
    """
    from mlgate.github.changes import model_inputs_changed
    from mlgate.report.markdown import write_step_summary

    touched = model_inputs_changed(github, pr, patterns)
    if touched:
        more = f" and {len(touched) - 1} more" if len(touched) > 1 else ""
        message = (
            f"{error}; PR #{pr} changes model inputs ({touched[0]}{more}), so it cannot be "
            "skipped: give its runs tracking credentials (Dependabot secrets for Dependabot "
            "PRs), re-run its PR workflow, then re-run this one"
        )
        write_step_summary(f"### Promotion\n\n❌ {message}\n")
        raise NoCandidateError(message)
    return (
        f"PR #{pr} registered no model version and changes no model input "
        f"({', '.join(patterns)}): nothing to promote"
    )


def cmd_rollback(args: argparse.Namespace) -> int:
    from mlgate.registry import versions as registry
    from mlgate.report.markdown import write_step_summary
    from mlgate.tracking import connection as tracking
    from mlgate.tracking.access import permission

    settings = _settings(args, names=True)
    client = tracking.connect(tracking.resolve_uri(), settings.tracking.connect_retries)
    name = settings.production
    with permission(f"roll back registered model {name!r}"):
        outcome = registry.rollback(client, name, settings.tracking.champion_alias)
    print(outcome.message)
    write_step_summary(f"### Rollback\n\n{outcome.message}\n")
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from mlgate.monitoring.job import monitor
    from mlgate.monitoring.markdown import render_monitoring, verdict_line
    from mlgate.report.markdown import write_step_summary

    settings = _settings(args, names=True)
    report = monitor(
        settings,
        current_path=args.current,
        reference_path=args.reference,
        engine=args.engine,
        spark_master=args.spark_master,
    )
    folder = args.out or settings.path(settings.monitoring.directory)
    path = folder / "monitoring.json"
    report.write(path)
    markdown = render_monitoring(report)
    path.with_suffix(".md").write_text(markdown, encoding="utf-8")
    write_step_summary(markdown)
    print(verdict_line(report))
    print(f"report: {path} and {path.with_suffix('.md')}")
    return EXIT_DRIFT if report.drift else 0


def cmd_fetch_current(args: argparse.Namespace) -> int:
    from mlgate.monitoring.current import fetch_current, month_to_fetch

    settings = _settings(args)
    source = getattr(args, "config", None) or settings.root / "pyproject.toml"
    current = settings.monitoring.current
    month = month_to_fetch(args.month, current.months_back) if current is not None else ""
    out = fetch_current(
        current, args.out, month, cwd=settings.root, source=str(source), say=progress.say
    )
    print(out)
    return 0


def cmd_drift_issue(args: argparse.Namespace) -> int:
    from mlgate.github.client import GitHubClient
    from mlgate.github.issues import sync_drift_issue
    from mlgate.monitoring.document import load_monitoring

    settings = _settings(args)
    report = load_monitoring(args.report)
    outcome = sync_drift_issue(
        GitHubClient.from_env(),
        report,
        label=settings.monitoring.issue_label,
        title=settings.monitoring.issue_title,
    )
    print(outcome.message)
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from mlgate.tuning.job import tune

    settings = _settings(args, names=True)
    path = args.report or _default_report(settings)
    outcome = tune(
        settings,
        train_path=args.train_data,
        val_path=args.val_data,
        trials=getattr(args, "trials", None),
        timeout_s=getattr(args, "timeout", None),
        seed=getattr(args, "seed", None),
        storage=getattr(args, "storage", None),
        study_name=getattr(args, "study", None),
        fallback_local=args.fallback_local,
        outputs=_report_outputs(settings, path),
    )
    report = outcome.report
    print(f"this process ran {outcome.ran} of study {outcome.study!r}'s {outcome.budget} trial(s)")
    if report is None:
        print(outcome.elsewhere)
        return 0
    tuning = report.tuning
    print(
        f"study {outcome.study!r}: {tuning.completed} completed, {tuning.pruned} pruned, "
        f"{tuning.failed} failed of {tuning.n_trials}; best CV {tuning.best_cv_score:.4f}"
    )
    print(_summary_line(report))
    print(f"report: {path} and {path.with_suffix('.md')}")
    return 0


def cmd_tune_matrix(args: argparse.Namespace) -> int:
    from mlgate.tuning import matrix

    settings = _settings(args, names=True)
    planned = matrix.plan(settings, args.workers, args.study, os.environ)
    for key, value in planned.outputs().items():
        print(f"{key}={value}")
    matrix.write_outputs(planned, os.environ)
    return 0


def cmd_candidate(args: argparse.Namespace) -> int:
    settings = _settings(args)  # train and tune check the names first
    if not settings.tuning.enabled:
        return cmd_train(args)
    if args.param:
        raise UserError(
            "--param: [tool.mlgate] tuning.enabled is true, so the search chooses the "
            "hyperparameters (use `mlgate train --param` for a plain run)"
        )
    return cmd_tune(args)


def cmd_serve_check(args: argparse.Namespace) -> int:
    from mlgate.serving.command import serve_check_command

    return serve_check_command(
        _settings(args, names=True), args.model, args.requirements, args.report
    )


def cmd_predict(args: argparse.Namespace) -> int:
    from mlgate.serving.command import predict_command

    return predict_command(
        _settings(args, names=True),
        args.model,
        args.data,
        args.out,
        engine=args.engine,
        spark_master=args.spark_master,
    )


COMMANDS = {
    "fetch-current": cmd_fetch_current,
    "train": cmd_train,
    "report": cmd_report,
    "comment": cmd_comment,
    "promote": cmd_promote,
    "rollback": cmd_rollback,
    "monitor": cmd_monitor,
    "drift-issue": cmd_drift_issue,
    "tune": cmd_tune,
    "tune-matrix": cmd_tune_matrix,
    "candidate": cmd_candidate,
    "serve-check": cmd_serve_check,
    "predict": cmd_predict,
}

THREAD_JOIN_S = 30.0


def entry() -> None:
    """The console script: `main`, then the exit handlers, then a fast exit with its code.

    What the interpreter's teardown would still do for us is done here first: worker threads
    are joined (bounded), exit handlers run (MLflow ends an active run, temporary stores are
    removed) and the standard streams are flushed. An exception or `SystemExit` from `main`
    (SIGTERM, argparse) takes the ordinary, slower exit instead.
    """
    code = main()
    _release_idle_pools()
    deadline = time.monotonic() + THREAD_JOIN_S
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or EXIT_ERROR
    os._exit(code)


def _release_idle_pools() -> None:
    """Tell thread pools' workers to exit once their queued work is done, as the interpreter's
    own shutdown does first: their idle workers (MLflow's artifact uploads keep a pool) are
    not daemons, so the bounded join in `entry` would otherwise wait its whole time for them."""
    pools = sys.modules.get("concurrent.futures.thread")
    lock = getattr(pools, "_global_shutdown_lock", None)
    queues = getattr(pools, "_threads_queues", None)
    if pools is None or lock is None or not isinstance(queues, Mapping):
        return
    with lock:
        pools._shutdown = True
    for queue in list(queues.values()):
        queue.put(None)


if __name__ == "__main__":
    entry()
