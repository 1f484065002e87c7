"""The promotion lock under faults: a holder terminated (SIGTERM) releases it, a holder killed
(SIGKILL) is recognised as dead within seconds, and a live holder is never taken over.

Under the lock SIGTERM is acted on at safe points (`mlgate.termination`): the holder's work
waits with `termination.sleep`, as a promotion waits on its scoring child."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgate.errors import UserError
from mlgate.registry import lock
from mlgate.registry import versions as registry
from support.stores import sqlite_store

pytestmark = pytest.mark.slow  # real processes against an MLflow store

HOLDER = textwrap.dedent(
    """
    import sys
    from mlflow import MlflowClient
    from mlgate import termination
    from mlgate.registry import versions as registry

    uri, name = sys.argv[1], sys.argv[2]
    beat = {"heartbeat_s": float(sys.argv[3])} if len(sys.argv) > 3 else {}
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    with registry.promotion_lock(client, name, **beat):
        print("held", flush=True)
        termination.sleep(600)
    """
)
JOB = textwrap.dedent(
    """
    import sys, time
    from mlflow import MlflowClient
    from mlgate.registry import versions as registry

    uri, name, out = sys.argv[1], sys.argv[2], sys.argv[3]
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    with registry.promotion_lock(client, name, wait_s=120):
        start = time.time()
        time.sleep(0.4)
        end = time.time()
    with open(out, "a", encoding="utf-8") as spans:
        spans.write(f"{start} {end}\\n")
    """
)
DEAD_HOLDER_BOUND_S = 35.0
"""The documented heartbeat bound (30 s) plus the waiter's polling; the old bound was 900 s."""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sqlite_store(tmp_path_factory, "lock-signals")


@pytest.fixture
def client(store: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=store, registry_uri=store)


@pytest.fixture
def name() -> str:
    return f"trips-{uuid.uuid4().hex[:8]}"


def lock_tags(client, name: str) -> dict[str, str] | None:
    held = lock.holder(client, name)
    return held.tags if held else None


def owners(client, name: str) -> list[str]:
    """The owners of the live tickets, the holder first."""
    return [t.owner for t in lock.queue(client, lock.lock_name(name))]


