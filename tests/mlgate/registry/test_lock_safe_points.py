"""SIGTERM landing inside a store call of the promotion lock: the call finishes, the job's
ticket is released with a store that is still whole, and the job exits 143.

A handler that raised inside the call could leave MLflow's filter lexer half-initialised
("Invalid clause(s) in filter string: n, a, m, e") or a pooled connection reset mid-statement,
and then the release itself failed and the ticket stayed.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from typing import Any

import pytest

from mlgate import termination
from mlgate.registry import lock
from support.stores import sqlite_store

pytestmark = pytest.mark.slow  # an MLflow store


class SignalledClient:
    """An MLflow client that receives SIGTERM while its `method` call is in flight."""

    def __init__(self, real: Any, method: str, nth: int) -> None:
        self.real, self.method, self.nth = real, method, nth
        self.calls = 0
        self.cut: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.real, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                if name == self.method:
                    self.calls += 1
                    if self.calls == self.nth:
                        os.kill(os.getpid(), signal.SIGTERM)
                return attribute(*args, **kwargs)
            except SystemExit:
                self.cut.append(name)
                raise

        return call


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sqlite_store(tmp_path_factory, "lock-safe-points")


@pytest.fixture
def client(store: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=store, registry_uri=store)


def _foreign_holder(client: Any, name: str) -> None:
    """A live holder on another machine: the job under test waits behind it."""
    stamp = f"{time.time() + 3600:.3f}"
    lock_model = lock.lock_name(name)
    client.create_registered_model(lock_model)
    client.create_model_version(
        lock_model,
        source=lock.TICKET_SOURCE,
        tags={
            "owner": "elsewhere:1:live",
            "machine": "runner-elsewhere/pid:[1]",
            "pid": "1",
            "acquired_at": stamp,
            "heartbeat_at": stamp,
        },
    )


def _hold(client: Any, name: str) -> None:
    """Take the lock, then work until a safe point stops the job."""
    with lock.promotion_lock(client, name, wait_s=60, heartbeat_s=60):
        for _ in range(200):
            termination.check()
            time.sleep(0.01)


@pytest.mark.parametrize(
    ("method", "nth", "waiting"),
    [
        pytest.param("create_model_version", 1, True, id="enqueueing"),
        pytest.param("search_model_versions", 1, True, id="first-queue-read"),
        pytest.param("search_model_versions", 3, True, id="polling-the-queue"),
        pytest.param("set_model_version_tag", 1, False, id="acquiring"),
        pytest.param("delete_model_version", 1, False, id="releasing"),
    ],
)
def test_sigterm_inside_a_store_call_finishes_it_then_releases(
    client: Any, method: str, nth: int, waiting: bool
) -> None:
    name = f"trips-{uuid.uuid4().hex[:8]}"
    if waiting:
        _foreign_holder(client, name)
    signalled = SignalledClient(client, method, nth)
    previous = signal.getsignal(signal.SIGTERM)

    with pytest.raises(SystemExit) as exited:
        _hold(signalled, name)

    assert exited.value.code == 128 + signal.SIGTERM
    assert signalled.calls >= nth, "the signal was sent"
    assert signalled.cut == [], "no store call was cut in half"
    left = [t.owner for t in lock.queue(client, lock.lock_name(name))]
    assert left == (["elsewhere:1:live"] if waiting else []), "this job's ticket is released"
    assert signal.getsignal(signal.SIGTERM) == previous
