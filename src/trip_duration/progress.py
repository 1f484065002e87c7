"""Progress of long commands, on stderr, so stdout stays the command's result.

Plain lines with no control characters: the same in a terminal, in CI logs and in files.
"""

from __future__ import annotations

import sys
import time

_state = {"quiet": False, "start": time.monotonic()}


def configure(*, quiet: bool) -> None:
    _state["quiet"] = quiet
    _state["start"] = time.monotonic()


def say(message: str) -> None:
    """One step ("fitting…"), with the seconds since the command started."""
    if not _state["quiet"]:
        elapsed = time.monotonic() - float(_state["start"])
        print(f"[{elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)


def count(label: str, done: int, total: int | None = None) -> None:
    """A count of trials or rows so far ("trials 3/30")."""
    say(f"{label} {done}/{total}" if total is not None else f"{label} {done}")
