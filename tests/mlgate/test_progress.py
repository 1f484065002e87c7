"""Long commands say what they are doing on stderr, as plain lines, and `--quiet` silences them."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from mlgate import progress
from mlgate.cli import main
from mlgate.tracking.connection import TrackingUnavailableError, with_retries
from support.project import Project
from support.stores import sqlite_store

LINE = re.compile(r"^\[\s*\d+\.\ds\] [^\x00-\x1f\x7f]+$")


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    progress.configure(quiet=False, stream=out)
    yield out
    progress.configure(quiet=False)


def test_lines_are_plain_whatever_the_message_carries(stream):
    progress.say("loading \x1b[31mdata/bad\rname.parquet\x07\u2026")
    progress.count("trials", 3, 30)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert all(LINE.match(line) for line in lines), lines
    assert lines[0].endswith("loading  [31mdata/bad name.parquet \u2026")
    assert lines[1].endswith("trials 3/30")


def test_quiet_prints_nothing(stream):
    progress.configure(quiet=True, stream=stream)
    progress.say("fitting\u2026")
    progress.count("rows", 10)
    assert stream.getvalue() == ""


def test_retries_say_what_they_wait_for(stream):
    waits: list[float] = []

    def refuse() -> None:
        raise OSError("Connection refused")

    with pytest.raises(TrackingUnavailableError):
        with_retries(
            refuse, what="tracking server http://mlflow:5000", retries=2, sleep=waits.append
        )
    lines = stream.getvalue().splitlines()
    assert waits == [1.0, 2.0]
    assert [line.split("] ", 1)[1] for line in lines] == [
        "tracking server http://mlflow:5000: Connection refused; retrying in 1 s",
        "tracking server http://mlflow:5000: attempt 2/3",
        "tracking server http://mlflow:5000: Connection refused; retrying in 2 s",
        "tracking server http://mlflow:5000: attempt 3/3",
    ]


@pytest.mark.slow
def test_train_reports_each_step_and_quiet_silences_it(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
):
    project = Project.create(tmp_path / "project", sqlite_store(tmp_path_factory, "progress"))
    project.enter(monkeypatch)

    def loud(*args: str) -> int:
        return main(["--config", str(project.config), *args])

    assert loud("train") == 0
    first = capfd.readouterr().err.splitlines()
    assert loud("promote", "--version", "1") == 0
    promoting = _steps(capfd.readouterr().err)
    rows = project.data("validation").rows
    assert promoting[0] == "loading validation data\u2026"
    assert f"scoring candidate v1 on {rows} rows\u2026" in promoting
    assert promoting[-1] == f"gate passed; moving {project.name}@champion to v1\u2026"
    assert loud("train") == 0
    steps = _steps(capfd.readouterr().err)
    expected = [
        "loading data",
        "connecting to tracking store",
        "fitting ",
        "logging model",
        "evaluating on ",
        "scoring champion v1",
        "gate ",
    ]
    positions = [next(i for i, s in enumerate(steps) if s.startswith(e)) for e in expected]
    assert positions == sorted(positions), steps
    assert any("no champion yet" in line for line in first)
    assert main(["--quiet", "--config", str(project.config), "train"]) == 0
    assert _steps(capfd.readouterr().err) == []


def _steps(err: str) -> list[str]:
    """The progress lines of a command's stderr, without their clock."""
    lines = [line for line in err.splitlines() if line.startswith("[")]
    assert all(LINE.match(line) for line in lines), lines
    return [line.split("] ", 1)[1] for line in lines]
