"""The `mlgate` command line: every command, its flags and their help, and the exit statuses
in the epilog. Parsing imports nothing heavy, so `--help` answers at once."""

from __future__ import annotations

import argparse
import string
from pathlib import Path

from mlgate.errors import (
    EXIT_DRIFT,
    EXIT_ERROR,
    EXIT_GATE_FAILED,
    EXIT_NO_CANDIDATE,
    EXIT_SERVING_FAILED,
    EXIT_USAGE,
)
from mlgate.storage import argument as data_location
from mlgate.termination import TERMINATED_EXIT

EPILOG = f"""exit status: 0 success (including "nothing to do"), {EXIT_ERROR} error (bad input,
unreachable server, GitHub API error), {EXIT_USAGE} usage, {EXIT_GATE_FAILED} quality gate failed
(nothing promoted), {EXIT_NO_CANDIDATE} no candidate version to promote, {EXIT_DRIFT} monitor found
drift, {EXIT_SERVING_FAILED} the model failed the serving contract (nothing registered),
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


def build_parser() -> argparse.ArgumentParser:
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
