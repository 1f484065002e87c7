"""Who refits a shared study's winner: one claim, taken by compare-and-set, kept by a heartbeat.

The claim is the study's user attribute `mlgate.refit`: `open` when the study is set up,
`running` with its owner (host, pid namespace, pid) and a heartbeat while a process refits,
`done` with the registered version afterwards. Every process that finishes its share of the
trials tries to take it; the storage's conditional UPDATE lets exactly one succeed. A claim
whose heartbeat is older than `STALE_S`, or whose process on this machine has exited, is taken
over, so a process killed while it refits (or before it got there) does not orphan the
study: a surviving worker or a rerun refits instead. The refitter confirms the claim is still
its own just before registering, so a takeover never registers a second version.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from mlgate import children, progress, termination
from mlgate.errors import UserError
from mlgate.registry.lock import machine

if TYPE_CHECKING:
    from mlgate.tuning.search import Study

REFIT = "mlgate.refit"
HEARTBEAT_S = 5.0
STALE_S = 60.0
POLL_S = 1.0


@dataclass(frozen=True)
class Claim:
    """The refit's state as stored: open, running (by `owner`) or done (`version`)."""

    state: str = "open"
    owner: str = ""
    machine: str = ""
    pid: int = 0
    heartbeat_at: float = 0.0
    version: str | None = None

    def dead(self) -> str | None:
        """Why a running claim's process is gone, or None while it may be alive."""
        age = time.time() - self.heartbeat_at
        if age > STALE_S:
            return f"no heartbeat for {age:.0f} s"
        if self.machine == machine() and self.pid and not children.alive(self.pid):
            return f"its process {self.pid} on this machine has exited"
        return None


def open_claim(study: Study) -> None:
    """Set up by the process that creates the study, before others may join."""
    study.study.set_user_attr(REFIT, asdict(Claim()))


def _engine(study: Study) -> Any:
    return getattr(getattr(study.storage, "_backend", study.storage), "engine", None)


def read(study: Study) -> tuple[str | None, Claim]:
    """The stored text (for compare-and-set) and the claim it holds."""
    engine = _engine(study)
    if engine is None:  # in memory: this process is the only one
        value = study.study.user_attrs.get(REFIT)
        raw = None if value is None else json.dumps(value)
    else:
        from sqlalchemy import text

        with engine.connect() as connection:
            raw = connection.execute(
                text(
                    "SELECT value_json FROM study_user_attributes "
                    "WHERE study_id = :study AND key = :key"
                ),
                {"study": study.study._study_id, "key": REFIT},
            ).scalar()
    if raw is None:
        return None, Claim()
    return raw, Claim(**json.loads(raw))


def swap(study: Study, old: str | None, new: Claim) -> bool:
    """Store `new` only if the claim is still `old`; True when it was stored."""
    engine = _engine(study)
    if engine is None or old is None:
        # In memory (one process), or a study set up before claims existed.
        study.study.set_user_attr(REFIT, asdict(new))
        return True
    from sqlalchemy import text

    values = {
        "new": json.dumps(asdict(new)),
        "old": old,
        "study": study.study._study_id,
        "key": REFIT,
    }
    with engine.begin() as connection:
        done = connection.execute(
            text(
                "UPDATE study_user_attributes SET value_json = :new "
                "WHERE study_id = :study AND key = :key AND value_json = :old"
            ),
            values,
        )
    return done.rowcount == 1


class Refit:
    """This process's claim on the refit, kept fresh by a heartbeat thread."""

    def __init__(self, study: Study, raw: str | None, claim: Claim) -> None:
        self.study, self._raw, self.claim = study, raw, claim
        self.lost = False
        self.finished = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="refit-heartbeat", daemon=True)

    def __enter__(self) -> Refit:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_S + 5)
        if exc[0] is not None and not self.finished:
            # Failed or terminated: give the claim back, so a survivor or a rerun refits.
            with contextlib.suppress(Exception):
                self._move(Claim())

    def _move(self, new: Claim) -> bool:
        with self._lock:
            if self.lost:
                return False
            if swap(self.study, self._raw, new):
                self._raw, self.claim = json.dumps(asdict(new)), new
                return True
            self.lost = True
            return False

    def _fresh(self) -> Claim:
        return Claim(**{**asdict(self.claim), "heartbeat_at": time.time()})

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            with contextlib.suppress(Exception):  # a missed beat only shortens the claim
                self._move(self._fresh())

    def confirm(self) -> None:
        """Just before registering: the claim is still ours (not taken over meanwhile)."""
        if not self._move(self._fresh()):
            raise UserError(
                f"study {self.study.name!r}: another process took the refit over (this one "
                f"missed its heartbeat for {STALE_S:g} s); nothing registered by this one"
            )

    def finish(self, version: str | None) -> None:
        """The winner is registered (or refused by the serving contract): nobody refits again."""
        self.finished = True
        self._stop.set()
        self._move(Claim(state="done", owner=self.claim.owner, version=version))


def take(study: Study, wait_s: float) -> Refit | Claim:
    """Claim the refit; or the claim as it stands when another process has it (done, or still
    refitting when `wait_s` runs out). A dead claimant's claim is taken over."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + wait_s
    said = ""
    while True:
        termination.check()
        raw, claim = read(study)
        if claim.state == "done":
            return claim
        why = "" if claim.state == "open" else claim.dead()
        if claim.state == "open" or why:
            mine = Claim("running", owner, machine(), os.getpid(), time.time())
            if swap(study, raw, mine):
                if why:
                    progress.say(
                        f"study {study.name!r}: taking the refit over from {claim.owner} ({why})"
                    )
                return Refit(study, json.dumps(asdict(mine)), mine)
            continue
        if time.monotonic() >= deadline:
            return claim
        if said != claim.owner:
            progress.say(
                f"study {study.name!r}: {claim.owner} refits the winner; waiting "
                f"(at most {wait_s:g} s) to take over if it stops"
            )
            said = claim.owner
        termination.sleep(POLL_S)
