"""`[tool.mlgate.tuning]`: the search space (float and integer ranges, choices, the
estimator itself as a choice) and the search's budget, sampler and folds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from mlgate.config.sections import Section
from mlgate.report.document import GREATER_IS_BETTER


class FloatRange(Section):
    """A float hyperparameter: uniform between `low` and `high`, or log-uniform with `log`."""

    kind: Literal["float"]
    low: float
    high: float
    log: bool = False
    step: float | None = Field(default=None, gt=0)
    estimators: list[str] | None = None  # only suggested when one of these is the estimator

    @model_validator(mode="after")
    def _valid(self) -> FloatRange:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        if self.log and self.step is not None:
            raise ValueError("a log range cannot have a step")
        return self

    def grid(self) -> list[float] | None:
        """The values a grid search tries; None without a step (a continuum has no grid)."""
        if self.step is None:
            return None
        count = int((self.high - self.low) / self.step + 1e-9) + 1
        return [round(self.low + i * self.step, 12) for i in range(count)]


class IntRange(Section):
    """An integer hyperparameter from `low` to `high` inclusive, every `step`."""

    kind: Literal["int"]
    low: int
    high: int
    step: int = Field(default=1, gt=0)
    log: bool = False
    estimators: list[str] | None = None

    @model_validator(mode="after")
    def _valid(self) -> IntRange:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and (self.low <= 0 or self.step != 1):
            raise ValueError("a log range needs low > 0 and step 1")
        return self

    def grid(self) -> list[int]:
        return list(range(self.low, self.high + 1, self.step))


Scalar = str | int | float | bool | None


class Choice(Section):
    """A categorical hyperparameter; under the name `estimator`, import paths: model selection."""

    kind: Literal["categorical"]
    choices: list[Scalar] = Field(min_length=1)
    estimators: list[str] | None = None

    @field_validator("choices")
    @classmethod
    def _distinct(cls, choices: list[Scalar]) -> list[Scalar]:
        if len({repr(c) for c in choices}) != len(choices):
            raise ValueError("choices must be distinct")
        return choices

    def grid(self) -> list[Scalar]:
        return list(self.choices)


Dimension = Annotated[FloatRange | IntRange | Choice, Field(discriminator="kind")]
ESTIMATOR_CHOICE = "estimator"


class TuningConfig(Section):
    """A budgeted, seeded hyperparameter search (`mlgate tune`).

    `n_trials` is the contract; `timeout_s` only a safety net. Trials are scored by
    cross-validation on the training data alone, so the validation month judges the winner
    once. With `enabled`, `mlgate candidate` (the PR workflow's step) tunes instead of
    training.
    """

    enabled: bool = False
    sampler: Literal["grid", "random", "tpe"] = "tpe"
    seed: int = Field(default=0, ge=0)
    n_trials: int = Field(default=30, gt=0, le=10_000)
    timeout_s: float | None = Field(default=None, gt=0)
    cv_folds: int = Field(default=3, ge=2, le=20)
    cv: Literal["kfold", "time-ordered"] = "kfold"  # kfold is stratified for classifiers
    metric: str | None = None  # default: the gate's metric; any metric of the plug-in's task
    pruning: bool = True
    space: dict[str, Dimension] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _coherent(self) -> TuningConfig:
        choice = self.space.get(ESTIMATOR_CHOICE)
        if choice is not None:
            if not isinstance(choice, Choice):
                raise ValueError(f"space.{ESTIMATOR_CHOICE}: must be categorical (import paths)")
            if not all(isinstance(c, str) for c in choice.choices):
                raise ValueError(f"space.{ESTIMATOR_CHOICE}: choices must be import paths")
            if choice.estimators is not None:
                raise ValueError(f"space.{ESTIMATOR_CHOICE}: cannot itself be conditional")
        for name, dimension in self.space.items():
            if dimension.estimators is not None and self.sampler == "grid":
                raise ValueError(
                    f"space.{name}: the grid sampler cannot take conditional parameters "
                    "(estimators = [...]); use random or tpe"
                )
            grid_float = self.sampler == "grid" and isinstance(dimension, FloatRange)
            if grid_float and dimension.step is None:
                raise ValueError(f"space.{name}: the grid sampler needs a step for a float range")
            if dimension.estimators is not None:
                known = choice.choices if isinstance(choice, Choice) else []
                unknown = [e for e in dimension.estimators if e not in known]
                if unknown:
                    raise ValueError(
                        f"space.{name}: estimators {unknown} are not among space.estimator's "
                        "choices"
                    )
        if self.enabled and not self.space:
            raise ValueError("space: tuning is enabled but the search space is empty")
        return self

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str | None) -> str | None:
        """Any validation metric of the table; which task it belongs to is checked by `tune`."""
        if value is None:
            return None
        if value.startswith("train_") and value in GREATER_IS_BETTER:
            raise ValueError(f"{value!r} is scored on the training rows; use a validation metric")
        if value not in GREATER_IS_BETTER:
            known = ", ".join(m for m in GREATER_IS_BETTER if not m.startswith("train_"))
            raise ValueError(f"unknown metric {value!r}; choose one of: {known}")
        return value
