"""The scoring-child benchmark runs end to end: the performance page quotes it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "benchmark_score.py"
NUMBER = r"([0-9]+\.[0-9]+)"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_repeat_count_below_one_is_a_usage_error() -> None:
    done = _run("--repeats", "0")
    assert done.returncode == 2
    assert "--repeats" in done.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_the_benchmark_times_both_processes_and_their_ratio() -> None:
    done = _run("--repeats", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    figures = {
        name: (float(wall), float(cpu))
        for name, wall, cpu in re.findall(
            rf"^\s*(child|bare): wall\s+{NUMBER} s, cpu\s+{NUMBER} s$", done.stdout, re.M
        )
    }
    assert set(figures) == {"child", "bare"}, done.stdout
    assert all(wall > 0 and cpu > 0 for wall, cpu in figures.values())
    found = re.search(rf"ratio: child / bare wall {NUMBER}, cpu {NUMBER}", done.stdout)
    assert found, done.stdout
    wall_ratio, cpu_ratio = (float(g) for g in found.groups())
    assert wall_ratio == pytest.approx(figures["child"][0] / figures["bare"][0], abs=0.01)
    assert cpu_ratio == pytest.approx(figures["child"][1] / figures["bare"][1], abs=0.01)
