"""SIGTERM (a cancelled CI job) acted on at safe points, with exit 143.

A handler that raised wherever the main thread happened to be could cut an MLflow or SQLAlchemy
call in half: a lexer left half-initialised refuses every later filter string, a pooled
connection is reset mid-statement and prints a traceback, so the job can no longer release
what it holds. Here the handler only records the signal. Code raises at its safe points
(`check()`, between store calls), and inside `interruptible()` regions (a sleep, a wait on a
child process) the handler raises at once, since nothing there is half-written.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

TERMINATED_EXIT = 128 + signal.SIGTERM


class Terminated(SystemExit):
    """The job unwinds (every `finally` runs) and the process exits 143."""

    def __init__(self) -> None:
        super().__init__(TERMINATED_EXIT)


class _State:
    def __init__(self) -> None:
        self.pending = False
        self.interruptible = 0
        self.installed = 0

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.pending = True
        if self.interruptible:
            self.interruptible = 0  # raised once; a second signal only records again
            raise Terminated


_STATE = _State()


def pending() -> bool:
    """Whether a SIGTERM arrived and is not yet acted on."""
    return _STATE.pending


def check() -> None:
    """A safe point: raise `Terminated` if a SIGTERM arrived."""
    if _STATE.pending:
        raise Terminated


@contextmanager
def interruptible() -> Iterator[None]:
    """A region a SIGTERM may cut at once (nothing in it is half-written when it does)."""
    check()
    _STATE.interruptible += 1
    try:
        yield
    finally:
        _STATE.interruptible = max(0, _STATE.interruptible - 1)


def sleep(seconds: float) -> None:
    """`time.sleep` that a SIGTERM ends at once."""
    import time

    with interruptible():
        time.sleep(seconds)


@contextmanager
def deferred() -> Iterator[None]:
    """Install the recording handler for the block (main thread only), then restore the old
    one; a SIGTERM still pending when the block ends exits 143 then."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    outermost = _STATE.installed == 0
    previous = signal.signal(signal.SIGTERM, _STATE.handle) if outermost else None
    if outermost:
        _STATE.pending = False
        _STATE.interruptible = 0
    _STATE.installed += 1
    try:
        yield
    finally:
        _STATE.installed -= 1
        if outermost:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
            _STATE.interruptible = 0
    if outermost:
        check()
