"""SIGTERM during `train` (a cancelled CI job): unwind like an error, with exit 143.

Raised as `SystemExit(143)` from the handler, it passes through the tracked run (marked FAILED)
and every `finally`. Around registering and writing the report the signal is held back, so
those happen together or are undone together.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from mlgate import termination as outer

TERMINATED_EXIT = 128 + signal.SIGTERM


class Termination:
    """The process's SIGTERM handler while a job runs; `held()` defers it."""

    def __init__(self) -> None:
        self.pending = False
        self._holding = 0

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._holding:
            self.pending = True
            return
        raise SystemExit(TERMINATED_EXIT)

    @contextmanager
    def held(self) -> Iterator[Termination]:
        self._holding += 1
        try:
            yield self
        finally:
            self._holding -= 1


@contextmanager
def terminable() -> Iterator[Termination]:
    """Install the handler for the job's duration (main thread only), then restore the old one."""
    termination = Termination()
    if threading.current_thread() is not threading.main_thread():
        yield termination
        return
    previous = signal.signal(signal.SIGTERM, termination._handle)
    try:
        # A SIGTERM recorded by an enclosing job (a tuning search) before this handler was
        # installed stops the job here, before anything is logged.
        outer.check()
        yield termination
    finally:
        signal.signal(signal.SIGTERM, previous)
