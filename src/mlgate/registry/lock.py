"""The promotion lock: one promotion or rollback of a registered model at a time.

The lock is a queue. Its registered model (`<model>.promotion-lock`) is made once and never
deleted; each job that wants the lock adds a version to it, a ticket, and holds the lock while
its ticket is the oldest live one. Every MLflow store numbers versions of one model in commit
order and never reuses a number, so "oldest" is the same for every job. Releasing deletes the
ticket. The model itself must outlive its holders: MLflow's auth app removes every grant on a
model name after that model is deleted, so a lock model that came and went would, in a race,
take the next holder's grant with it.

Every ticket records where its job runs (host, pid namespace, pid) and has a heartbeat tag that
a background thread refreshes, waiting or holding. So a job that died (SIGKILL, a cancelled
runner) is recognised within `stale_s` seconds, or at once when it ran on this machine and its
process is gone, and its ticket is deleted by the job behind it. SIGTERM is acted on between
store calls (`mlgate.termination`), never inside one, so a cancelled job deletes its own ticket
with a store that is still whole, and exits 143.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlgate import progress, termination
from mlgate.children import alive
from mlgate.errors import UserError

if TYPE_CHECKING:
    from mlflow import MlflowClient

LOCK_SUFFIX = ".promotion-lock"
STALE_S = 30.0
"""A ticket whose heartbeat is older than this is deleted by the job behind it: its job is gone."""
HEARTBEAT_S = 5.0
WAIT_S = 300.0
TERMINATED_EXIT = termination.TERMINATED_EXIT
PAGE = 100
MAX_PAGES = 10
"""A queue longer than this many pages of tickets is refused rather than read on and on."""
ENQUEUE_ATTEMPTS = 5
TICKET_SOURCE = "promotion-lock:/ticket"
"""A ticket has no artifacts; MLflow's server wants a source whose path is absolute."""
RETRYABLE = frozenset({"RESOURCE_DOES_NOT_EXIST", "TEMPORARILY_UNAVAILABLE", "INTERNAL_ERROR"})
"""Store contention (sqlite busy, MLflow's own version-number retries exhausted) and a lock model
deleted by hand between our create and our ticket: worth another try."""


def machine() -> str:
    """This host and pid namespace: pids are only comparable between equal machines."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = "-"
    return f"{socket.gethostname()}/{namespace}"


def _code(exc: Exception) -> str | None:
    return getattr(exc, "error_code", None)


@dataclass(frozen=True)
class Ticket:
    """One job's place in a lock's queue: a live version of the lock model."""

    version: int
    tags: dict[str, str]

    @property
    def owner(self) -> str:
        return self.tags.get("owner", "?")


def lock_name(name: str) -> str:
    return name + LOCK_SUFFIX


def queue(client: MlflowClient, lock: str) -> list[Ticket]:
    """The live tickets of `lock`, oldest first; the first one holds the lock."""
    tickets: list[Ticket] = []
    token = None
    for _ in range(MAX_PAGES):
        page = client.search_model_versions(
            f"name = '{lock}'",
            max_results=PAGE,
            order_by=["version_number ASC"],
            page_token=token,
        )
        tickets += [Ticket(int(v.version), dict(v.tags)) for v in page]
        token = page.token
        if not token:
            return tickets
    raise UserError(
        f"registered model {lock!r} has more than {PAGE * MAX_PAGES} live tickets: delete the "
        "versions of jobs that are no longer running"
    )


def holder(client: MlflowClient, name: str) -> Ticket | None:
    """Who holds `name`'s promotion lock now, if anyone."""
    tickets = queue(client, lock_name(name))
    return tickets[0] if tickets else None


@contextmanager
def promotion_lock(
    client: MlflowClient,
    name: str,
    *,
    wait_s: float = WAIT_S,
    stale_s: float = STALE_S,
    heartbeat_s: float = HEARTBEAT_S,
    sleep: Callable[[float], None] = termination.sleep,
) -> Iterator[None]:
    """Hold the model's promotion lock; a dead job's ticket is removed (see the module)."""
    lock = lock_name(name)
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    beat = _Heartbeat(client, lock, heartbeat_s)
    with termination.deferred():
        try:
            deadline = time.monotonic() + wait_s
            beat.ticket = _enqueue(client, name, lock, owner, deadline, sleep)
            beat.start()
            _wait_turn(client, name, lock, owner, beat, deadline, wait_s, stale_s, sleep)
            yield
        finally:
            beat.stop()
            _release(client, lock, owner)


