"""The study as the report's `Tuning` record: budget, what ran, best trial, importances, history."""

from __future__ import annotations

import csv
import io
import math
from typing import TYPE_CHECKING, Any

from mlgate.config import TuningConfig
from mlgate.report.document import GREATER_IS_BETTER, Trial, Tuning
from mlgate.tuning.objective import FAIL_REASON

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "fail"}


def _scalar(value: Any) -> str | int | float | bool | None:
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def trial(frozen: FrozenTrial) -> Trial:
    state = STATES[frozen.state.name]
    value = frozen.value if state == "complete" else None
    return Trial(
        number=frozen.number,
        state=state,
        value=value if value is None or math.isfinite(value) else None,
        params={k: _scalar(v) for k, v in frozen.params.items()},
        reason=frozen.user_attrs.get(FAIL_REASON) if state == "fail" else None,
    )


def importances(study: optuna.Study, seed: int) -> dict[str, float]:
    """fANOVA importances of the completed trials; empty when they cannot say anything (fewer
    than two completed trials, or a parameter that never varied)."""
    import optuna
    from optuna.importance import FanovaImportanceEvaluator

    try:
        found = optuna.importance.get_param_importances(
            study, evaluator=FanovaImportanceEvaluator(seed=seed)
        )
    except (ValueError, RuntimeError, ZeroDivisionError):
        return {}
    return {name: round(float(value), 6) for name, value in found.items() if math.isfinite(value)}


def build(
    config: TuningConfig,
    trials: list[FrozenTrial],
    *,
    study: optuna.Study,
    budget: int,
    wall_time_s: float,
    storage: str | None,
) -> Tuning:
    """The record; raises ValueError when no trial completed (there is no winner)."""
    history = [trial(t) for t in trials]
    completed = [t for t in history if t.state == "complete" and t.value is not None]
    if not completed:
        raise ValueError("no trial completed")
    best = _best(completed, GREATER_IS_BETTER[config.metric])
    return Tuning(
        sampler=config.sampler,
        seed=config.seed,
        n_trials=budget,
        timeout_s=config.timeout_s,
        completed=len(completed),
        pruned=sum(t.state == "pruned" for t in history),
        failed=sum(t.state == "fail" for t in history),
        wall_time_s=round(wall_time_s, 3),
        metric=config.metric,
        cv_folds=config.cv_folds,
        cv=config.cv,
        best_params=dict(best.params),
        best_cv_score=float(best.value),
        importances=importances(study, config.seed),
        history=history,
        storage=storage,
    )


def best(tuning: Tuning) -> Trial:
    """The winning trial of a record."""
    completed = [t for t in tuning.history if t.state == "complete" and t.value is not None]
    return _best(completed, GREATER_IS_BETTER[tuning.metric])


def _best(completed: list[Trial], greater: bool) -> Trial:
    """The best CV score; the earliest trial on a tie, so the winner does not depend on which
    worker finished first."""
    return sorted(completed, key=lambda t: ((-t.value if greater else t.value), t.number))[0]


def history_csv(tuning: Tuning) -> str:
    """One row per trial with the best score so far, for the study's artifacts."""
    greater = GREATER_IS_BETTER[tuning.metric]
    names = sorted({name for t in tuning.history for name in t.params})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["number", "state", "value", "best_so_far", *names, "reason"])
    best: float | None = None
    for t in tuning.history:
        if t.value is not None:
            best = t.value if best is None else (max if greater else min)(best, t.value)
        row = [t.number, t.state, t.value, best]
        writer.writerow([*row, *(t.params.get(n) for n in names), t.reason or ""])
    return out.getvalue()
