"""The checks `monitor` runs, each turned into a `Check` row with its statistic and threshold.

They see only arrays, the plug-in's `WatchedFeature`s and the thresholds, so a team's own
model gets monitoring from its plug-in's `watched` list alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlgate.config import MonitoringConfig
from mlgate.contract import Dataset, WatchedFeature
from mlgate.errors import UserError
from mlgate.monitoring import stats
from mlgate.monitoring.document import ChampionRef, Check, Distribution
from mlgate.tasks.table import METRICS

if TYPE_CHECKING:
    from mlgate.tasks.base import Task


@dataclass(frozen=True)
class Outputs:
    """What the champion returned for both datasets, and the task that reads them."""

    task: Task
    description: dict[str, Any]  # the champion's own task record (classes, threshold)
    reference: np.ndarray
    current: np.ndarray


def run_all(
    reference: Dataset,
    current: Dataset,
    watched: Sequence[WatchedFeature],
    outputs: Outputs,
    champion: ChampionRef,
    config: MonitoringConfig,
) -> tuple[list[Check], list[Distribution]]:
    """Every check, in report order: features, the model's outputs, data quality, performance.

    The task says which of its outputs to watch (a regressor's prediction; a classifier's
    predicted class and probabilities), so no check here knows the task.
    """
    results, distributions = feature_checks(reference, current, watched, config)
    task, description = outputs.task, outputs.description
    pairs = zip(
        task.monitored(outputs.reference, description),
        task.monitored(outputs.current, description),
        strict=True,
    )
    for (subject, kind, ref), (_, _, cur) in pairs:
        rows, shares = drift_checks(subject, kind, ref, cur, config, prediction=True)
        results += rows
        distributions.append(shares)
    results += quality_checks(reference, current, watched, config)
    performance = performance_check(current, outputs, champion, config.performance_tolerance)
    if performance is not None:
        results.append(performance)
    return results, distributions


def drift_checks(
    subject: str,
    kind: str,
    reference: np.ndarray,
    current: np.ndarray,
    config: MonitoringConfig,
    *,
    prediction: bool = False,
) -> tuple[list[Check], Distribution]:
    """PSI plus KS (numeric) or chi-square (categorical) for one column, or one of the
    model's outputs (`prediction`)."""
    if kind == "categorical":
        binned = stats.categorical_bins(reference, current, config.top_k)
        test = stats.chi_square(reference, current, config.top_k)
    else:
        binned = stats.numeric_bins(reference, current, config.bins)
        test = stats.ks(reference, current)
    return drift_rows(subject, kind, binned, test, config, prediction=prediction)


def drift_rows(
    subject: str,
    kind: str,
    binned: stats.Binned,
    test: stats.Test,
    config: MonitoringConfig,
    *,
    prediction: bool = False,
) -> tuple[list[Check], Distribution]:
    """The PSI and test rows and the distribution, from statistics however computed."""
    if kind == "categorical":
        name, floor, effect = "chi-square", config.cramers_v, "Cramér's V"
        psi_detail = f"over the top {len(binned.labels) - 1} reference categories + other"
    else:
        name, floor, effect = "KS", config.ks_statistic, "KS statistic"
        psi_detail = f"over {len(binned.labels)} reference quantile bins"
    check_kind = "prediction" if prediction else kind
    value = binned.psi
    psi_check = Check(
        kind=check_kind,
        subject=subject,
        test="PSI",
        statistic=value,
        threshold=config.psi_alert,
        comparison="<",
        passed=value < config.psi_alert,
        warning=config.psi_warn <= value < config.psi_alert,
        detail=f"{psi_detail}; warns from {config.psi_warn:g}",
    )
    significant = math.isfinite(test.p_value) and test.p_value < config.p_value
    large = math.isfinite(test.statistic) and test.statistic >= floor
    test_check = Check(
        kind=check_kind,
        subject=subject,
        test=name,
        statistic=_finite(test.statistic),
        threshold=floor,
        comparison="<",
        passed=not (significant and large),
        warning=significant and not large,
        p_value=_finite(test.p_value),
        detail=f"fails when {effect} ≥ {floor:g} with p < {config.p_value:g}",
    )
    distribution = Distribution(
        subject=subject,
        kind=check_kind,  # type: ignore[arg-type]
        labels=binned.labels,
        reference=[float(x) for x in binned.reference],
        current=[float(x) for x in binned.current],
        psi=value,
    )
    return [psi_check, test_check], distribution


