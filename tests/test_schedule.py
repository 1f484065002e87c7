"""The suite's xdist scheduling (`support.schedule`), driven as pytest-xdist drives it: the act
scenarios start first on both workers, no worker waits without a next test, every test runs
once, the other modules still stay whole on one worker, and a whole run's extra worker runs the
modules that mostly wait, and only those."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from xdist.plugin import pytest_xdist_auto_num_workers as per_core

from support.schedule import (
    LONG_MODULES,
    SCENARIO_MODULES,
    SHARED_FOLDERS,
    WAIT_MODULES,
    WAITS_WORKER,
    ScenariosFirst,
    auto_workers,
    is_scenario,
)

SCENARIOS = [
    *(f"tests/e2e/test_workflows.py::test_scenario_{i}" for i in range(3)),
    "tests/e2e/test_adopt_page.py::test_adopt",
]
OTHERS = [
    *(f"tests/mlgate/test_cli.py::test_{i}" for i in range(6)),
    *(f"tests/mlgate/test_small.py::test_{i}" for i in range(2)),
    "tests/e2e/test_harness.py::test_demo",
]


class Worker:
    """What the scheduler sees of a worker: it is sent test indices, then told to shut down."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.queue: list[int] = []
        self.ran: list[str] = []
        self.rounds: list[int] = []  # the round each test of `ran` ran in
        self.shutting_down = False

    def send_runtest_some(self, indices: list[int]) -> None:
        self.queue.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True

    def can_run(self) -> bool:
        """A worker starts its next test once it knows the one after it, or that none comes."""
        return len(self.queue) >= 2 or (self.shutting_down and bool(self.queue))


def run(
    collection: list[str], *, reorder: bool = True, count: int = 2, waits: bool = False
) -> list[Worker]:
    """Schedule `collection` on `count` workers, the last one for the wait-bound modules
    when `waits` (as `auto_workers` marks it), and run it to the end."""
    stash = pytest.Stash()
    if waits:
        stash[WAITS_WORKER] = True
    config = SimpleNamespace(
        getvalue=lambda name: [f"{count}*popen"] if name == "tx" else None,
        option=SimpleNamespace(loadscopereorder=reorder),
        stash=stash,
    )
    scheduler = ScenariosFirst(config)  # type: ignore[arg-type]
    workers = [Worker(f"gw{i}") for i in range(count)]
    for worker in workers:
        scheduler.add_node(worker)  # type: ignore[arg-type]
        scheduler.add_node_collection(worker, collection)  # type: ignore[arg-type]
    scheduler.schedule()
    for round_ in range(10 * len(collection)):  # each round runs a test on every worker that can
        ready = [w for w in workers if w.can_run()]
        if not ready:
            break
        for worker in ready:
            index = worker.queue.pop(0)
            worker.ran.append(collection[index])
            worker.rounds.append(round_)
            scheduler.mark_test_complete(worker, index)  # type: ignore[arg-type]
    assert all(not w.queue for w in workers), "a worker waits for a next test that never comes"
    return workers


@pytest.mark.parametrize("reorder", [True, False], ids=["reorder", "collection-order"])
def test_scenarios_start_first_on_both_workers_and_every_test_runs_once(reorder: bool) -> None:
    collection = [*OTHERS[:6], *SCENARIOS, *OTHERS[6:]]
    workers = run(collection, reorder=reorder)

    assert sorted(t for w in workers for t in w.ran) == sorted(collection)
    assert all(is_scenario(w.ran[0]) for w in workers), [w.ran[:2] for w in workers]
    ran_scenarios = [{t for t in w.ran if t in SCENARIOS} for w in workers]
    assert all(ran_scenarios), "the scenarios are spread over both workers"


def test_what_follows_a_scenario_is_another_module_while_one_is_left() -> None:
    """The next scenario goes to the worker that finishes first, not behind a running one."""
    workers = run([*OTHERS, *SCENARIOS])
    for worker in workers:
        assert is_scenario(worker.ran[0])
        assert not is_scenario(worker.ran[1]), worker.ran


def test_other_modules_stay_whole_on_one_worker() -> None:
    workers = run([*OTHERS, *SCENARIOS])
    for module in ("tests/mlgate/test_cli.py", "tests/mlgate/test_small.py"):
        holders = [w.gateway.id for w in workers if any(t.startswith(module) for t in w.ran)]
        assert len(holders) == 1, (module, holders)


def test_only_the_act_modules_tests_are_scenarios() -> None:
    assert all(is_scenario(t) for t in SCENARIOS)
    assert not any(is_scenario(t) for t in OTHERS)
    assert not is_scenario("tests/e2e/test_workflows.py")


