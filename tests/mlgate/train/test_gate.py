"""The quality gate: a table of promotion decisions, and the verdict checked against the
documented policy (at most `relative_tolerance` worse than the champion, within every bound)
for many random scores."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mlgate import tasks
from mlgate.config import GateConfig
from mlgate.report.document import GREATER_IS_BETTER, METRIC_LABELS
from mlgate.train.gate import decide

RMSE, MAE, R2 = "root_mean_squared_error", "mean_absolute_error", "r2_score"
RMSE_BOUND = {RMSE: {"max": 12.0}}
R2_BOUND = {R2: {"min": 0.5}}
SEVERAL = {RMSE: {"max": 12.0}, MAE: {"max": 3.0}, R2: {"min": 0.5}}
TWO_PERCENT = 0.02
NUDGE = 1e-6


def _limit(champion: float, tolerance: float, greater_is_better: bool) -> float:
    """The worst score the policy accepts: `tolerance` of the champion's magnitude worse."""
    slack = abs(champion) * tolerance
    return champion - slack if greater_is_better else champion + slack


RMSE_LIMIT = _limit(6.0, TWO_PERCENT, greater_is_better=False)
R2_LIMIT = _limit(0.8, TWO_PERCENT, greater_is_better=True)


def _config(metric: str, tolerance: float, bounds: dict[str, dict[str, float]]) -> GateConfig:
    return GateConfig.model_validate(
        {"metric": metric, "relative_tolerance": tolerance, "bounds": bounds}
    )


def case(
    name: str,
    *,
    candidate: dict[str, float],
    champion: dict[str, float] | None,
    passed: bool,
    metric: str = RMSE,
    tolerance: float = 0.0,
    bounds: dict[str, dict[str, float]] | None = None,
) -> Any:
    bounds = RMSE_BOUND if bounds is None else bounds
    return pytest.param(metric, tolerance, bounds, candidate, champion, passed, id=name)


CASES = [
    case("first-model-within-bounds", candidate={RMSE: 6.0}, champion=None, passed=True),
    case("first-model-on-the-bound", candidate={RMSE: 12.0}, champion=None, passed=True),
    case("first-model-outside-bounds", candidate={RMSE: 12.5}, champion=None, passed=False),
    case("better-than-champion", candidate={RMSE: 5.9}, champion={RMSE: 6.0}, passed=True),
    case("equal-to-champion", candidate={RMSE: 6.0}, champion={RMSE: 6.0}, passed=True),
    case("worse-than-champion", candidate={RMSE: 6.06}, champion={RMSE: 6.0}, passed=False),
    case(
        "better-than-champion-but-outside-bounds",
        candidate={RMSE: 12.5},
        champion={RMSE: 13.0},
        passed=False,
    ),
    case(
        "worse-within-tolerance",
        candidate={RMSE: RMSE_LIMIT - NUDGE},
        champion={RMSE: 6.0},
        tolerance=TWO_PERCENT,
        passed=True,
    ),
    case(
        "worse-beyond-tolerance",
        candidate={RMSE: RMSE_LIMIT + NUDGE},
        champion={RMSE: 6.0},
        tolerance=TWO_PERCENT,
        passed=False,
    ),
    case(
        "champion-without-the-metric-is-ignored",
        candidate={RMSE: 6.0},
        champion={MAE: 1.0},
        passed=True,
    ),
    case(
        "perfect-champion-matched",
        candidate={RMSE: 0.0},
        champion={RMSE: 0.0},
        passed=True,
    ),
    case(
        "r2-better",
        metric=R2,
        bounds=R2_BOUND,
        candidate={R2: 0.81},
        champion={R2: 0.8},
        passed=True,
    ),
    case(
        "r2-worse",
        metric=R2,
        bounds=R2_BOUND,
        candidate={R2: 0.79},
        champion={R2: 0.8},
        passed=False,
    ),
    case(
        "r2-worse-within-tolerance",
        metric=R2,
        bounds=R2_BOUND,
        tolerance=TWO_PERCENT,
        candidate={R2: R2_LIMIT + NUDGE},
        champion={R2: 0.8},
        passed=True,
    ),
    case(
        "r2-worse-beyond-tolerance",
        metric=R2,
        bounds=R2_BOUND,
        tolerance=TWO_PERCENT,
        candidate={R2: R2_LIMIT - NUDGE},
        champion={R2: 0.8},
        passed=False,
    ),
    case(
        "r2-better-than-champion-but-below-bound",
        metric=R2,
        bounds=R2_BOUND,
        candidate={R2: 0.45},
        champion={R2: 0.4},
        passed=False,
    ),
    case(
        "r2-negative-champion-within-tolerance",
        metric=R2,
        bounds={},
        tolerance=0.1,
        candidate={R2: _limit(-0.2, 0.1, greater_is_better=True) + NUDGE},
        champion={R2: -0.2},
        passed=True,
    ),
    case(
        "r2-negative-champion-beyond-tolerance",
        metric=R2,
        bounds={},
        tolerance=0.1,
        candidate={R2: _limit(-0.2, 0.1, greater_is_better=True) - NUDGE},
        champion={R2: -0.2},
        passed=False,
    ),
    case("first-model-missing-metric", candidate={MAE: 2.0}, champion=None, passed=False),
    case("missing-metric-with-champion", candidate={MAE: 2.0}, champion={RMSE: 6.0}, passed=False),
    case(
        "several-bounds-all-hold",
        bounds=SEVERAL,
        candidate={RMSE: 6.0, MAE: 2.5, R2: 0.8},
        champion={RMSE: 6.5},
        passed=True,
    ),
    case(
        "several-bounds-one-fails",
        bounds=SEVERAL,
        candidate={RMSE: 6.0, MAE: 3.5, R2: 0.8},
        champion={RMSE: 6.5},
        passed=False,
    ),
]


