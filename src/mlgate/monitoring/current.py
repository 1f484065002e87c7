"""The data the Monitor workflow checks, fetched by a command the project configures.

Why: where new data comes from (a download, a warehouse query) belongs to the model, not to the
lifecycle, so the workflow names no data source of its own. `mlgate fetch-current` runs the
command of `[tool.mlgate.monitoring.current]` for one month, bounded in time, and the target
file is replaced only when the command succeeded and wrote it (a failure leaves it as it was
and exits non-zero, so the workflow stops before `monitor`): never a half-written file. With
no such setting it refuses in one line rather than let the workflow score the wrong data.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mlgate import storage, termination
from mlgate.errors import UsageError, UserError
from mlgate.storage import Location

SETTING = "[tool.mlgate] monitoring.current"
MAX_TIMEOUT_S = 3600.0
PLACEHOLDERS = ("{month}", "{out}", "{python}")
TERMINATED_EXIT = 128 + signal.SIGTERM
PROGRESS_EVERY_S = 30.0
STOP_GRACE_S = 5.0
MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


class CurrentDataConfig(BaseModel):
    """How `mlgate fetch-current` gets the data the Monitor workflow checks.

    `command` is an argument list, run without a shell from the configuration file's folder:
    `{month}` becomes the month (`YYYY-MM`), `{out}` the file the command must write (a
    temporary name beside the target, renamed to it only once the command exits 0), and
    `{python}` the Python that runs mlgate. The month is `--month`, else `months_back` months
    before the current one (UTC). The command is stopped after `timeout_s` seconds.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    command: list[str] = Field(min_length=1)
    months_back: int = Field(default=1, ge=0, le=120)
    timeout_s: float = Field(default=900.0, gt=0, le=MAX_TIMEOUT_S, allow_inf_nan=False)

    @field_validator("command")
    @classmethod
    def _runnable(cls, command: list[str]) -> list[str]:
        if not command[0].strip():
            raise ValueError("the program (first item) is empty")
        if not any("{out}" in argument for argument in command):
            raise ValueError("no argument holds {out}, the file the command must write")
        for argument in command:
            unknown = set(re.findall(r"\{\w*\}", argument)) - set(PLACEHOLDERS)
            if unknown:
                raise ValueError(
                    f"unknown placeholder {sorted(unknown)[0]} (known: {', '.join(PLACEHOLDERS)})"
                )
        return command


def month_to_fetch(given: str | None, months_back: int, today: date | None = None) -> str:
    """`given` (YYYY-MM) when set, else the month `months_back` months before today (UTC)."""
    if given:
        if not MONTH.fullmatch(given):
            raise UsageError(f"--month {given!r}: expected YYYY-MM, e.g. 2024-03")
        return given
    today = today or datetime.now(UTC).date()
    index = today.year * 12 + today.month - 1 - months_back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def fetch_current(
    config: CurrentDataConfig | None,
    out: Location,
    month: str,
    *,
    cwd: Path,
    source: str,
    say: Callable[[str], None] = print,
) -> Location:
    """Run the configured command for `month`; `out` exists afterwards only if it succeeded.

    `out` may be an object's URI: the command writes a local file, which is then put in the
    bucket whole (`mlgate.storage.Output`). Every failure is a `UserError` naming `source`
    (the configuration file) and the setting; SIGTERM stops the command too and exits 143.
    """
    if config is None:
        raise UserError(
            f"{source}: no [tool.mlgate.monitoring.current] command configured: nothing says "
            "where the data to monitor comes from (docs/monitoring.md)"
        )
    if isinstance(out, Path):
        out.parent.mkdir(parents=True, exist_ok=True)
    else:
        storage.check_output(out)
    output = storage.Output(out, partial=f".{{name}}.{secrets.token_hex(4)}.part")
    partial = output.local
    values = {"{month}": month, "{out}": str(partial), "{python}": sys.executable}
    argv = [_fill(argument, values) for argument in config.command]
    try:
        _run(argv, cwd, config.timeout_s, source, month, say)
        if not partial.is_file() or partial.stat().st_size == 0:
            raise UserError(
                f"{source}: {SETTING} command {argv[0]} exited 0 for {month} but wrote no "
                "file at its {out} path"
            )
        size = partial.stat().st_size
        with termination.deferred():
            output.commit()
    finally:
        output.discard()
    say(f"fetched the data for {month}: {out} ({size:,} bytes)")
    return out


def _fill(argument: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        argument = argument.replace(placeholder, value)
    return argument


def _run(
    argv: list[str], cwd: Path, timeout: float, source: str, month: str, say: Callable[[str], None]
) -> None:
    """Run `argv` to completion within `timeout` seconds, or stop it and raise."""
    say(
        f"waiting at most {timeout:g} s for {argv[0]} to write the data for {month} "
        f"({SETTING}.command)"
    )
    try:
        process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        raise UserError(f"{source}: {SETTING} command {argv[0]!r} cannot start ({exc})") from None
    start = time.monotonic()
    with _stops(process):
        while True:
            waited = time.monotonic() - start
            try:
                code = process.wait(timeout=min(PROGRESS_EVERY_S, max(timeout - waited, 0.01)))
                break
            except subprocess.TimeoutExpired:
                waited = time.monotonic() - start
                if waited >= timeout:
                    _stop(process)
                    raise UserError(
                        f"{source}: {SETTING} command {argv[0]} did not finish within "
                        f"timeout_s = {timeout:g} s for {month}; stopped, nothing written"
                    ) from None
                say(f"still waiting for {argv[0]}: {waited:.0f} s of at most {timeout:g} s")
    if code != 0:
        raise UserError(
            f"{source}: {SETTING} command {argv[0]} exited {code} for {month}; nothing written"
        )


def _stop(process: subprocess.Popen) -> None:
    """End the command and whatever it started: SIGTERM to its group, SIGKILL after a grace."""
    for sig, grace in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, STOP_GRACE_S)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def _stops(process: subprocess.Popen) -> Iterator[None]:
    """While the command runs, SIGTERM (a cancelled job) stops it and exits 143; any other way
    out of the wait (Ctrl-C, an error) stops it too."""

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(TERMINATED_EXIT)

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, terminate) if main else None
    try:
        yield
    except BaseException:
        _stop(process)
        raise
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