def test_long_modules_follow_the_scenarios_and_the_small_modules_come_last() -> None:
    """A module of a few long tests goes out before modules of many short ones, so no worker
    ends the run alone on it; it never takes the small follower's place behind a scenario."""
    long_first, long_second = LONG_MODULES[:2]
    longs = [f"{long_second}::test_race_{i}" for i in range(2)] + [f"{long_first}::test_once"]
    small = [f"tests/mlgate/test_unit_{m}.py::test_{i}" for m in range(4) for i in range(3)]
    collection = [*OTHERS, *small, *longs, *SCENARIOS]
    workers = run(collection)
    assert sorted(t for w in workers for t in w.ran) == sorted(collection)
    for worker in workers:
        assert not any(t in longs for t in worker.ran[:2]), worker.ran
    started: dict[str, int] = {}
    for worker in workers:
        for test, round_ in zip(worker.ran, worker.rounds, strict=True):
            module = test.split("::")[0]
            started[module] = min(started.get(module, round_), round_)
    followers = {  # what a worker busy with a scenario was sent to follow it
        after.split("::")[0]
        for w in workers
        for before, after in zip(w.ran, w.ran[1:], strict=False)
        if is_scenario(before) and not is_scenario(after)
    }
    ordinary = set(started) - set(SCENARIO_MODULES) - {long_first, long_second} - followers
    assert ordinary, started
    for module in ordinary:
        assert started[long_first] <= started[module], (module, started)
        assert started[long_second] <= started[module], (module, started)
    assert started[long_first] <= started[long_second]


def test_every_listed_module_exists() -> None:
    root = Path(__file__).resolve().parents[1]
    for folder in SHARED_FOLDERS:
        assert (root / folder / "conftest.py").is_file(), folder
    for module in (*SCENARIO_MODULES, *LONG_MODULES, *WAIT_MODULES):
        assert (root / module).is_file() or module in SHARED_FOLDERS, module


def test_a_shared_folder_runs_on_one_worker() -> None:
    """Each worker would start the folder's session fixture (a JVM) for itself."""
    (folder,) = SHARED_FOLDERS
    shared = [f"{folder}/test_{m}.py::test_{i}" for m in ("monitor", "predict") for i in range(3)]
    small = [f"tests/mlgate/test_unit_{m}.py::test_{i}" for m in range(4) for i in range(3)]
    workers = run([*shared, *small])
    holders = [w for w in workers if any(t in shared for t in w.ran)]
    assert len(holders) == 1, [w.ran for w in workers]
    assert sorted(t for t in holders[0].ran if t in shared) == sorted(shared)


WAITING = [f"{module}::test_wait_{i}" for module in WAIT_MODULES for i in range(3)]


@pytest.mark.parametrize("reorder", [True, False], ids=["reorder", "collection-order"])
def test_the_waits_worker_runs_the_wait_bound_modules_and_nothing_else(reorder: bool) -> None:
    collection = [*OTHERS[:6], *WAITING, *SCENARIOS, *OTHERS[6:]]
    *cores, waits = run(collection, reorder=reorder, count=3, waits=True)

    assert sorted(waits.ran) == sorted(WAITING)
    assert sorted(t for w in (*cores, waits) for t in w.ran) == sorted(collection)
    assert all(is_scenario(w.ran[0]) for w in cores), [w.ran[:2] for w in cores]
    assert waits.rounds[0] == 0, "it starts with the others"


def test_without_wait_bound_tests_the_extra_worker_is_an_ordinary_one() -> None:
    """A partial run (`pytest tests/mlgate/test_cli.py`) still uses all its workers."""
    collection = [*OTHERS, *SCENARIOS]
    workers = run(collection, count=3, waits=True)
    assert sorted(t for w in workers for t in w.ran) == sorted(collection)
    assert all(w.ran for w in workers), [w.ran for w in workers]


def test_without_the_waits_worker_the_wait_bound_modules_run_like_any_other() -> None:
    collection = [*OTHERS, *WAITING, *SCENARIOS]
    workers = run(collection, count=2)
    assert sorted(t for w in workers for t in w.ran) == sorted(collection)
    holders = [w for w in workers if any(t in WAITING for t in w.ran)]
    assert len(holders) == 1, "still one module on one worker"


@pytest.mark.parametrize(
    ("markexpr", "extra"),
    [
        pytest.param("", 1, id="whole-run"),
        pytest.param("slow", 1, id="slow-only"),
        pytest.param("slow or not slow", 1, id="either"),
        pytest.param("not slow", 0, id="fast-run"),
        pytest.param("not slow and not spark", 0, id="fast-and-more"),
    ],
)
def test_auto_adds_the_waits_worker_only_when_slow_tests_run(
    markexpr: str, extra: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    config = SimpleNamespace(
        option=SimpleNamespace(markexpr=markexpr, numprocesses="auto"), stash=pytest.Stash()
    )
    cores = per_core(config)  # type: ignore[arg-type]
    assert auto_workers(config) == cores + extra  # type: ignore[arg-type]
    assert config.stash.get(WAITS_WORKER, False) is bool(extra)


def test_a_worker_count_set_in_the_environment_is_taken_as_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "5")
    config = SimpleNamespace(
        option=SimpleNamespace(markexpr="", numprocesses="auto"), stash=pytest.Stash()
    )
    assert auto_workers(config) == 5  # type: ignore[arg-type]
    assert WAITS_WORKER not in config.stash
