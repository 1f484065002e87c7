"""Running the budget against Optuna's storage: in memory, or an RDB shared by processes.

The budget is exact by construction. The process that creates the study enqueues exactly
`n_trials` waiting trials; every process (on one machine or many) then claims waiting trials
one at a time, which the storage makes atomic, until none is left. No process ever creates a
trial of its own, so two workers can neither exceed the budget nor run one trial twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate import children, progress, termination
from mlgate.config import TuningConfig
from mlgate.errors import UserError
from mlgate.registry.lock import machine
from mlgate.report.document import GREATER_IS_BETTER
from mlgate.tuning import space, stop
from mlgate.tuning.objective import FAIL_REASON, TrialFailedError

if TYPE_CHECKING:
    from datetime import datetime

    import optuna
    from optuna.trial import FrozenTrial

MAX_GRID = 100_000
READY = "mlgate.ready"
FINGERPRINT = "mlgate.config"
WORKER = "mlgate.worker"
"""A trial's user attribute: the machine and pid running it, and its last heartbeat, so a
killed worker is seen, on this machine at once and on another (a lost runner) by its silence."""
POLL_S = 0.5
BEAT_S = 5.0
STALE_S = 60.0  # a running trial without a heartbeat for this long is recorded as failed
OPEN_ATTEMPTS = 3  # opening a storage; processes starting together race to create its schema
OPEN_PAUSE_S = 0.5  # times the attempt number, between attempts
STARTUP_TRIALS = 5  # the median pruner waits for this many finished trials before pruning


@dataclass
class Study:
    """An Optuna study plus what this process knows about its role in it."""

    study: optuna.Study
    storage: optuna.storages.BaseStorage
    created: bool  # this process created it (and so enqueued the budget)
    budget: int

    @property
    def name(self) -> str:
        return self.study.study_name


def sampler(config: TuningConfig) -> optuna.samplers.BaseSampler:
    """Grid points are enqueued as fixed trials (see `plan`), so grid needs only a stand-in."""
    import optuna

    if config.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=config.seed)
    return optuna.samplers.RandomSampler(seed=config.seed)


def plan(config: TuningConfig) -> list[dict[str, Any]]:
    """The trials to enqueue: the budget of free trials, or the first grid points."""
    if config.sampler != "grid":
        return [{} for _ in range(config.n_trials)]
    size = space.grid_size(config)
    if size > MAX_GRID:
        raise UserError(
            f"[tool.mlgate] tuning.space: the grid has {size:,} points (at most "
            f"{MAX_GRID:,}); use the random or tpe sampler"
        )
    return space.grid(config)[: config.n_trials]


def fingerprint(config: TuningConfig) -> str:
    """What every process sharing a study must agree on."""
    fields = config.model_dump(mode="json", include={"sampler", "seed", "n_trials", "metric"})
    fields["cv"] = [config.cv, config.cv_folds]
    fields["space"] = space.describe(config)
    return json.dumps(fields, sort_keys=True)


def storage_for(url: str | None) -> optuna.storages.BaseStorage:
    """In memory by default; an RDB URL (sqlite, PostgreSQL) to share the study."""
    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    if url is None:
        return optuna.storages.InMemoryStorage()
    if not url.strip():
        raise UserError(
            "--storage is empty (an unset secret?): give an RDB URL such as "
            "postgresql+psycopg://USER:PASSWORD@HOST/DATABASE"
        )
    engine: dict[str, Any] = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    last = ""
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine)
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            last = " ".join(str(exc).split())[:200]
            time.sleep(OPEN_PAUSE_S * (attempt + 1))
    raise UserError(f"--storage {_shown(url)}: cannot open the Optuna storage ({last})")


def open_study(
    config: TuningConfig, *, storage_url: str | None, name: str, wait_s: float = 60.0
) -> Study:
    """Create the study and enqueue the budget, or join the study another process created."""
    import optuna
    from optuna.exceptions import DuplicatedStudyError

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # its lines would mix into progress
    storage = storage_for(storage_url)
    common = {
        "study_name": name,
        "storage": storage,
        "sampler": sampler(config),
        "pruner": _pruner(config),
    }
    direction = "maximize" if GREATER_IS_BETTER[config.metric] else "minimize"
    try:
        study = optuna.create_study(direction=direction, **common)
    except DuplicatedStudyError:
        study = optuna.load_study(**common)
        joined = Study(study, _used_storage(study), created=False, budget=0)
        return _joined(joined, config, wait_s)
    study.set_user_attr(FINGERPRINT, fingerprint(config))
    planned = plan(config)
    for point in planned:
        study.enqueue_trial(point, skip_if_exists=False)
    return Study(study, _used_storage(study), created=True, budget=len(planned))


def _used_storage(study: optuna.Study) -> optuna.storages.BaseStorage:
    """The storage as the study uses it (Optuna wraps an RDB in a cache that must see every
    state change its trials make), so claims go through it exactly as `Study.ask` does."""
    return study._storage


def mark_ready(study: Study, **attrs: Any) -> None:
    """Let joining processes start: the budget is enqueued, `attrs` (the parent run) set and
    the refit open to whoever finishes first (see `refit`)."""
    from mlgate.tuning import refit

    for key, value in attrs.items():
        study.study.set_user_attr(key, value)
    refit.open_claim(study)
    study.study.set_user_attr(READY, study.budget)


def _joined(joined: Study, config: TuningConfig, wait_s: float) -> Study:
    deadline = time.monotonic() + wait_s
    said = False
    while READY not in joined.study.user_attrs:
        if time.monotonic() >= deadline:
            raise UserError(
                f"study {joined.name!r}: the process that created it did not finish setting it "
                f"up within {wait_s:g} s"
            )
        if not said:
            progress.say(f"waiting for the process that created study {joined.name!r}")
            said = True
        time.sleep(POLL_S)
    attrs = joined.study.user_attrs
    if attrs.get(FINGERPRINT) != fingerprint(config):
        raise UserError(
            f"study {joined.name!r} was created with another tuning configuration (sampler, "
            "seed, budget, metric, cv or space); use a new --study name"
        )
    joined.budget = int(attrs[READY])
    return joined


def _pruner(config: TuningConfig) -> optuna.pruners.BasePruner:
    import optuna

    if not config.pruning:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=STARTUP_TRIALS, n_warmup_steps=0)


def claim(study: Study) -> optuna.Trial | None:
    """The next waiting trial, atomically marked running for this process; None when spent."""
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    storage = study.storage
    study_id = storage.get_study_id_from_name(study.name)
    for waiting in storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.WAITING,)):
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, waiting.number)
        try:
            if _take(storage, trial_id):
                return optuna.Trial(study.study, trial_id)
        except UpdateFinishedTrialError:
            continue
    return None


def _take(storage: optuna.storages.BaseStorage, trial_id: int) -> bool:
    """Mark a waiting trial running for this process only.

    Optuna checks the state and then writes it; that is a race on SQLite, which ignores
    `SELECT ... FOR UPDATE`, so two processes could both take one trial. On an RDB storage the
    claim is a single conditional UPDATE instead, atomic on SQLite and PostgreSQL alike.
    """
    from datetime import datetime

    from optuna.trial import TrialState
    from sqlalchemy import text

    engine = getattr(getattr(storage, "_backend", storage), "engine", None)
    if engine is None:  # in memory: one process, no race
        return storage.set_trial_state_values(trial_id, state=TrialState.RUNNING)
    with engine.begin() as connection:
        taken = connection.execute(
            text(
                "UPDATE trials SET state = 'RUNNING', datetime_start = :now "
                "WHERE trial_id = :trial AND state = 'WAITING'"
            ),
            {"now": datetime.now(), "trial": trial_id},
        )
    return taken.rowcount == 1


Objective = Callable[["optuna.Trial"], float]
OnTrial = Callable[["FrozenTrial", float], None]


def run(
    study: Study,
    objective: Objective,
    *,
    timeout_s: float | None = None,
    on_trial: OnTrial | None = None,
) -> int:
    """Claim and run trials until the budget is spent or `timeout_s` passed; returns how many
    this process ran. A trial interrupted by a signal is recorded as failed, never left
    running."""
    import optuna
    from optuna.trial import TrialState

    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    ran = 0
    while deadline is None or time.monotonic() < deadline:
        stop.check()
        trial = claim(study)
        if trial is None:
            break
        start = time.perf_counter()
        with _beating(study, trial._trial_id):
            try:
                value = objective(trial)
            except optuna.TrialPruned:
                frozen = study.study.tell(trial, state=TrialState.PRUNED)
            except TrialFailedError as exc:
                trial.set_user_attr(FAIL_REASON, str(exc))
                frozen = study.study.tell(trial, state=TrialState.FAIL)
            except BaseException as exc:
                trial.set_user_attr(FAIL_REASON, f"interrupted ({type(exc).__name__})")
                study.study.tell(trial, state=TrialState.FAIL)
                raise
            else:
                frozen = study.study.tell(trial, value)
        ran += 1
        if on_trial is not None:
            on_trial(frozen, time.perf_counter() - start)
    return ran


@contextlib.contextmanager
def _beating(study: Study, trial_id: int) -> Iterator[None]:
    """Mark the trial as this process's, with a heartbeat every `BEAT_S` while it runs."""

    def mark() -> None:
        worker = {"machine": machine(), "pid": os.getpid(), "beat_at": time.time()}
        study.storage.set_trial_user_attr(trial_id, WORKER, worker)

    mark()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(BEAT_S):
            with contextlib.suppress(Exception):  # a missed beat only brings the deadline closer
                mark()

    thread = threading.Thread(target=beat, name="trial-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=BEAT_S + 5)


def wait_for_others(study: Study, wait_s: float) -> int:
    """Wait (bounded) for trials other processes are still running; returns how many still
    run when the wait ends."""
    from optuna.trial import TrialState

    deadline = time.monotonic() + wait_s
    said = -1
    while True:
        trials = study.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        running = len(trials) - _fail_orphans(study, trials)
        if running == 0 or time.monotonic() >= deadline:
            return running
        if running != said:
            progress.say(f"waiting for {running} trial(s) running in other processes")
            said = running
        termination.sleep(POLL_S)


def _fail_orphans(study: Study, running: list[FrozenTrial]) -> int:
    """Record as failed the running trials whose process has gone (killed: it recorded
    nothing): exited on this machine, or silent for `STALE_S` on any; returns how many."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    failed = 0
    for trial in running:
        why = _gone(trial.user_attrs.get(WORKER) or {}, trial.datetime_start)
        if why is None:
            continue
        try:
            study.storage.set_trial_user_attr(trial._trial_id, FAIL_REASON, why)
            study.storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        except UpdateFinishedTrialError:  # it finished after all, just now
            continue
        progress.say(f"trial {trial.number}: {why}; recorded as failed")
        failed += 1
    return failed


def _gone(worker: dict[str, Any], started: datetime | None) -> str | None:
    """Why the process running a trial is gone, or None while it may be alive.

    A process marks its trial at once after claiming it; one killed in between left no mark,
    so a trial claimed `STALE_S` ago and still unmarked is gone too.
    """
    pid, beat = worker.get("pid"), worker.get("beat_at")
    if worker.get("machine") == machine() and isinstance(pid, int) and not children.alive(pid):
        return f"its process {pid} exited"
    if isinstance(beat, (int, float)) and time.time() - beat > STALE_S:
        where = f"{worker.get('machine')}:{pid}"
        return f"its process {where} sent no heartbeat for {time.time() - beat:.0f} s"
    if not worker and started is not None and time.time() - started.timestamp() > STALE_S:
        claimed = time.time() - started.timestamp()
        return f"it was claimed {claimed:.0f} s ago by a process that never marked it (killed)"
    return None


def finished(study: Study) -> list[FrozenTrial]:
    from optuna.trial import TrialState

    done = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    return sorted(study.study.get_trials(deepcopy=False, states=done), key=lambda t: t.number)


def _shown(url: str) -> str:
    from mlgate.tracking.connection import display_uri

    return display_uri(url)
