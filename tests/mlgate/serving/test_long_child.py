"""A long child (the clean-environment install takes minutes) is never silent: a progress line
at least every `PROGRESS_S`, and past its time bound it is killed with what it started."""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

import pytest

from mlgate import progress
from mlgate.serving import check


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch):
    stream = io.StringIO()
    progress.configure(quiet=False, stream=stream)
    monkeypatch.setattr(check, "PROGRESS_S", 0.1)
    yield stream
    progress.configure(quiet=False)


@pytest.mark.parametrize(
    ("seconds", "timeout_s", "finishes"),
    [
        pytest.param(0.1, 10.0, True, id="quick"),
        pytest.param(0.5, 10.0, True, id="long"),
        pytest.param(60.0, 0.8, False, id="past-its-bound"),
    ],
)
def test_a_long_child_says_it_still_runs(
    lines: io.StringIO, seconds: float, timeout_s: float, finishes: bool, tmp_path
) -> None:
    grandchild = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time; "
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep({seconds})']); "
        f"open({str(grandchild)!r}, 'w').write(str(p.pid)); "
        f"time.sleep({seconds}); print('done')"
    )
    started = time.monotonic()
    done = check.run_with_progress(
        [sys.executable, "-c", code], env=dict(os.environ), timeout_s=timeout_s, what="installing"
    )
    elapsed = time.monotonic() - started
    said = [line for line in lines.getvalue().splitlines() if "installing" in line]
    gaps = elapsed / (len(said) + 1)
    assert gaps < 0.1 + 0.3, f"{len(said)} progress line(s) in {elapsed:.1f} s"
    if finishes:
        assert done is not None
        assert done.stdout.strip() == "done"
    else:
        assert done is None
        assert elapsed < timeout_s + 5
        pid = int(grandchild.read_text())
        time.sleep(0.2)
        assert not _running(pid), "what the child started is killed with it"


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
