"""The promotion lock: one promotion or rollback of a registered model at a time.

The lock is a registered model under a reserved name, whose creation is atomic in every MLflow
store. Its holder records where it runs (host, pid namespace, pid) and refreshes a heartbeat
tag from a background thread, so a holder that died (SIGKILL, a cancelled runner) is
recognised within `stale_s` seconds, or at once when it ran on this machine and its process is
gone. SIGTERM unwinds the holder like Ctrl-C does, so a cancelled job releases the lock.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from trip_duration import progress
from trip_duration.errors import UserError

if TYPE_CHECKING:
    from mlflow import MlflowClient

LOCK_SUFFIX = ".promotion-lock"
STALE_S = 30.0
"""A lock whose heartbeat is older than this is taken over: its holder is gone."""
HEARTBEAT_S = 5.0
WAIT_S = 300.0
TERMINATED_EXIT = 128 + signal.SIGTERM


def machine() -> str:
    """This host and pid namespace: pids are only comparable between equal machines."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = "-"
    return f"{socket.gethostname()}/{namespace}"


def _code(exc: Exception) -> str | None:
    return getattr(exc, "error_code", None)


@contextmanager
def promotion_lock(
    client: MlflowClient,
    name: str,
    *,
    wait_s: float = WAIT_S,
    stale_s: float = STALE_S,
    heartbeat_s: float = HEARTBEAT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the model's promotion lock; a dead holder's lock is taken over (see the module)."""
    lock = name + LOCK_SUFFIX
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    _acquire(client, name, lock, owner, wait_s=wait_s, stale_s=stale_s, sleep=sleep)
    beat = _Heartbeat(client, lock, owner, heartbeat_s)
    guard = _TerminationGuard()
    with guard:
        beat.start()
        try:
            yield
        finally:
            guard.releasing = True
            beat.stop()
            _release(client, lock, owner)


def _acquire(
    client: MlflowClient,
    name: str,
    lock: str,
    owner: str,
    *,
    wait_s: float,
    stale_s: float,
    sleep: Callable[[float], None],
) -> None:
    from mlflow.exceptions import MlflowException

    started = time.monotonic()
    next_say = 0.0
    while True:
        stamp = f"{time.time():.3f}"
        try:
            client.create_registered_model(
                lock,
                tags={
                    "owner": owner,
                    "machine": machine(),
                    "pid": str(os.getpid()),
                    "acquired_at": stamp,
                    "heartbeat_at": stamp,
                },
                description=f"Held while a promotion or rollback of {name} runs. "
                "Safe to delete when no such job is running.",
            )
            return
        except MlflowException as exc:
            # On an auth-enabled server a create that races a release can fail as "does not
            # exist" (the permission bookkeeping of the lock just deleted): try again.
            if _code(exc) not in ("RESOURCE_ALREADY_EXISTS", "RESOURCE_DOES_NOT_EXIST"):
                raise
        held = _lock_tags(client, lock)
        if held is None:
            if time.monotonic() - started > wait_s:
                raise UserError(f"registered model {lock!r} could not be created: giving up")
            continue
        if held.get("owner") == owner:  # the create went through after all
            return
        dead = _dead_holder(held, stale_s)
        if dead:
            progress.say(f"promotion lock {lock}: taking it over ({dead})")
            _release(client, lock, held.get("owner", ""))
            continue
        waited = time.monotonic() - started
        if waited > wait_s:
            raise UserError(
                f"registered model {lock!r} is held by {held.get('owner', '?')} (alive "
                f"{_age(held):.0f} s ago): another promotion is running; retry later, or delete "
                "it if that job died"
            )
        if waited >= next_say:
            next_say = waited + 10
            progress.say(
                f"waiting for the promotion lock {lock} held by {held.get('owner', '?')} "
                f"({waited:.0f}/{wait_s:.0f} s)"
            )
        sleep(0.2 + random.random() * 0.3)


def _age(held: dict[str, str]) -> float:
    """Seconds since the holder last showed it was alive."""
    stamps = []
    for key in ("heartbeat_at", "acquired_at"):
        with contextlib.suppress(ValueError):
            stamps.append(float(held.get(key, "") or "nan"))
    stamps = [s for s in stamps if s == s]
    return time.time() - max(stamps, default=0.0)


def _dead_holder(held: dict[str, str], stale_s: float) -> str | None:
    """Why the holder is gone, or None while it may still be running."""
    age = _age(held)
    if age > stale_s:
        return f"no heartbeat for {age:.0f} s"
    pid = held.get("pid", "")
    if held.get("machine") == machine() and pid.isdigit() and not _alive(int(pid)):
        return f"its process {pid} on this machine has exited"
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Heartbeat:
    """Refreshes the lock's heartbeat tag while it is held, from a daemon thread."""

    def __init__(self, client: MlflowClient, lock: str, owner: str, every_s: float) -> None:
        self.client, self.lock, self.owner, self.every_s = client, lock, owner, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="promotion-lock-heartbeat")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.every_s + 5)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            # A failed beat is not fatal: the holder keeps working, and a missed beat only
            # lets a waiter take over after `stale_s`.
            with contextlib.suppress(Exception):
                held = _lock_tags(self.client, self.lock)
                if held is None or held.get("owner") != self.owner:
                    return
                self.client.set_registered_model_tag(
                    self.lock, "heartbeat_at", f"{time.time():.3f}"
                )


class _TerminationGuard:
    """While held, SIGTERM unwinds like Ctrl-C (SystemExit 143), so `finally` releases.

    A SIGTERM that arrives while releasing is deferred until the release is done.
    """

    def __init__(self) -> None:
        self.releasing = False
        self._pending = False
        self._previous: object = None
        self._installed = False

    def _handle(self, signum: int, frame: object) -> None:
        if self.releasing:
            self._pending = True
            return
        raise SystemExit(128 + signum)

    def __enter__(self) -> _TerminationGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            previous = signal.SIG_DFL if self._previous is None else self._previous
            signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]
        if self._pending:
            raise SystemExit(TERMINATED_EXIT)


def _lock_tags(client: MlflowClient, lock: str) -> dict[str, str] | None:
    from mlflow.exceptions import MlflowException

    try:
        return dict(client.get_registered_model(lock).tags)
    except MlflowException as exc:
        if _code(exc) == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise


def _release(client: MlflowClient, lock: str, owner: str) -> None:
    """Delete the lock only while it is still the one `owner` took."""
    from mlflow.exceptions import MlflowException

    held = _lock_tags(client, lock)
    if held is None or held.get("owner") != owner:
        return
    try:
        client.delete_registered_model(lock)
    except MlflowException as exc:
        if _code(exc) != "RESOURCE_DOES_NOT_EXIST":
            raise
