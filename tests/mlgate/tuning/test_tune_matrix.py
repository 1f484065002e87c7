"""`mlgate tune-matrix`: the tuning workflow's workers and their one study, or one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mlgate.config import Settings
from mlgate.errors import UserError
from mlgate.tuning import matrix
from mlgate.tuning.job import default_study_name
from support import tuning_plugin

SPACE = {"alpha": {"kind": "float", "low": 0.01, "high": 1.0, "log": True}}


@pytest.fixture
def settings(tuning_settings: Callable[..., Settings]) -> Settings:
    return tuning_settings(SPACE)


@pytest.mark.parametrize("workers", [1, 2, matrix.MAX_WORKERS])
def test_the_matrix_numbers_each_worker_once(settings: Settings, workers: int) -> None:
    planned = matrix.plan(settings, workers, "big-search", {})
    assert planned.workers == list(range(1, workers + 1))
    assert json.loads(planned.outputs()["workers"]) == planned.workers
    assert planned.outputs()["study"] == "big-search"


@pytest.mark.parametrize("workers", [0, -1, matrix.MAX_WORKERS + 1])
def test_a_worker_count_out_of_range_is_one_line(settings: Settings, workers: int) -> None:
    with pytest.raises(UserError, match=rf"^--workers {workers}: give 1 to {matrix.MAX_WORKERS}"):
        matrix.plan(settings, workers, "s", {})


@pytest.mark.parametrize("run", ["4711", "88"])
def test_the_default_study_is_this_commits_made_unique_by_the_run(
    settings: Settings, run: str
) -> None:
    model = settings.model.model_copy(update={"plugin": tuning_plugin.REFERENCE})
    settings = settings.model_copy(update={"model": model})
    env = {"GITHUB_RUN_ID": run, "GITHUB_SHA": "ab" * 20}
    planned = matrix.plan(settings, 2, "  ", env)
    assert planned.study == f"{default_study_name(settings, env)}-run{run}"
    assert matrix.plan(settings, 3, "", env).study == planned.study, "a re-run joins it"


@pytest.mark.parametrize("study", ["two words", "a/b", "x" * 121, "semi;colon"])
def test_a_study_name_the_storage_should_not_hold_is_one_line(
    settings: Settings, study: str
) -> None:
    with pytest.raises(UserError, match=r"^--study '.*': use at most 120 letters"):
        matrix.plan(settings, 2, study, {})


def test_an_empty_space_is_refused_before_any_runner_starts(
    tuning_settings: Callable[..., Settings],
) -> None:
    with pytest.raises(UserError, match=r"tuning\.space: the search space is empty"):
        matrix.plan(tuning_settings({}), 2, "s", {})


def test_the_outputs_are_appended_for_the_workflow(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "output"
    target.write_text("earlier=1\n", encoding="utf-8")
    planned = matrix.plan(settings, 2, "s1", {})
    assert matrix.write_outputs(planned, {"GITHUB_OUTPUT": str(target)}) == str(target)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines == ["earlier=1", "workers=[1,2]", "study=s1"]
    assert matrix.write_outputs(planned, {}) is None


def test_an_unwritable_output_file_is_one_line(settings: Settings, tmp_path: Path) -> None:
    planned = matrix.plan(settings, 2, "s1", {})
    with pytest.raises(UserError, match=r"^GITHUB_OUTPUT '.*': cannot write"):
        matrix.write_outputs(planned, {"GITHUB_OUTPUT": str(tmp_path)})
