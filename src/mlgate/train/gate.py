"""The quality gate: may this candidate replace the champion?

MLflow's own validation (`MetricThreshold` + `validate_evaluation_results`) gives the verdict.
Its relative check only expresses "at least X better" and needs every bounded metric in the
baseline too, so the champion comparison is stated as an absolute threshold instead: the
champion's score widened by the tolerance ("at most X worse"), combined with the primary
metric's own bound. Any metric of the plug-in's task may be gated on, in its direction from the
one metrics table (mlgate.tasks.table). The reasons are written for people, one per check, and
the champion comparison names the metric and which way is better.
"""

from __future__ import annotations

from mlgate.config import Bound, GateConfig
from mlgate.report.document import GREATER_IS_BETTER, Gate, metric_label


def decide(
    config: GateConfig,
    candidate: dict[str, float],
    champion: dict[str, float] | None,
    champion_label: str = "the champion",
    unit: str = "",
) -> Gate:
    """Judge `candidate` metrics against bounds and, when given, the champion's metrics."""
    from mlflow.models import MetricThreshold
    from mlflow.models.evaluation import EvaluationResult
    from mlflow.models.evaluation.validation import (
        ModelValidationFailedException,
        validate_evaluation_results,
    )

    limits = {name: _bound_value(bound) for name, bound in config.bounds.items()}
    compare = champion is not None and config.metric in champion
    if compare:
        widened = _widened(champion[config.metric], config)
        bound = limits.get(config.metric)
        stricter = min if not config.greater_is_better else max
        limits[config.metric] = widened if bound is None else stricter(widened, bound)
    thresholds = {
        name: MetricThreshold(threshold=float(value), greater_is_better=GREATER_IS_BETTER[name])
        for name, value in limits.items()
    }
    try:
        validate_evaluation_results(thresholds, EvaluationResult(metrics=candidate, artifacts={}))
        passed = True
    except ModelValidationFailedException:
        passed = False
    return Gate(
        metric=config.metric,
        greater_is_better=config.greater_is_better,
        relative_tolerance=config.relative_tolerance,
        bounds={name: bound.model_dump(exclude_none=True) for name, bound in config.bounds.items()},
        passed=passed,
        baseline="champion" if compare else "bounds-only",
        reasons=_reasons(config, candidate, champion if compare else None, champion_label, unit),
    )


def _bound_value(bound: Bound) -> float:
    return bound.max if bound.max is not None else bound.min


def _widened(value: float, config: GateConfig) -> float:
    """The worst score the tolerance still accepts, given the champion's score."""
    slack = abs(value) * config.relative_tolerance
    return value - slack if config.greater_is_better else value + slack


def _reasons(
    config: GateConfig,
    candidate: dict[str, float],
    champion: dict[str, float] | None,
    champion_label: str,
    unit: str,
) -> list[str]:
    reasons = []
    label = metric_label(config.metric, unit)
    if champion is not None:
        mine, theirs = candidate.get(config.metric), champion[config.metric]
        if mine is None:
            reasons.append(f"FAIL: {label} is missing from the candidate's metrics")
        else:
            limit = _widened(theirs, config)
            ok = mine >= limit if config.greater_is_better else mine <= limit
            change = (mine - theirs) / abs(theirs) if theirs else 0.0
            if change == 0:
                relation = "equal to"
            else:
                better = (change > 0) == config.greater_is_better
                relation = f"{abs(change):.1%} {'better' if better else 'worse'} than"
            direction = "higher" if config.greater_is_better else "lower"
            reasons.append(
                f"{'pass' if ok else 'FAIL'}: {label} {mine:.4g} is {relation} {champion_label} "
                f"({theirs:.4g}; {direction} is better); "
                f"tolerance {config.relative_tolerance:.1%} worse"
            )
    for name, bound in config.bounds.items():
        name_label = metric_label(name, unit)
        value = candidate.get(name)
        if value is None:
            reasons.append(f"FAIL: {name_label} is missing from the candidate's metrics")
            continue
        if bound.max is not None:
            ok, text = value <= bound.max, f"{name_label} {value:.4g} ≤ bound {bound.max:g}"
        else:
            ok, text = value >= bound.min, f"{name_label} {value:.4g} ≥ bound {bound.min:g}"
        reasons.append(f"pass: {text}" if ok else f"FAIL: {text} does not hold")
    return reasons
