"""The search with Optuna alone (no MLflow): determinism, failures, pruning, the exact budget
shared through one storage, and the grid."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlgate.config import Settings
from mlgate.contract import Dataset, ModelPlugin
from mlgate.errors import UserError
from mlgate.tuning import record, search, space
from mlgate.tuning.job import check_space
from mlgate.tuning.objective import Objective

LASSO = "sklearn.linear_model.Lasso"
RIDGE = "sklearn.linear_model.Ridge"
SELECTION = {
    "estimator": {"kind": "categorical", "choices": [LASSO, RIDGE]},
    "alpha": {"kind": "float", "low": 1e-4, "high": 10.0, "log": True},
}


def run_search(
    settings: Settings, plugin: ModelPlugin, data: Dataset, **study: Any
) -> tuple[search.Study, list[record.Trial]]:
    opened = search.open_study(settings.tuning, storage_url=study.get("storage"), name="s")
    search.run(opened, Objective(settings, plugin, data))
    return opened, [record.trial(t) for t in search.finished(opened)]


def best(opened: search.Study, settings: Settings) -> dict[str, Any]:
    trials = search.finished(opened)
    tuning = record.build(
        settings.tuning,
        trials,
        study=opened.study,
        budget=opened.budget,
        wall_time_s=0,
        storage=None,
    )
    return tuning.best_params


# TPE samples at random for its first 10 trials (Optuna's n_startup_trials): its budget here
# goes past them, so the model-based trials are held to the seed too.
@pytest.mark.parametrize(
    ("sampler", "n_trials"), [("tpe", 13), ("random", 6)], ids=["tpe", "random"]
)
def test_same_seed_same_best_params(
    sampler: str,
    n_trials: int,
    tuning_settings: Callable[..., Settings],
    tiny_plugin: ModelPlugin,
    tiny_data: Dataset,
) -> None:
    settings = tuning_settings(SELECTION, sampler=sampler, n_trials=n_trials, seed=5)
    first, first_trials = run_search(settings, tiny_plugin, tiny_data)
    again, again_trials = run_search(settings, tiny_plugin, tiny_data)
    assert best(first, settings) == best(again, settings)
    assert [t.params for t in first_trials] == [t.params for t in again_trials]
    assert [t.value for t in first_trials] == [t.value for t in again_trials]
    other = tuning_settings(SELECTION, sampler=sampler, n_trials=n_trials, seed=6)
    _, other_trials = run_search(other, tiny_plugin, tiny_data)
    assert [t.params for t in other_trials] != [t.params for t in first_trials]


def test_a_failing_value_fails_its_trial_and_the_study_goes_on(
    tuning_settings: Callable[..., Settings], tiny_plugin: ModelPlugin, tiny_data: Dataset
) -> None:
    space = {"alpha": {"kind": "categorical", "choices": [-1.0, 0.01, 0.5]}}
    settings = tuning_settings(space, sampler="grid", n_trials=10, pruning=False)
    _, trials = run_search(settings, tiny_plugin, tiny_data)
    assert len(trials) == 3  # the whole grid, below the budget
    failed = [t for t in trials if t.state == "fail"]
    assert [t.params["alpha"] for t in failed] == [-1.0]
    assert "alpha" in failed[0].reason
    assert "\n" not in failed[0].reason
    completed = [t for t in trials if t.state == "complete"]
    assert sorted(t.params["alpha"] for t in completed) == [0.01, 0.5]
    assert all(t.value is not None and t.value > 0 for t in completed)


def test_hopeless_trials_are_pruned_after_a_fold(
    tuning_settings: Callable[..., Settings], tiny_plugin: ModelPlugin, tiny_data: Dataset
) -> None:
    space = {"alpha": {"kind": "categorical", "choices": [0.001, 0.01, 0.1, 1000.0]}}
    settings = tuning_settings(space, sampler="random", n_trials=16, cv_folds=4)
    _, trials = run_search(settings, tiny_plugin, tiny_data)
    hopeless = [
        t for t in trials if t.params["alpha"] == 1000.0 and t.number >= search.STARTUP_TRIALS
    ]
    assert hopeless, "the seeded sampler should try the hopeless value after the startup trials"
    assert all(t.state == "pruned" and t.value is None for t in hopeless)
    assert len(trials) == 16
    assert any(t.state == "complete" for t in trials)


def test_grid_runs_distinct_points_in_a_seeded_order(
    tuning_settings: Callable[..., Settings], tiny_plugin: ModelPlugin, tiny_data: Dataset
) -> None:
    space = {
        "alpha": {"kind": "float", "low": 0.1, "high": 0.5, "step": 0.1},
        "fit_intercept": {"kind": "categorical", "choices": [True, False]},
    }
    settings = tuning_settings(space, sampler="grid", n_trials=6, pruning=False)
    _, trials = run_search(settings, tiny_plugin, tiny_data)
    points = [tuple(t.params.values()) for t in trials]
    assert len(points) == 6
    assert len(set(points)) == 6
    _, again = run_search(settings, tiny_plugin, tiny_data)
    assert [tuple(t.params.values()) for t in again] == points


def test_two_handles_on_one_storage_share_the_budget_exactly(
    study_url: str,
    tuning_settings: Callable[..., Settings],
    tiny_plugin: ModelPlugin,
    tiny_data: Dataset,
) -> None:
    settings = tuning_settings(SELECTION, sampler="random", n_trials=7, pruning=False)
    owner = search.open_study(settings.tuning, storage_url=study_url, name="shared")
    search.mark_ready(owner)
    joiner = search.open_study(settings.tuning, storage_url=study_url, name="shared", wait_s=5)
    assert (owner.created, joiner.created, joiner.budget) == (True, False, 7)
    objective = Objective(settings, tiny_plugin, tiny_data)
    claimed: list[int] = []
    handles = [owner, joiner]
    while True:
        trials = [search.claim(h) for h in handles]
        for handle, trial in zip(handles, trials, strict=True):
            if trial is not None:
                claimed.append(trial.number)
                handle.study.tell(trial, objective(trial))
        if all(t is None for t in trials):
            break
    assert sorted(claimed) == list(range(7))
    assert len(search.finished(owner)) == 7
    assert search.claim(joiner) is None


def test_joining_with_another_configuration_is_refused(
    study_url: str, tuning_settings: Callable[..., Settings]
) -> None:
    owner = search.open_study(tuning_settings(SELECTION).tuning, storage_url=study_url, name="s")
    search.mark_ready(owner)
    other = tuning_settings(SELECTION, seed=99).tuning
    with pytest.raises(UserError, match="another tuning configuration"):
        search.open_study(other, storage_url=study_url, name="s", wait_s=5)


def test_joining_a_study_nobody_sets_up_gives_up(
    study_url: str, tuning_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "POLL_S", 0.02)
    config = tuning_settings(SELECTION).tuning
    search.open_study(config, storage_url=study_url, name="s")  # created, never marked ready
    with pytest.raises(UserError, match=r"within 0\.1 s"):
        search.open_study(config, storage_url=study_url, name="s", wait_s=0.1)


def test_an_unreadable_storage_is_one_line(
    tmp_path: Path, tuning_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "OPEN_PAUSE_S", 0.01)  # every attempt fails alike
    url = f"sqlite:///{tmp_path / 'missing-folder' / 'study.db'}"
    with pytest.raises(UserError, match=r"^--storage .*cannot open the Optuna storage"):
        search.open_study(tuning_settings(SELECTION).tuning, storage_url=url, name="s")


@pytest.mark.parametrize(
    ("space", "key"),
    [
        ({"alpah": {"kind": "float", "low": 0.1, "high": 1.0}}, "tuning.space.alpah"),
        (
            {"estimator": {"kind": "categorical", "choices": [LASSO, "sklearn.nope.Model"]}},
            "tuning.space.estimator",
        ),
        (
            {
                "estimator": {"kind": "categorical", "choices": [LASSO, RIDGE]},
                "selection": {"kind": "categorical", "choices": ["cyclic"]},
            },
            "tuning.space.selection",
        ),
    ],
)
def test_a_space_the_estimators_cannot_take_is_refused_before_any_trial(
    space: dict[str, Any],
    key: str,
    tuning_settings: Callable[..., Settings],
    tiny_plugin: ModelPlugin,
) -> None:
    settings = tuning_settings(space)
    with pytest.raises(UserError, match=key.replace(".", r"\.")):
        check_space(settings, settings.tuning, tiny_plugin)


def test_without_an_estimator_choice_the_configured_estimator_wins(
    tuning_settings: Callable[..., Settings], tiny_plugin: ModelPlugin, tiny_data: Dataset
) -> None:
    settings = tuning_settings({"alpha": {"kind": "float", "low": 0.01, "high": 1.0}})
    opened, trials = run_search(settings, tiny_plugin, tiny_data)
    assert all(set(t.params) == {"alpha"} for t in trials)
    chosen, params = space.split(best(opened, settings), settings.model.estimator)
    assert chosen == settings.model.estimator
    assert set(params) == {"alpha"}


@pytest.mark.parametrize("url", ["", "  "])
def test_an_empty_storage_is_one_line(url: str, tuning_settings: Callable[..., Settings]) -> None:
    """An unset secret in a workflow gives `--storage ""`: say so, not a driver's error."""
    with pytest.raises(UserError, match=r"^--storage is empty \(an unset secret\?\)"):
        search.open_study(tuning_settings(SELECTION).tuning, storage_url=url, name="s")
