"""The classifier benchmark refuses sizes it cannot run in one line (its figures come from
running it, quoted on the performance page with the command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "benchmark_classifier.py"


@pytest.mark.parametrize("args", [["--rows", "10"], ["--repeats", "0"], ["--rows", "2000000000"]])
def test_out_of_range_arguments_are_one_line(args: list[str]) -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