def feature_checks(
    reference: Dataset,
    current: Dataset,
    watched: Sequence[WatchedFeature],
    config: MonitoringConfig,
) -> tuple[list[Check], list[Distribution]]:
    checks: list[Check] = []
    distributions: list[Distribution] = []
    for feature in watched:
        ref, cur = _column(reference, feature), _column(current, feature)
        rows, shares = drift_checks(feature.name, feature.kind, ref, cur, config)
        checks += rows
        distributions.append(shares)
    return checks, distributions


def quality_checks(
    reference: Dataset,
    current: Dataset,
    watched: Sequence[WatchedFeature],
    config: MonitoringConfig,
) -> list[Check]:
    """Missing and out-of-range shares per feature, and rows dropped by cleaning, vs reference."""
    shares: list[Shares] = []
    for feature in watched:
        ref, cur = _column(reference, feature), _column(current, feature)
        missing = (stats.missing_share(ref), stats.missing_share(cur))
        outside = None
        if feature.low is not None or feature.high is not None:
            low, high = feature.low, feature.high
            outside = (
                stats.out_of_range_share(ref, low, high),
                stats.out_of_range_share(cur, low, high),
            )
        shares.append(Shares(feature, missing, outside))
    return quality_rows((_dropped(reference), _dropped(current)), shares, config)


@dataclass(frozen=True)
class Shares:
    """One watched feature's missing and out-of-range shares, (reference, current)."""

    feature: WatchedFeature
    missing: tuple[float, float]
    out_of_range: tuple[float, float] | None


def quality_rows(
    dropped: tuple[float, float], shares: Sequence[Shares], config: MonitoringConfig
) -> list[Check]:
    """The quality rows, from shares however computed."""
    tolerance = config.quality_tolerance
    checks = [
        _share_check(
            "rows",
            "dropped by cleaning",
            *dropped,
            tolerance,
            "rows the plug-in's cleaning rejected",
        )
    ]
    for item in shares:
        feature = item.feature
        checks.append(
            _share_check(feature.name, "missing share", *item.missing, tolerance, "missing values")
        )
        if item.out_of_range is not None:
            low, high = feature.low, feature.high
            checks.append(
                _share_check(
                    feature.name,
                    "out-of-range share",
                    *item.out_of_range,
                    tolerance,
                    f"values outside [{_bound(low, '-∞')}, {_bound(high, '∞')}]",
                )
            )
    return checks


def performance_check(
    current: Dataset, outputs: Outputs, champion: ChampionRef, tolerance: float
) -> Check | None:
    """The gate metric on the labelled current rows against what the champion recorded on it
    when it was trained, within `tolerance` (relative), in the metric's direction."""
    recorded, name = champion.recorded, champion.metric
    metric = METRICS.get(name)
    if metric is None or recorded is None or not math.isfinite(recorded):
        return None
    known = outputs.task.labelled(current.target, outputs.description)
    if not known.any():
        return None
    try:
        value = outputs.task.score(
            current.target[known], outputs.current[known], outputs.description
        )[name]
    except (KeyError, ValueError):  # a label set the metric cannot score (one class only)
        return None
    if metric.greater_is_better:
        limit, comparison = recorded - abs(recorded) * tolerance, ">="
        passed = value >= limit
    else:
        limit, comparison = recorded + abs(recorded) * tolerance, "<="
        passed = value <= limit
    return Check(
        kind="performance",
        subject=str(current.target.name),
        test=metric.label,
        statistic=value,
        threshold=limit,
        comparison=comparison,
        passed=passed,
        detail=f"champion's validation {metric.label} {recorded:.4g} "
        f"{'-' if metric.greater_is_better else '+'} {tolerance:.0%}; "
        f"{int(known.sum()):,} labelled rows",
    )


def _share_check(
    subject: str, test: str, reference: float, current: float, tolerance: float, what: str
) -> Check:
    limit = reference + tolerance
    return Check(
        kind="quality",
        subject=subject,
        test=test,
        statistic=current,
        threshold=limit,
        comparison="<=",
        passed=current <= limit + 1e-12,
        detail=f"{what}: {current:.2%} now, {reference:.2%} in the reference",
    )


def _column(data: Dataset, feature: WatchedFeature) -> np.ndarray:
    if feature.name not in data.features.columns:
        raise UserError(
            f"{data.path}: watched feature {feature.name!r} is not among the loaded columns "
            f"({', '.join(map(str, data.features.columns))})"
        )
    return data.features[feature.name].to_numpy()


def _dropped(data: Dataset) -> float:
    return (data.rows_raw - data.rows) / data.rows_raw if data.rows_raw else 0.0


def _bound(value: float | None, unbounded: str) -> str:
    return unbounded if value is None else f"{value:g}"


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
