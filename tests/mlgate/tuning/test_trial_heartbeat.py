"""A running trial's heartbeat: a worker lost on another machine (a runner gone mid-trial)
cannot stall the refit for its whole wait; a live one, however slow, is waited for."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mlgate.config import Settings
from mlgate.tuning import search
from mlgate.tuning.objective import FAIL_REASON

SPACE = {"alpha": {"kind": "float", "low": 0.01, "high": 1.0, "log": True}}


@pytest.fixture
def shared(tmp_path: Path, tuning_settings: Callable[..., Settings]) -> search.Study:
    """A study of 3 trials in a storage shared by processes."""
    settings = tuning_settings(SPACE, sampler="random", n_trials=3)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = search.open_study(settings.tuning, storage_url=url, name="beats")
    search.mark_ready(study)
    return study


def running_elsewhere(study: search.Study, silent_s: float) -> int:
    """Claim a trial as a worker on another runner whose last heartbeat was `silent_s` ago."""
    trial = search.claim(study)
    assert trial is not None
    worker = {"machine": "runner-elsewhere", "pid": 4242, "beat_at": time.time() - silent_s}
    study.storage.set_trial_user_attr(trial._trial_id, search.WORKER, worker)
    return trial._trial_id


@pytest.mark.slow
@pytest.mark.parametrize("over", [1.0, 600.0])
def test_a_silent_worker_elsewhere_has_its_trial_failed_at_once(
    shared: search.Study, over: float
) -> None:
    from optuna.trial import TrialState

    trial_id = running_elsewhere(shared, search.STALE_S + over)
    started = time.monotonic()
    assert search.wait_for_others(shared, wait_s=30) == 0
    assert time.monotonic() - started < 5
    frozen = shared.storage.get_trial(trial_id)
    assert frozen.state == TrialState.FAIL
    reason = frozen.user_attrs[FAIL_REASON]
    assert reason.startswith("its process runner-elsewhere:4242 sent no heartbeat for ")


@pytest.mark.slow
@pytest.mark.parametrize("silent_s", [0.0, search.STALE_S - 5])
def test_a_worker_elsewhere_that_beats_is_waited_for(shared: search.Study, silent_s: float) -> None:
    from optuna.trial import TrialState

    trial_id = running_elsewhere(shared, silent_s)
    assert search.wait_for_others(shared, wait_s=0.6) == 1
    assert shared.storage.get_trial(trial_id).state == TrialState.RUNNING


@pytest.mark.slow
def test_a_running_trial_beats_while_it_runs(
    shared: search.Study, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "BEAT_S", 0.05)
    beats: list[float] = []

    def objective(trial) -> float:
        for _ in range(4):
            time.sleep(0.1)
            worker = shared.storage.get_trial(trial._trial_id).user_attrs[search.WORKER]
            beats.append(worker["beat_at"])
        return 1.0

    assert search.run(shared, objective) == 3
    assert len(set(beats)) > 3, "the heartbeat moved while the trials ran"
    assert beats == sorted(beats)


@pytest.mark.slow
@pytest.mark.parametrize(("stale_s", "still_running"), [(0.0, 0), (search.STALE_S, 1)])
def test_a_trial_claimed_by_a_process_killed_before_it_marked_it(
    shared: search.Study, monkeypatch: pytest.MonkeyPatch, stale_s: float, still_running: int
) -> None:
    """A process killed between claiming a trial and marking it left no worker to check: the
    trial is failed once it has been claimed `STALE_S`, not waited for until the wait ends."""
    from optuna.trial import TrialState

    trial = search.claim(shared)
    assert trial is not None
    assert search.WORKER not in shared.storage.get_trial(trial._trial_id).user_attrs
    monkeypatch.setattr(search, "STALE_S", stale_s)
    time.sleep(0.01)
    assert search.wait_for_others(shared, wait_s=0.6) == still_running
    frozen = shared.storage.get_trial(trial._trial_id)
    if still_running:
        assert frozen.state == TrialState.RUNNING
    else:
        assert frozen.state == TrialState.FAIL
        assert "never marked it" in frozen.user_attrs[FAIL_REASON]
