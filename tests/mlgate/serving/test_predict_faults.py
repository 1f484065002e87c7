"""`predict` outputs under faults: an output that cannot be written is one line before any
scoring, a disk that fills mid-run is one line, and SIGTERM leaves no `.parquet.tmp`."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlgate.errors import UserError
from mlgate.serving.batch import score_file
from support.project import Project


def _unwritable(tmp_path: Path, kind: str) -> Path:
    out = tmp_path / "out" / "predictions.parquet"
    if kind == "under-proc":
        return Path("/proc/mlgate/predictions.parquet")
    if kind == "directory":
        out.mkdir(parents=True)
    elif kind == "parent-is-a-file":
        out.parent.write_text("not a folder", encoding="utf-8")
    elif kind == "tmp-in-the-way":
        out.with_name(out.name + ".tmp").mkdir(parents=True)
    elif kind == "fifo":
        out.parent.mkdir()
        os.mkfifo(out)
    return out


@pytest.mark.parametrize(
    "kind", ["under-proc", "directory", "parent-is-a-file", "tmp-in-the-way", "fifo"]
)
def test_an_unwritable_output_is_one_line_before_any_scoring(
    tmp_path: Path, kind: str, monkeypatch, capsys
) -> None:
    project = Project.create(tmp_path / "project", "")
    monkeypatch.chdir(project.root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    out = _unwritable(tmp_path, kind)
    data = project.root / "data" / "validation.parquet"
    started = time.monotonic()
    assert project.cli("predict", "--model", "1", "--data", str(data), "--out", str(out)) == 1
    assert time.monotonic() - started < 10, "before connecting or loading a model"
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.strip()] == [err.strip()]
    assert err.startswith(f"error: {out}"), "the output is named, not the tracking server"


class Sums:
    """The plug-in side of a two-column model (see test_batch)."""

    def raw_columns(self) -> list[str]:
        return ["a", "b"]

    def raw_features(self, table: pd.DataFrame) -> pd.DataFrame:
        return table.loc[:, ["a", "b"]]


class SumModel:
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return (frame["a"] + frame["b"]).to_numpy(dtype=float)


def _data(path: Path, rows: int) -> Path:
    frame = pd.DataFrame({"a": np.arange(rows, dtype=float), "b": np.ones(rows)})
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=100)
    return path


def test_a_disk_that_fills_mid_run_is_one_line_and_leaves_nothing(
    tmp_path: Path, monkeypatch
) -> None:
    data = _data(tmp_path / "in.parquet", 1000)
    out = tmp_path / "predictions.parquet"
    writes = {"n": 0}
    real = pq.ParquetWriter.write_table

    def fills_up(self, table, *args, **kwargs):
        writes["n"] += 1
        if writes["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", fills_up)
    with pytest.raises(UserError, match="No space left on device") as raised:
        score_file(SumModel(), Sums(), data, out, batch_rows=100)
    assert str(raised.value).startswith(str(out))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


SLOW_RUN = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pandas as pd
    from mlgate.serving.batch import score_file

    class Plugin:
        def raw_columns(self):
            return ["a", "b"]

        def raw_features(self, table):
            return table.loc[:, ["a", "b"]]

    class Slow:
        def predict(self, frame):
            Path(sys.argv[3]).touch()
            time.sleep(0.05)
            return (frame["a"] + frame["b"]).to_numpy(dtype=float)

    score_file(Slow(), Plugin(), Path(sys.argv[1]), Path(sys.argv[2]), batch_rows=100)
    """
)


@pytest.mark.parametrize("after_batches", [1, 5])
def test_sigterm_mid_run_exits_143_and_leaves_no_tmp(tmp_path: Path, after_batches: int) -> None:
    data = _data(tmp_path / "in.parquet", 100_000)
    out = tmp_path / "predictions.parquet"
    started = tmp_path / "started"
    script = tmp_path / "run.py"
    script.write_text(SLOW_RUN, encoding="utf-8")
    run = subprocess.Popen(
        [sys.executable, str(script), str(data), str(out), str(started)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert run.poll() is None, "the run ended before scoring"
            assert time.monotonic() < deadline, "scoring never started"
            time.sleep(0.05)
        time.sleep(0.05 * (after_batches - 1))
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet", "run.py", "started"]