def _run(source: str, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    script = tmp_path / f"job-{uuid.uuid4().hex[:6]}.py"
    script.write_text(source, encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )


@pytest.fixture
def holder(
    store: str, name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[subprocess.Popen[str]]:
    """A separate process holding `name`'s promotion lock (it says "held" once it has it), with
    the default heartbeat or the one a test gives (`@pytest.mark.parametrize("holder", ["0.5"],
    indirect=True)`)."""
    process = _run(
        HOLDER, tmp_path, store, name, *([request.param] if hasattr(request, "param") else [])
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == "held", process.stderr.read() if process.stderr else ""
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_sigterm_releases_the_lock(client, name: str, holder: subprocess.Popen[str]) -> None:
    assert lock_tags(client, name) is not None
    holder.send_signal(signal.SIGTERM)
    code = holder.wait(timeout=30)
    assert code == 128 + signal.SIGTERM, "the holder unwinds and exits as terminated"
    assert "Traceback" not in holder.stderr.read()
    assert lock_tags(client, name) is None, "a terminated holder leaves no lock behind"


def test_sigterm_while_waiting_leaves_no_ticket(
    client, store: str, name: str, holder: subprocess.Popen[str], tmp_path: Path
) -> None:
    held_by = owners(client, name)
    waiter = _run(HOLDER, tmp_path, store, name)
    try:
        deadline = time.monotonic() + 60
        while len(owners(client, name)) < 2:
            assert time.monotonic() < deadline, "the waiter never queued behind the holder"
            assert waiter.poll() is None, waiter.stderr.read() if waiter.stderr else ""
            time.sleep(0.2)
        waiter.send_signal(signal.SIGTERM)
        _, err = waiter.communicate(timeout=30)
        assert waiter.returncode == 128 + signal.SIGTERM
        assert "Traceback" not in err
        assert "Invalid clause" not in err
    finally:
        if waiter.poll() is None:
            waiter.kill()
        waiter.wait(timeout=30)
    assert owners(client, name) == held_by, "the waiter's ticket is gone, the holder's stays"
    assert holder.poll() is None


def test_racing_jobs_hold_the_lock_one_at_a_time(
    client, store: str, name: str, tmp_path: Path
) -> None:
    spans = tmp_path / "spans.txt"
    jobs = [_run(JOB, tmp_path, store, name, str(spans)) for _ in range(4)]
    try:
        codes = [job.wait(timeout=240) for job in jobs]
    finally:
        for job in jobs:
            if job.poll() is None:
                job.kill()
    errors = [job.stderr.read() for job in jobs if job.stderr]
    assert codes == [0] * len(jobs), errors
    held = sorted(tuple(map(float, line.split())) for line in spans.read_text().splitlines())
    assert len(held) == len(jobs)
    for (_, end), (start, _) in itertools.pairwise(held):
        assert end <= start, f"two jobs held the lock at once: {held}"
    assert owners(client, name) == [], "every job deleted its ticket"


def test_a_killed_holders_lock_is_taken_over_within_the_bound(
    client, name: str, holder: subprocess.Popen[str]
) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert lock_tags(client, name) is not None, "SIGKILL leaves the lock behind"

    started = time.monotonic()
    with registry.promotion_lock(client, name, wait_s=60):
        waited = time.monotonic() - started
        assert lock_tags(client, name)["pid"] == str(os.getpid())
    assert waited < DEAD_HOLDER_BOUND_S
    assert lock_tags(client, name) is None


@pytest.mark.parametrize("holder", ["0.5"], indirect=True)  # a heartbeat every 0.5 s
def test_a_live_holder_keeps_the_lock_past_the_stale_bound(
    client, name: str, holder: subprocess.Popen[str]
) -> None:
    """The holder's heartbeat keeps its lock fresh, however long its promotion takes (the
    bounds scaled down: a 4 s stale bound, waited past for 6 s)."""
    owner = lock_tags(client, name)["owner"]
    with (
        pytest.raises(UserError, match="another promotion is running"),
        registry.promotion_lock(client, name, wait_s=6, stale_s=4),
    ):
        pytest.fail("a live holder's lock must not be taken over")
    assert lock_tags(client, name)["owner"] == owner
    assert holder.poll() is None


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.parametrize(
    ("where", "heartbeat_age_s", "taken"),
    [
        pytest.param("other", 45.0, True, id="other-machine-heartbeat-stopped"),
        pytest.param("other", 1.0, False, id="other-machine-heartbeat-fresh"),
        pytest.param("here", 1.0, True, id="this-machine-process-gone"),
    ],
)
def test_stale_holders_are_recognised(
    client, name: str, where: str, heartbeat_age_s: float, taken: bool
) -> None:
    from mlgate.registry.lock import machine

    stamp = f"{time.time() - heartbeat_age_s:.3f}"
    client.create_registered_model(name + registry.LOCK_SUFFIX)
    client.create_model_version(
        name + registry.LOCK_SUFFIX,
        source=lock.TICKET_SOURCE,
        tags={
            "owner": "gone:1:dead",
            "machine": machine() if where == "here" else "runner-elsewhere/pid:[4026531836]",
            "pid": str(_dead_pid()),
            "acquired_at": stamp,
            "heartbeat_at": stamp,
        },
    )
    if taken:
        with registry.promotion_lock(client, name, wait_s=10):
            assert lock_tags(client, name)["owner"] != "gone:1:dead"
        assert lock_tags(client, name) is None
    else:
        with (
            pytest.raises(UserError, match="gone:1:dead"),
            registry.promotion_lock(client, name, wait_s=1),
        ):
            pytest.fail("a holder on another machine with a fresh heartbeat keeps the lock")
        assert lock_tags(client, name)["owner"] == "gone:1:dead"


def test_the_previous_sigterm_handler_is_restored(client, name: str) -> None:
    def mine(signum: int, frame: object) -> None:
        raise AssertionError("not expected")

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        with registry.promotion_lock(client, name):
            assert signal.getsignal(signal.SIGTERM) is not mine
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)
