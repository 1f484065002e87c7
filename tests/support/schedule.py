"""How pytest-xdist spreads the suite over the workers: `--dist loadscope`, with the workflow
scenarios run under act (minutes each, most of the whole suite's time) first and apart.

Plain loadscope keeps a module's tests on one worker (its module-scoped models and stores are
built once), sends the modules with the most tests first and tops a worker up while it still
has two tests to go. For the act scenarios that is the wrong way round: a module of three
scenarios ran them one after another on one worker, sent late because it has few tests, and a
worker busy with a long scenario could be sent another one the other worker was free for.
Here each scenario is its own unit (they share no module-scoped fixture) and the scenarios go
out before anything else. A worker starts a test only once it knows the next one (or that
there is none), so one busy with a scenario is sent the smallest other unit to follow it.

Plain loadscope also sends a module of a few long tests late, behind modules of many short
ones, so a run used to end with one worker alone on minutes of PostgreSQL races or benchmark
runs. The modules that take minutes (`LONG_MODULES`, read off `pytest --durations` of a whole
run) go out right after the scenarios, longest first; a wrong or stale entry only reorders.

The Spark tests share a session-scoped local session (tests/mlgate/spark/conftest.py): their
folder is one unit, so one worker starts the JVM, not both.

Some modules mostly wait out the bounds they test (a tracking server that never answers, a
store's lock held for 25 s): about 220 s of a whole run at a quarter of a core, while the other
core had one worker's work only. So a run that admits the slow tests gets one worker more than
`-n auto` would start (`auto_workers`), and that worker runs those modules (`WAIT_MODULES`)
and nothing else, beside one worker per core. A fast run (`-m "not slow"`) starts no such worker:
its start-up would cost more than the waits it has.
"""

from __future__ import annotations

import os

import pytest
from _pytest.mark.expression import Expression
from xdist.scheduler import LoadScopeScheduling
from xdist.workermanage import WorkerController

# The modules whose tests run whole workflows under act (each test a scenario of minutes).
SCENARIO_MODULES = (
    "tests/e2e/test_workflows.py",
    "tests/e2e/test_classifier_workflows.py",
    "tests/e2e/test_monitor_workflow.py",
    "tests/e2e/test_tune_workflow.py",
    "tests/e2e/test_adopt_page.py",
    "tests/scripts/test_bench_comment_wait.py",
)

# Folders whose modules are one unit: they share a session-scoped fixture that is costly to
# start (Spark's JVM), which each worker would otherwise start for itself.
SHARED_FOLDERS = ("tests/mlgate/spark",)

# The longest other units, longest first (each took 1.5-6 minutes of a whole run).
LONG_MODULES = (
    "tests/mlgate/tracking/test_faults.py",
    "tests/mlgate/registry/test_promotion.py",
    "tests/mlgate/spark",
    "tests/scripts/test_benchmark_predict.py",
    "tests/docs/test_doc_commands.py",
    "tests/mlgate/tuning/test_tune_job.py",
    "tests/mlgate/registry/test_team_server.py",
    "tests/mlgate/registry/test_champion_commands.py",
)


# Modules whose tests spend most of their time waiting out a bound, not computing.
WAIT_MODULES = ("tests/mlgate/tracking/test_faults.py",)

WAITS_WORKER = pytest.StashKey[bool]()
"""Set when `auto_workers` added the worker for `WAIT_MODULES` (the last one, gw<n-1>)."""


def admits_slow(config: pytest.Config) -> bool:
    """Whether the run's `-m` expression lets tests marked slow run."""
    markexpr = config.option.markexpr
    return not markexpr or Expression.compile(markexpr).evaluate(lambda name, **_: name == "slow")


def auto_workers(config: pytest.Config) -> int:
    """`-n auto`: xdist's one worker per core, plus the waits worker when slow tests run.

    PYTEST_XDIST_AUTO_NUM_WORKERS, when set, is taken as it is."""
    from xdist.plugin import pytest_xdist_auto_num_workers as per_core

    workers = per_core(config)
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS") or not admits_slow(config):
        return workers
    config.stash[WAITS_WORKER] = True
    return workers + 1


def _module(nodeid: str) -> str:
    """The test module (or folder unit) a test or a unit belongs to."""
    return nodeid.split("::", 1)[0]


def is_wait_bound(scope: str) -> bool:
    """Whether the unit belongs to one of `WAIT_MODULES`."""
    return _module(scope) in WAIT_MODULES


def is_scenario(nodeid: str) -> bool:
    """Whether `nodeid` (a test, or the unit it is) is one of the act scenarios."""
    return "::" in nodeid and _module(nodeid) in SCENARIO_MODULES


def _long_rank(scope: str) -> int | None:
    """Where the unit's module stands among the long ones (None: not one of them)."""
    module = _module(scope)
    return LONG_MODULES.index(module) if module in LONG_MODULES else None


class ScenariosFirst(LoadScopeScheduling):
    """loadscope, except that each act scenario is a unit of its own, sent first and apart,
    the long modules follow them, and the waits worker (if any) runs the wait-bound modules."""

    def __init__(self, config: pytest.Config, log: object = None) -> None:
        super().__init__(config, log)  # type: ignore[arg-type]
        waits = config.stash.get(WAITS_WORKER, False)
        self._waits_worker = f"gw{self.numnodes - 1}" if waits and self.numnodes > 1 else None
        self._waits_served = False

    def _serve_waits_worker(self) -> None:
        """Send the waits worker every wait-bound unit at once, then nothing more. Without
        one in the collection (a partial run), or with the worker gone, it is an ordinary one."""
        if self._waits_served or self._waits_worker is None:
            return
        self._waits_served = True
        node = next((n for n in self.nodes if n.gateway.id == self._waits_worker), None)
        units = [scope for scope in self.workqueue if is_wait_bound(scope)]
        if node is None or not units:
            self._waits_worker = None
            return
        for scope in reversed(units):
            self.workqueue.move_to_end(scope, last=False)
        for _ in units:
            LoadScopeScheduling._assign_work_unit(self, node)
        node.shutdown()

    def _split_scope(self, nodeid: str) -> str:
        if is_scenario(nodeid):
            return nodeid
        folder = next((f for f in SHARED_FOLDERS if nodeid.startswith(f + "/")), None)
        return folder or super()._split_scope(nodeid)

    def _assign_work_unit(self, node: WorkerController) -> None:
        self._serve_waits_worker()
        if node.gateway.id == self._waits_worker or not self.workqueue:
            return
        first = next((scope for scope in self.workqueue if is_scenario(scope)), None)
        if first is None:
            ranked = [(r, s) for s in self.workqueue if (r := _long_rank(s)) is not None]
            first = min(ranked)[1] if ranked else None
        if first is not None:
            self.workqueue.move_to_end(first, last=False)
        super()._assign_work_unit(node)

    def _reschedule(self, node: WorkerController) -> None:
        work = self.assigned_work.get(node, {})
        busy = any(is_scenario(s) and not all(done.values()) for s, done in work.items())
        if not busy or node.shutting_down or not self.workqueue:
            super()._reschedule(node)
            return
        if self._pending_of(work) >= 2:
            return  # it knows what follows its scenario
        smallest = next(
            (s for s in reversed(self.workqueue) if not is_scenario(s) and _long_rank(s) is None),
            None,
        )
        if smallest is None:  # only scenarios and long modules are left: the next one follows
            super()._reschedule(node)
            return
        self.workqueue.move_to_end(smallest, last=False)
        LoadScopeScheduling._assign_work_unit(self, node)
