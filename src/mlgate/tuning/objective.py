"""A trial's score: cross-validation on the training data only.

The validation month is kept out of the search entirely, so it judges the winner once and the
reviewer can compare the winner's CV score with its validation score (overfitting to the
search shows up as a gap). Folds are scored one by one and reported to Optuna, so an
unpromising trial is pruned after its first folds whatever the estimator.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from mlgate import tasks
from mlgate.config import ModelConfig, Settings, TuningConfig
from mlgate.contract import Dataset, ModelPlugin
from mlgate.train import estimator
from mlgate.tuning import space, stop

if TYPE_CHECKING:
    import optuna

FAIL_REASON = "fail_reason"
FOLD_SCORES = "fold_scores"
MAX_REASON = 300


class TrialFailedError(Exception):
    """The estimator could not be fitted or scored with this trial's parameters."""


def folds(
    config: TuningConfig, rows: int, strata: np.ndarray | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """K shuffled folds (seeded; stratified by `strata`, a classifier's labels, so every fold
    holds every class in its share), or forward-chaining splits in row order (`time-ordered`)."""
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit

    index = np.arange(rows)
    if config.cv == "time-ordered":
        return list(TimeSeriesSplit(n_splits=config.cv_folds).split(index))
    if strata is not None:
        split = StratifiedKFold(config.cv_folds, shuffle=True, random_state=config.seed)
        return list(split.split(index, strata))
    return list(KFold(config.cv_folds, shuffle=True, random_state=config.seed).split(index))


def model_config(settings: Settings, point: space.Params) -> ModelConfig:
    """The trial's model: the configured params apply only to the configured estimator."""
    chosen, params = space.split(point, settings.model.estimator)
    base = settings.model.params if chosen == settings.model.estimator else {}
    return settings.model.model_copy(update={"estimator": chosen, "params": {**base, **params}})


@dataclass
class Objective:
    """Callable per trial: suggest, then fit and score fold by fold."""

    settings: Settings
    plugin: ModelPlugin
    data: Dataset
    splits: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    metric: str = ""  # the metric trials optimise; set by the tuning job (`with_metric`)

    def __post_init__(self) -> None:
        self.metric = self.metric or self.settings.tuning.metric or self.settings.gate.metric
        self._task = tasks.for_plugin(self.plugin)
        self._fit_target = self._task.fit_target(self.data)
        self._record = self._task.describe(self.data, self.settings.model.decision_threshold)
        if not self.splits:
            strata = self._fit_target.to_numpy() if self._task.stratified else None
            self.splits = folds(self.settings.tuning, self.data.rows, strata)

    def __call__(self, trial: optuna.Trial) -> float:
        import optuna

        config = self.settings.tuning
        point = space.suggest(trial, config, self.settings.model.estimator)
        scores: list[float] = []
        for step, score in enumerate(self._fold_scores(point)):
            stop.check()
            scores.append(score)
            trial.set_user_attr(FOLD_SCORES, scores)
            if config.pruning and step < len(self.splits) - 1:
                trial.report(float(np.mean(scores)), step)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after fold {step + 1}")
        return float(np.mean(scores))

    def _fold_scores(self, point: space.Params) -> Iterator[float]:
        """Each fold scored by the task, as training scores the validation data: the model's
        outputs (a classifier's probabilities) against the held-out labels."""
        features, target, task = self.data.features, self.data.target, self._task
        for fit_rows, score_rows in self.splits:
            try:
                pipeline = estimator.build(self.plugin, model_config(self.settings, point))
                pipeline.fit(features.iloc[fit_rows], self._fit_target.iloc[fit_rows])
                outputs = task.outputs(pipeline, features.iloc[score_rows])
                scores = task.score(target.iloc[score_rows], outputs, self._record)
                score = float(scores[self.metric])
            except Exception as exc:  # any estimator error fails this trial, not the study
                raise TrialFailedError(reason(exc)) from None
            if not math.isfinite(score):
                raise TrialFailedError(f"the score is not finite ({score})")
            yield score


def reason(exc: BaseException) -> str:
    """The first line of an error, as a failed trial records it."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:MAX_REASON]
