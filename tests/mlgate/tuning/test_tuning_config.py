"""The [tool.mlgate.tuning] table: valid searches parse, mistakes are one line naming
the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlgate.config import Choice, FloatRange, IntRange, load_settings
from mlgate.errors import UserError
from mlgate.tuning.job import effective

VALID = """
[tool.mlgate.tuning]
enabled = true
sampler = "random"
seed = 11
n_trials = 12
timeout_s = 300
cv_folds = 4
cv = "time-ordered"
space.alpha = { kind = "float", low = 0.001, high = 1.0, log = true }
space.fit_intercept = { kind = "categorical", choices = [true, false] }

[tool.mlgate.tuning.space.estimator]
kind = "categorical"
choices = ["sklearn.linear_model.Lasso", "sklearn.linear_model.Ridge"]

[tool.mlgate.tuning.space.max_iter]
kind = "int"
low = 100
high = 1000
step = 100
estimators = ["sklearn.linear_model.Lasso"]
"""


def test_a_full_search_parses(pyproject: Callable[..., Path]) -> None:
    tuning = load_settings(pyproject(VALID)).tuning
    assert (tuning.enabled, tuning.sampler) == (True, "random")
    assert (tuning.seed, tuning.n_trials) == (11, 12)
    assert (tuning.cv, tuning.cv_folds, tuning.timeout_s) == ("time-ordered", 4, 300)
    assert isinstance(tuning.space["alpha"], FloatRange)
    assert tuning.space["alpha"].log
    assert isinstance(tuning.space["max_iter"], IntRange)
    assert tuning.space["max_iter"].grid() == list(range(100, 1001, 100))
    assert isinstance(tuning.space["fit_intercept"], Choice)
    assert tuning.space["fit_intercept"].choices == [True, False]


def test_tuning_is_off_by_default(pyproject: Callable[..., Path]) -> None:
    assert load_settings(pyproject("")).tuning.enabled is False


@pytest.mark.parametrize(
    ("table", "names"),
    [
        ('space.alpha = { kind = "float", low = 1.0, high = 0.1 }', ["space.alpha", "low"]),
        ('space.alpha = { kind = "float", low = 0.5, high = 0.5 }', ["space.alpha", "low"]),
        ('space.n = { kind = "int", low = 10, high = 2 }', ["space.n", "low"]),
        ('space.alpha = { kind = "gaussian", low = 0, high = 1 }', ["space.alpha", "gaussian"]),
        ("space.alpha = { low = 0.1, high = 1.0 }", ["space.alpha", "kind"]),
        ('space.alpha = { kind = "float", low = 0.0, high = 1.0, log = true }', ["log", "low"]),
        ('space.alpha = { kind = "float", low = 0.1, high = 1, log = true, step = 0.1 }', ["step"]),
        ('space.alpha = { kind = "float", low = 0.1, high = 1.0, scale = 2 }', ["scale"]),
        ('space.tol = { kind = "categorical", choices = [] }', ["space.tol", "choices"]),
        ('space.tol = { kind = "categorical", choices = [1, 1] }', ["space.tol", "distinct"]),
        (
            'sampler = "grid"\nspace.alpha = { kind = "float", low = 0.1, high = 1.0 }',
            ["space.alpha", "grid", "step"],
        ),
        ('sampler = "bayes"', ["sampler", "tpe"]),
        ("n_trials = 0", ["n_trials"]),
        ("cv_folds = 1", ["cv_folds"]),
        ('cv = "stratified"', ["cv"]),
        ('metric = "rmse"', ["metric", "root_mean_squared_error"]),
        ('metric = "train_log_loss"', ["metric", "training"]),
        ("timeout_s = -5", ["timeout_s"]),
        ("trials = 5", ["trials"]),
        ('space.estimator = { kind = "float", low = 0.1, high = 1.0 }', ["space.estimator"]),
        ('space.estimator = { kind = "categorical", choices = [1, 2] }', ["space.estimator"]),
        (
            'space.estimator = { kind = "categorical", choices = ["a.B"] }\n'
            'space.alpha = { kind = "float", low = 0.1, high = 1.0, estimators = ["c.D"] }',
            ["space.alpha", "c.D"],
        ),
        (
            'sampler = "grid"\n'
            'space.estimator = { kind = "categorical", choices = ["a.B", "c.D"] }\n'
            'space.n = { kind = "int", low = 1, high = 3, estimators = ["a.B"] }',
            ["space.n", "grid", "conditional"],
        ),
        ("enabled = true", ["space", "empty"]),
    ],
)
def test_mistakes_are_one_line_naming_the_key(
    pyproject: Callable[..., Path], table: str, names: list[str]
) -> None:
    path = pyproject(f"[tool.mlgate.tuning]\n{table}\n")
    with pytest.raises(UserError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert "tuning" in message
    for name in names:
        assert name in message


@pytest.mark.parametrize(
    ("overrides", "flag"),
    [({"trials": 0}, "--trials"), ({"timeout_s": 0}, "--timeout"), ({"seed": -1}, "--seed")],
)
def test_bad_command_line_overrides_name_the_flag(
    pyproject: Callable[..., Path], overrides: dict[str, int], flag: str
) -> None:
    tuning = load_settings(pyproject(VALID)).tuning
    with pytest.raises(UserError, match=f"^{flag}: "):
        effective(tuning, **overrides)


def test_command_line_overrides_win(pyproject: Callable[..., Path]) -> None:
    tuning = effective(load_settings(pyproject(VALID)).tuning, trials=3, timeout_s=9, seed=4)
    assert (tuning.n_trials, tuning.timeout_s, tuning.seed) == (3, 9, 4)