@pytest.mark.parametrize(
    ("metric", "tolerance", "bounds", "candidate", "champion", "passed"), CASES
)
def test_decision_table(
    metric: str,
    tolerance: float,
    bounds: dict[str, dict[str, float]],
    candidate: dict[str, float],
    champion: dict[str, float] | None,
    passed: bool,
) -> None:
    gate = decide(_config(metric, tolerance, bounds), candidate, champion, "champion v3")

    compared = champion is not None and metric in champion
    assert gate.passed is passed, gate.reasons
    assert gate.baseline == ("champion" if compared else "bounds-only")
    assert gate.metric == metric
    assert gate.greater_is_better is GREATER_IS_BETTER[metric]
    assert gate.relative_tolerance == tolerance
    assert gate.bounds == bounds
    assert len(gate.reasons) == len(bounds) + compared, "one reason per check"
    assert all(reason.startswith(("pass: ", "FAIL: ")) for reason in gate.reasons)
    assert gate.passed == all(r.startswith("pass: ") for r in gate.reasons), (
        "the verdict must agree with the reasons shown to the reviewer"
    )
    checked = ([metric] if compared else []) + list(bounds)
    for name, reason in zip(checked, gate.reasons, strict=True):
        assert METRIC_LABELS.get(name, name) in reason
    if compared and metric in candidate:
        assert "champion v3" in gate.reasons[0]


def test_only_the_failing_bound_is_marked() -> None:
    candidate = {RMSE: 6.0, MAE: 3.5, R2: 0.8}
    gate = decide(_config(RMSE, 0.0, SEVERAL), candidate, None)

    failing = [r for r in gate.reasons if r.startswith("FAIL")]
    assert len(failing) == 1
    assert METRIC_LABELS[MAE] in failing[0]
    assert "3.5" in failing[0]


def test_bounds_are_reported_without_unset_sides() -> None:
    gate = decide(_config(R2, 0.0, SEVERAL), {RMSE: 1.0, MAE: 1.0, R2: 0.9}, None)

    assert gate.bounds == SEVERAL
    assert all(None not in side.values() for side in gate.bounds.values())


def _policy(
    metric: str,
    tolerance: float,
    bounds: dict[str, dict[str, float]],
    candidate: dict[str, float],
    champion: dict[str, float] | None,
) -> bool:
    """The documented gate, in plain arithmetic."""
    value = candidate[metric]
    if champion is not None:
        limit = _limit(champion[metric], tolerance, GREATER_IS_BETTER[metric])
        if not (value >= limit if GREATER_IS_BETTER[metric] else value <= limit):
            return False
    for name, side in bounds.items():
        if "max" in side and not candidate[name] <= side["max"]:
            return False
        if "min" in side and not candidate[name] >= side["min"]:
            return False
    return True


def test_decision_matches_the_documented_policy() -> None:
    rng = random.Random(20240611)
    outcomes = set()
    for _ in range(400):
        metric = rng.choice([RMSE, R2])
        tolerance = rng.choice([0.0, 0.0, TWO_PERCENT, round(rng.uniform(0.0, 0.3), 4)])
        if metric == RMSE:
            champion_value = rng.uniform(0.5, 15.0)
            bounds = rng.choice([{}, {RMSE: {"max": round(rng.uniform(4.0, 14.0), 2)}}])
        else:
            champion_value = rng.uniform(-0.5, 0.95)
            bounds = rng.choice([{}, {R2: {"min": round(rng.uniform(-0.2, 0.8), 2)}}])
        candidate = {metric: champion_value * rng.uniform(0.85, 1.15) + rng.uniform(-0.01, 0.01)}
        if rng.random() < 0.3:
            bounds = {**bounds, MAE: {"max": 3.0}}
            candidate[MAE] = rng.uniform(2.0, 4.0)
        champion = None if rng.random() < 0.2 else {metric: champion_value}
        expected = _policy(metric, tolerance, bounds, candidate, champion)

        gate = decide(_config(metric, tolerance, bounds), candidate, champion)

        assert gate.passed is expected, (metric, tolerance, bounds, candidate, champion)
        outcomes.add(expected)
    assert outcomes == {True, False}, "the sample must exercise both verdicts"


@pytest.mark.parametrize("task", tasks.TASK_NAMES)
def test_any_metric_of_a_task_is_judged_in_its_direction(task: str) -> None:
    """A candidate a tenth better than the champion passes, a tenth worse fails, for every
    metric each task logs; the reason names the metric and which way is better."""
    for metric in tasks.adapter(task).metrics:
        champion = 0.4
        step = 0.1 if metric.greater_is_better else -0.1
        for sign, passed in ((1, True), (-1, False)):
            gate = decide(
                _config(metric.name, 0.0, {}),
                {metric.name: champion + sign * step},
                {metric.name: champion},
                "champion v7",
            )
            assert gate.passed is passed, (metric.name, gate.reasons)
            (reason,) = gate.reasons
            assert reason.startswith(f"{'pass' if passed else 'FAIL'}: {metric.label} ")
            assert f"({champion:.4g}; {metric.direction})" in reason
            assert ("better than" if passed else "worse than") in reason
