"""A job killed while its scoring child works (SIGKILL: no `finally` runs) leaves nothing
running, and its temporary model copies are removed by the next job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mlgate import children

SLOW = """
import os, time
import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel


class Slow(PythonModel):
    def predict(self, context, model_input, params=None):
        marker = os.path.join(os.environ["TMPDIR"], f"scoring-{os.getpid()}")
        open(marker, "w").close()
        time.sleep(600)
        return pd.Series([0.0] * len(model_input))


set_model(Slow())
"""
JOB = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from mlgate.registry.score import predict_isolated

    predict_isolated([sys.argv[1]], pd.DataFrame({"x": [1.0, 2.0]}))
    """
)


def _wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*Add type hints")
def test_a_killed_job_leaves_no_scoring_child_and_its_folder_is_swept(tmp_path: Path) -> None:
    import mlflow

    code = tmp_path / "slow.py"
    code.write_text(textwrap.dedent(SLOW), encoding="utf-8")
    model = tmp_path / "model"
    mlflow.pyfunc.save_model(str(model), python_model=str(code))
    temp = tmp_path / "tmp"
    temp.mkdir()
    script = tmp_path / "job.py"
    script.write_text(JOB, encoding="utf-8")
    job = subprocess.Popen(
        [sys.executable, str(script), str(model)],
        env={**os.environ, "TMPDIR": str(temp)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        marker = _wait_for(
            lambda: next(temp.glob("scoring-*"), None), 120, "the child never started scoring"
        )
        child = int(marker.name.split("-")[1])
        assert children.alive(child)
        job.send_signal(signal.SIGKILL)
        job.wait(timeout=30)
        _wait_for(lambda: not _running(child), 10, "the scoring child outlived its parent")
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    left = list(temp.glob(f"mlgate-score-{job.pid}-*"))
    assert left, "SIGKILL runs no cleanup: the folder is there until the next job"
    assert children.sweep("score", temp) == left
    assert not any(path.exists() for path in left)


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for a parent that reaps it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _exited_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.parametrize(
    ("name", "kind", "swept"),
    [
        pytest.param("mlgate-score-{dead}-abc", "dir", True, id="dead-owner"),
        pytest.param("mlgate-score-{me}-abc", "dir", False, id="this-process"),
        pytest.param("mlgate-score-{live}-abc", "dir", False, id="live-owner"),
        pytest.param("mlgate-score-abc", "dir", False, id="no-owner-pid"),
        pytest.param("mlgate-serve-{dead}-abc", "dir", False, id="another-kind"),
        pytest.param("mlgate-score-{dead}-abc", "file", False, id="a-file"),
        pytest.param("mlgate-score-{dead}-abc", "symlink", False, id="a-symlink"),
    ],
)
def test_only_folders_of_exited_owners_are_swept(
    tmp_path: Path, name: str, kind: str, swept: bool
) -> None:
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        path = tmp_path / name.format(dead=_exited_pid(), me=os.getpid(), live=live.pid)
        if kind == "dir":
            path.mkdir()
            (path / "model.pkl").write_bytes(b"x")
        elif kind == "file":
            path.write_bytes(b"x")
        else:
            (tmp_path / "target").mkdir()
            path.symlink_to(tmp_path / "target")
        assert children.sweep("score", tmp_path) == ([path] if swept else [])
        assert path.exists() is not swept
    finally:
        live.kill()
        live.wait()


def test_a_child_whose_parent_is_already_gone_exits_at_once() -> None:
    """The parent died between starting the child and the child's first line."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from mlgate import children; children.die_with_parent(1); print('still here')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 128 + signal.SIGKILL
    assert "still here" not in done.stdout
