"""The configured search space as Optuna suggestions, and as a grid.

Optuna's define-by-run API makes model selection a conditional space: `estimator` is suggested
first, and a parameter restricted to some estimators is only suggested when one of them won.
"""

from __future__ import annotations

import itertools
import random
from typing import TYPE_CHECKING, Any

from mlgate.config import ESTIMATOR_CHOICE, Choice, FloatRange, IntRange, TuningConfig

if TYPE_CHECKING:
    import optuna

Params = dict[str, Any]


def suggest(trial: optuna.Trial, config: TuningConfig, default_estimator: str) -> Params:
    """One point of the space: `estimator` (always present) plus the hyperparameters."""
    chosen = default_estimator
    point: Params = {}
    estimator_choice = config.space.get(ESTIMATOR_CHOICE)
    if isinstance(estimator_choice, Choice):
        chosen = trial.suggest_categorical(ESTIMATOR_CHOICE, estimator_choice.choices)
        point[ESTIMATOR_CHOICE] = chosen
    for name, dimension in config.space.items():
        if name == ESTIMATOR_CHOICE:
            continue
        if dimension.estimators is not None and chosen not in dimension.estimators:
            continue
        if isinstance(dimension, FloatRange):
            point[name] = trial.suggest_float(
                name, dimension.low, dimension.high, log=dimension.log, step=dimension.step
            )
        elif isinstance(dimension, IntRange):
            point[name] = trial.suggest_int(
                name, dimension.low, dimension.high, step=dimension.step, log=dimension.log
            )
        else:
            point[name] = trial.suggest_categorical(name, dimension.choices)
    return {ESTIMATOR_CHOICE: chosen, **{k: v for k, v in point.items() if k != ESTIMATOR_CHOICE}}


def split(point: Params, default_estimator: str) -> tuple[str, Params]:
    """(estimator import path, hyperparameters) of a point; without an estimator choice in the
    space, the configured estimator."""
    params = dict(point)
    return params.pop(ESTIMATOR_CHOICE, default_estimator), params


def grid(config: TuningConfig) -> list[Params]:
    """Every grid point, in an order shuffled by the seed, so a budget below the grid's size
    still spreads over the whole grid, reproducibly."""
    names = list(config.space)
    axes = [config.space[name].grid() for name in names]
    points = [dict(zip(names, values, strict=True)) for values in itertools.product(*axes)]
    random.Random(config.seed).shuffle(points)
    return points


def grid_size(config: TuningConfig) -> int:
    size = 1
    for dimension in config.space.values():
        size *= len(dimension.grid())
    return size


def describe(config: TuningConfig) -> dict[str, Any]:
    """The space as logged with the study (JSON): each parameter's kind and range."""
    return {
        name: dimension.model_dump(exclude_none=True) for name, dimension in config.space.items()
    }
