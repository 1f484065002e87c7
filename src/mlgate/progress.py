"""Progress of long commands, on stderr, so stdout stays the command's result.

Plain lines with no control characters, the same in a terminal, in CI logs and in files: a
message that carries one (a path, an exception's text) has it replaced by a space. `--quiet`
(`configure(quiet=True)`) turns every line off.
"""

from __future__ import annotations

import sys
import time
import unicodedata
from typing import TextIO

_state: dict[str, object] = {"quiet": False, "start": time.monotonic(), "stream": None}


def configure(*, quiet: bool, stream: TextIO | None = None) -> None:
    _state["quiet"] = quiet
    _state["start"] = time.monotonic()
    _state["stream"] = stream


def plain(message: str) -> str:
    """One printable line: control characters (escape codes, carriage returns) become spaces."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in message).strip()


def say(message: str) -> None:
    """One step ("fitting…"), with the seconds since the command started."""
    if not _state["quiet"]:
        elapsed = time.monotonic() - float(_state["start"])
        stream = _state["stream"] or sys.stderr
        print(f"[{elapsed:6.1f}s] {plain(message)}", file=stream, flush=True)


def count(label: str, done: int, total: int | None = None) -> None:
    """A count of trials or rows so far ("trials 3/30")."""
    say(f"{label} {done}/{total}" if total is not None else f"{label} {done}")


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary with an ellipsis, so no line ends mid-word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "\u2026"
