"""The refit of a shared study is claimed exactly once, and taken over when its claimant is
gone: racing takers, a claimant killed, a heartbeat that stopped, a claimant still alive, a
refit already done (Optuna alone, no MLflow)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict

import pytest

from mlgate.config import Settings
from mlgate.errors import UserError
from mlgate.registry.lock import machine
from mlgate.tuning import refit, search

SPACE = {"alpha": {"kind": "float", "low": 1e-4, "high": 10.0, "log": True}}


@pytest.fixture
def shared(study_url: str, tuning_settings: Callable[..., Settings]) -> Callable[[], search.Study]:
    """`shared()`: a new handle on one study in one sqlite storage, set up by the first."""
    settings = tuning_settings(SPACE, sampler="random", n_trials=2)
    first = search.open_study(settings.tuning, storage_url=study_url, name="shared")
    search.mark_ready(first)

    def handle() -> search.Study:
        return search.open_study(settings.tuning, storage_url=study_url, name="shared", wait_s=5)

    return handle


def _exited_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_racing_takers_claim_the_refit_exactly_once(shared) -> None:
    handles = [shared() for _ in range(6)]
    results: list[object] = [None] * len(handles)
    start = threading.Barrier(len(handles))

    def take(i: int) -> None:
        start.wait()
        results[i] = refit.take(handles[i], wait_s=0)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(len(handles))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if isinstance(r, refit.Refit)]
    assert len(winners) == 1
    assert all(
        isinstance(r, refit.Claim) and r.state == "running" for r in results if r not in winners
    )


def _stored(study: search.Study, claim: refit.Claim) -> None:
    study.study.set_user_attr(refit.REFIT, asdict(claim))


@pytest.mark.parametrize(
    ("claim", "taken"),
    [
        pytest.param(lambda: refit.Claim(), True, id="open"),
        pytest.param(
            lambda: refit.Claim("running", "gone", machine(), _exited_pid(), time.time()),
            True,
            id="claimant-exited-on-this-machine",
        ),
        pytest.param(
            lambda: refit.Claim("running", "far", "elsewhere/pid:[1]", 1, time.time() - 600),
            True,
            id="heartbeat-stopped-elsewhere",
        ),
        pytest.param(
            lambda: refit.Claim("running", "far", "elsewhere/pid:[1]", 1, time.time()),
            False,
            id="alive-elsewhere",
        ),
        pytest.param(
            lambda: refit.Claim("running", "me", machine(), os.getpid(), time.time()),
            False,
            id="alive-here",
        ),
        pytest.param(lambda: refit.Claim("done", "earlier", version="4"), False, id="done"),
    ],
)
def test_a_claim_is_taken_over_only_when_its_claimant_is_gone(
    shared, claim: Callable[[], refit.Claim], taken: bool
) -> None:
    study = shared()
    before = claim()
    _stored(study, before)
    result = refit.take(study, wait_s=0)
    if taken:
        assert isinstance(result, refit.Refit)
        assert refit.read(study)[1].owner == result.claim.owner != before.owner
    else:
        assert result == before
        assert refit.read(study)[1] == before


def test_a_refitter_that_lost_its_claim_registers_nothing(shared) -> None:
    study = shared()
    mine = refit.take(study, wait_s=0)
    assert isinstance(mine, refit.Refit)
    other = shared()
    _stored(other, refit.Claim("running", "survivor", "elsewhere/pid:[1]", 1, time.time()))
    with pytest.raises(UserError, match="another process took the refit over"):
        mine.confirm()


@pytest.mark.parametrize("outcome", ["failed", "finished"])
def test_a_failed_refit_reopens_the_claim_and_a_finished_one_closes_it(
    shared, outcome: str
) -> None:
    study = shared()
    mine = refit.take(study, wait_s=0)
    assert isinstance(mine, refit.Refit)

    def stops_after_refitting() -> None:
        with mine:
            mine.confirm()
            if outcome == "finished":
                mine.finish("7")
            raise RuntimeError("the refit stopped")

    with pytest.raises(RuntimeError):
        stops_after_refitting()
    stored = refit.read(shared())[1]
    assert stored.state == ("open" if outcome == "failed" else "done")
    if outcome == "finished":
        assert stored.version == "7"
