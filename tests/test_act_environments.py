"""The pool of project environments kept between act runs (tests/support/act_environments.py):
concurrent runs of one workflow never share an environment, and nothing waits for a slot; and
the worker count a session gives the workflows' own test step."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from support import act
from support.act_environments import MAX_SLOTS, environment_slot
from support.act_results import ActResult

PR = ".github/workflows/pr.yml"


def test_concurrent_runs_get_their_own_slot_and_a_freed_slot_is_taken_again(
    tmp_path: Path,
) -> None:
    with environment_slot(tmp_path, PR) as first, environment_slot(tmp_path, PR) as second:
        assert first != second
        assert first.parent == second.parent == tmp_path / "pr"
    with environment_slot(tmp_path, PR) as again:
        assert again == first


def test_each_workflow_has_its_own_environments(tmp_path: Path) -> None:
    with (
        environment_slot(tmp_path, PR) as pr,
        environment_slot(tmp_path, ".github/workflows/promote.yml") as promote,
    ):
        assert pr.name == promote.name
        assert pr.parent != promote.parent


def test_more_concurrent_runs_than_slots_is_one_error_naming_the_workflow(
    tmp_path: Path,
) -> None:
    with contextlib.ExitStack() as held:
        taken = {held.enter_context(environment_slot(tmp_path, PR)) for _ in range(MAX_SLOTS)}
        assert len(taken) == MAX_SLOTS
        with pytest.raises(RuntimeError, match=rf"all {MAX_SLOTS} environments of {PR}"):
            held.enter_context(environment_slot(tmp_path, PR))


class _HarnessError(Exception):
    pass


@pytest.mark.parametrize("ending", ["success", "failed-job", "timeout", "error"])
def test_only_a_successful_run_leaves_its_environment_for_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    """act itself is the slow harness test's; here a stand-in installs into the environment
    it is pointed at, then ends as asked."""

    def run_act(*args: object, env: dict[str, str], **options: object) -> ActResult:
        installed = Path(env["UV_PROJECT_ENVIRONMENT"])
        installed.mkdir(parents=True)
        (installed / "pyvenv.cfg").write_text("home = /usr/bin\n")
        if ending == "error":
            raise _HarnessError
        code = 0 if ending in ("success", "timeout") else 1
        return ActResult(code, "", [], "1", 0.1, timed_out=ending == "timeout")

    monkeypatch.setattr(act, "run_act", run_act)
    pool = tmp_path / "pool"
    session = act.ActSession(tmp_path, tmp_path / "home", tmp_path / "art", environments=pool)
    with contextlib.suppress(_HarnessError):
        session.run("pull_request", {}, workflow=PR)

    assert (pool / "pr" / "0" / "pyvenv.cfg").exists() == (ending == "success")


@pytest.mark.parametrize("workers", [None, 1])
def test_a_session_sets_the_workflows_test_workers_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int | None
) -> None:
    """A workflow's `pytest -n auto` reads the count from xdist's own variable."""
    seen: list[dict[str, str]] = []

    def run_act(*args: object, env: dict[str, str] | None = None, **options: object) -> ActResult:
        seen.append(dict(env or {}))
        return ActResult(0, "", [], "1", 0.1)

    monkeypatch.setattr(act, "run_act", run_act)
    session = act.ActSession(tmp_path, tmp_path / "home", tmp_path / "art", test_workers=workers)
    session.run("pull_request", {}, workflow=PR, env={"KEPT": "yes"})

    assert seen[0].get("PYTEST_XDIST_AUTO_NUM_WORKERS") == (None if workers is None else "1")
    assert seen[0]["KEPT"] == "yes"
