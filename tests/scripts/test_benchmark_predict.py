"""The batch-scoring benchmarks run end to end on small files: the figures on the performance
and scale pages come from these scripts, quoted with the commands that made them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
NUMBER = r"([0-9][0-9,]*(?:\.[0-9]+)?|inf)"  # a margin within the timing noise is inf


def _run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _number(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.mark.slow
def test_the_predict_benchmark_gives_both_margins_and_their_ratio() -> None:
    out = _run("benchmark_predict.py", "--small", "2000", "--large", "100000", "--repeats", "1")
    for rows in ("2,000", "100,000"):
        assert re.search(rf"^\s+{rows} rows: predict\s+{NUMBER} s, bare read\+predict", out, re.M)
    found = re.search(
        rf"margin: predict {NUMBER} rows/s, bare {NUMBER} rows/s, ratio {NUMBER}", out
    )
    assert found, out
    ours, bare, ratio = (_number(g) for g in found.groups())
    assert ours > 0
    assert bare > 0
    assert ratio == pytest.approx(ours / bare if bare != float("inf") else 0.0, abs=0.01, rel=0.01)


@pytest.mark.slow
def test_the_scale_benchmark_times_both_engines_for_predict_and_monitor() -> None:
    out = _run(
        "benchmark_scale.py",
        *("--predict-rows", "3000", "--monitor-rows", "3000", "--reference-rows", "3000"),
    )
    rows = re.findall(
        rf"^\s*(predict|monitor)\s+{NUMBER} rows: local\s+{NUMBER} s, spark\s+{NUMBER} s, "
        rf"spark / local {NUMBER}",
        out,
        re.M,
    )
    assert [(what, count) for what, count, *_ in rows] == [
        ("predict", "3,000"),
        ("monitor", "3,000"),
    ], out
    for _, _, local, spark, ratio in rows:
        assert _number(ratio) == pytest.approx(_number(spark) / _number(local), rel=0.05)
