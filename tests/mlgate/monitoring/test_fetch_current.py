"""`mlgate fetch-current`: the configured command, bounded, atomic, and one-line failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from mlgate.cli import main
from mlgate.config import load_settings
from mlgate.errors import UserError
from mlgate.monitoring.current import month_to_fetch

WRITE = "import sys; open(sys.argv[2], 'w').write(sys.argv[1])"
SLEEP = (
    "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); "
    "open(sys.argv[2], 'w').write('half'); time.sleep(60)"
)


def table(command: list[str], **keys: object) -> str:
    quoted = ", ".join(json.dumps(part) for part in command)
    lines = [f"command = [{quoted}]", *(f"{k} = {v}" for k, v in keys.items())]
    return "[tool.mlgate.monitoring.current]\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("command = []\n", "command: List should have at least 1 item"),
        ("command = ['', '{out}']\n", "the program (first item) is empty"),
        ("command = ['cp', 'a', 'b']\n", "no argument holds {out}"),
        ("command = ['get', '{out}', '{mnth}']\n", "unknown placeholder {mnth}"),
        ("command = ['get', '{out}']\ntimeout_s = 7200\n", "timeout_s: Input should be less"),
        ("command = ['get', '{out}']\ntimeout_s = 0\n", "timeout_s: Input should be greater"),
        ("command = ['get', '{out}']\nmonths_back = -1\n", "months_back: Input should be"),
        ("command = ['get', '{out}']\ncolour = 1\n", "colour: Extra inputs are not permitted"),
        ("months_back = 1\n", "command: Field required"),
        ("command = 'get {out}'\n", "command: Input should be a valid list"),
    ],
    ids=[
        "empty",
        "no-program",
        "no-out",
        "unknown-placeholder",
        "timeout-too-long",
        "timeout-zero",
        "negative-months",
        "unknown-key",
        "no-command",
        "a-string",
    ],
)
def test_configuration_errors_are_one_line_naming_the_setting(
    pyproject: Callable[..., Path], body: str, message: str
) -> None:
    path = pyproject(f"[tool.mlgate.monitoring.current]\n{body}")
    with pytest.raises(UserError) as error:
        load_settings(path)
    text = str(error.value)
    assert text.startswith(f"{path}: [tool.mlgate] monitoring.current."), text
    assert message in text
    assert "\n" not in text


def run(config: Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--config", str(config), "fetch-current", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_without_the_setting_it_fails_in_one_line_and_writes_nothing(
    pyproject: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "data" / "current.parquet"
    code, _, err = run(pyproject(), "--out", str(target), capsys=capsys)
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith("error: ")
    assert "no [tool.mlgate.monitoring.current] command configured" in line
    assert str(tmp_path / "pyproject.toml") in line
    assert not target.exists()


@pytest.mark.parametrize(
    ("given", "back", "expected"),
    [(None, 2, "2024-01"), ("", 1, "2024-02"), ("2023-07", 2, "2023-07"), (None, 0, "2024-03")],
)
def test_the_month_is_the_given_one_or_months_back(
    given: str | None, back: int, expected: str
) -> None:
    assert month_to_fetch(given, back, date(2024, 3, 15)) == expected


@pytest.mark.parametrize("month", ["2024-13", "24-01", "2024-1", "now-2"])
def test_a_bad_month_is_a_usage_error(
    pyproject: Callable[..., Path], month: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = pyproject(table(["{python}", "-c", WRITE, "{month}", "{out}"]))
    code, _, err = run(config, "--month", month, capsys=capsys)
    assert code == 2
    assert "expected YYYY-MM" in err


def test_success_replaces_the_file_atomically(
    pyproject: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = pyproject(table(["{python}", "-c", WRITE, "{month}", "{out}"], months_back=0))
    target = tmp_path / "data" / "current.parquet"
    code, out, err = run(config, "--month", "2024-03", "--out", str(target), capsys=capsys)
    assert code == 0, err
    assert target.read_text() == "2024-03"
    assert out.strip() == str(target)
    assert "waiting at most 900 s" in err
    code, _, _ = run(config, "--out", str(target), capsys=capsys)
    assert code == 0
    assert target.read_text() == month_to_fetch(None, 0)
    assert sorted(p.name for p in target.parent.iterdir()) == ["current.parquet"]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            ["{python}", "-c", "import sys; open(sys.argv[1], 'w'); sys.exit(3)", "{out}"],
            "exited 3",
        ),
        (["{python}", "-c", "pass", "{out}"], "wrote no file at its {out} path"),
        (["no-such-program-here", "{out}"], "cannot start"),
    ],
    ids=["exit-3", "wrote-nothing", "not-found"],
)
def test_a_failing_command_leaves_the_old_file_and_no_partial_one(
    pyproject: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    message: str,
) -> None:
    config = pyproject(table(command))
    target = tmp_path / "data" / "current.parquet"
    target.parent.mkdir()
    target.write_text("last month")
    code, _, err = run(config, "--month", "2024-03", "--out", str(target), capsys=capsys)
    assert code == 1
    (line,) = [line for line in err.splitlines() if line.startswith("error: ")]
    assert message in line
    assert "monitoring.current" in line
    assert target.read_text() == "last month"
    assert sorted(p.name for p in target.parent.iterdir()) == ["current.parquet"]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_command_over_its_time_is_stopped_and_leaves_nothing(
    pyproject: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid_file = tmp_path / "pid"
    config = pyproject(table(["{python}", "-c", SLEEP, str(pid_file), "{out}"], timeout_s=0.8))
    target = tmp_path / "data" / "current.parquet"
    started = time.monotonic()
    code, _, err = run(config, "--month", "2024-03", "--out", str(target), capsys=capsys)
    assert code == 1
    assert time.monotonic() - started < 20
    assert "did not finish within timeout_s = 0.8 s" in err
    assert _gone(int(pid_file.read_text()))
    assert list(target.parent.iterdir()) == []


def test_sigterm_stops_the_command_and_exits_143(
    pyproject: Callable[..., Path], tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    config = pyproject(table(["{python}", "-c", SLEEP, str(pid_file), "{out}"], timeout_s=60))
    target = tmp_path / "data" / "current.parquet"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "mlgate.cli", "--config", str(config), "fetch-current"),
            *("--month", "2024-03", "--out", str(target)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not (pid_file.is_file() and pid_file.read_text()):
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the command never started"
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 143
    if process.stderr:
        process.stderr.close()
    assert _gone(int(pid_file.read_text()))
    assert list(target.parent.iterdir()) == []


def test_the_monitor_workflow_fetches_with_the_command_and_monitors_that_file() -> None:
    import yaml

    workflow = Path(__file__).resolve().parents[3] / ".github" / "workflows" / "monitor.yml"
    steps = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"]["monitor"]["steps"]
    runs = [step.get("run", "") for step in steps]
    (fetch,) = [i for i, run in enumerate(runs) if "mlgate fetch-current" in run]
    (monitor,) = [i for i, run in enumerate(runs) if "mlgate monitor " in run]
    assert fetch < monitor
    assert "--out data/current.parquet" in runs[fetch]
    assert "--current data/current.parquet" in runs[monitor]
    assert not [run for run in runs if "python " in run or "scripts/" in run], runs