def _enqueue(
    client: MlflowClient,
    name: str,
    lock: str,
    owner: str,
    deadline: float,
    sleep: Callable[[float], None],
) -> int:
    """Add this job's ticket to the queue, making the lock model the first time."""
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(
            lock,
            description=f"The promotion lock of {name}: each version is a promotion or "
            "rollback waiting or running, the oldest one runs. Keep this model; a version "
            "whose job is no longer running can be deleted.",
        )
    except MlflowException as exc:
        if _code(exc) != "RESOURCE_ALREADY_EXISTS":
            raise
    last: Exception | None = None
    for _ in range(ENQUEUE_ATTEMPTS):
        termination.check()
        stamp = f"{time.time():.3f}"
        try:
            ticket = client.create_model_version(
                lock,
                source=TICKET_SOURCE,
                tags={
                    "owner": owner,
                    "machine": machine(),
                    "pid": str(os.getpid()),
                    "queued_at": stamp,
                    "heartbeat_at": stamp,
                },
                description=f"A promotion or rollback of {name}.",
            )
            return int(ticket.version)
        except MlflowException as exc:
            if _code(exc) not in RETRYABLE:
                raise
            last = exc
        # A create that failed on the way back may still have landed: it is ours either way.
        mine = [t for t in queue(client, lock) if t.owner == owner]
        if mine:
            return mine[0].version
        if time.monotonic() > deadline:
            break
        sleep(0.2 + random.random() * 0.3)
    raise UserError(
        f"registered model {lock!r}: could not add this job's ticket after {ENQUEUE_ATTEMPTS} "
        f"tries ({str(last).splitlines()[0] if last else 'timed out'})"
    )


def _wait_turn(
    client: MlflowClient,
    name: str,
    lock: str,
    owner: str,
    beat: _Heartbeat,
    deadline: float,
    wait_s: float,
    stale_s: float,
    sleep: Callable[[float], None],
) -> None:
    """Return once this job's ticket is the oldest live one."""
    from mlflow.exceptions import MlflowException

    started = deadline - wait_s
    next_say = 0.0
    while True:
        termination.check()
        tickets = queue(client, lock)
        mine = [t for t in tickets if t.owner == owner]
        if not mine:
            # Taken for dead (a heartbeat that did not get through for `stale_s`): queue again.
            progress.say(f"promotion lock {lock}: this job's ticket was removed; queueing again")
            beat.ticket = _enqueue(client, name, lock, owner, deadline, sleep)
            continue
        beat.ticket = mine[0].version
        ahead = [t for t in tickets if t.version < mine[0].version]
        if not ahead:
            try:
                client.set_model_version_tag(
                    lock, str(mine[0].version), "acquired_at", f"{time.time():.3f}"
                )
            except MlflowException as exc:
                if _code(exc) != "RESOURCE_DOES_NOT_EXIST":
                    raise
                continue  # removed just now: the next round queues again
            return
        first = ahead[0]
        dead = _dead_holder(first.tags, stale_s)
        if dead:
            progress.say(f"promotion lock {lock}: removing version {first.version} ({dead})")
            _delete(client, lock, first.version)
            continue
        waited = time.monotonic() - started
        if time.monotonic() > deadline:
            raise UserError(
                f"registered model {lock!r} is held by {first.owner} (alive {_age(first.tags):.0f}"
                f" s ago): another promotion is running; retry later, or delete its version "
                f"{first.version} if that job died"
            )
        if waited >= next_say:
            next_say = waited + 10
            progress.say(
                f"waiting for the promotion lock {lock} held by {first.owner} "
                f"({waited:.0f}/{wait_s:.0f} s)"
            )
        sleep(0.2 + random.random() * 0.3)


def _age(tags: dict[str, str]) -> float:
    """Seconds since the job last showed it was alive."""
    stamps = []
    for key in ("heartbeat_at", "acquired_at", "queued_at"):
        with contextlib.suppress(ValueError):
            stamps.append(float(tags.get(key, "") or "nan"))
    stamps = [s for s in stamps if s == s]
    return time.time() - max(stamps, default=0.0)


def _dead_holder(tags: dict[str, str], stale_s: float) -> str | None:
    """Why the ticket's job is gone, or None while it may still be running."""
    age = _age(tags)
    if age > stale_s:
        return f"no heartbeat for {age:.0f} s"
    pid = tags.get("pid", "")
    if tags.get("machine") == machine() and pid.isdigit() and not alive(int(pid)):
        return f"its process {pid} on this machine has exited"
    return None


class _Heartbeat:
    """Refreshes this job's ticket's heartbeat tag, from a daemon thread."""

    def __init__(self, client: MlflowClient, lock: str, every_s: float) -> None:
        self.client, self.lock, self.every_s = client, lock, every_s
        self.ticket: int | None = None
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
            # A failed beat is not fatal: the job keeps working, and a missed beat only lets
            # the job behind take over after `stale_s`. A deleted ticket is never revived
            # (MLflow refuses tags on a deleted version).
            with contextlib.suppress(Exception):
                self.client.set_model_version_tag(
                    self.lock, str(self.ticket), "heartbeat_at", f"{time.time():.3f}"
                )


def _delete(client: MlflowClient, lock: str, version: int) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.delete_model_version(lock, str(version))
    except MlflowException as exc:
        if _code(exc) != "RESOURCE_DOES_NOT_EXIST":  # another job removed it first
            raise


def _release(client: MlflowClient, lock: str, owner: str) -> None:
    """Delete this job's tickets only: one taken over meanwhile is already gone."""
    for ticket in queue(client, lock):
        if ticket.owner == owner:
            _delete(client, lock, ticket.version)
