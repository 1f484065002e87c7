"""The monitor's checks: which ones fail for which kind of drift, with what statistic."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from mlgate.config import MonitoringConfig
from mlgate.contract import Dataset, WatchedFeature
from mlgate.monitoring import checks
from mlgate.monitoring.document import ChampionRef, Check
from mlgate.tasks.regression import Regression

CONFIG = MonitoringConfig()
Make = Callable[..., Dataset]


def run(
    reference: Dataset,
    current: Dataset,
    watched: tuple[WatchedFeature, ...],
    predictor: Callable[[Dataset], np.ndarray],
    recorded_rmse: float | None = 1.0,
    config: MonitoringConfig = CONFIG,
) -> list[Check]:
    found, _ = checks.run_all(
        reference,
        current,
        watched,
        outputs(reference, current, predictor),
        champion(recorded_rmse),
        config,
    )
    return found


def outputs(reference: Dataset, current: Dataset, predictor: Callable) -> checks.Outputs:
    return checks.Outputs(
        Regression(), {"task": "regression"}, predictor(reference), predictor(current)
    )


def champion(recorded: float | None) -> ChampionRef:
    return ChampionRef(version="1", model_uri="models:/m/1", recorded=recorded)


def failed(found: list[Check]) -> set[tuple[str, str]]:
    return {(c.subject, c.test) for c in found if not c.passed}


def test_same_distribution_passes_every_check(
    dataset: Make, watched: tuple[WatchedFeature, ...], predictor: Callable
) -> None:
    found = run(dataset(seed=1), dataset(seed=2), watched, predictor)
    assert failed(found) == set()
    kinds = {c.kind for c in found}
    assert kinds == {"numeric", "categorical", "prediction", "quality", "performance"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"scale": 1.5},
            {("distance", "PSI"), ("distance", "KS"), ("prediction", "PSI"), ("prediction", "KS")},
        ),
        (
            {"zone_weights": np.ones(40)},
            {("zone", "PSI"), ("zone", "chi-square")},
        ),
        ({"missing": 0.1}, {("distance", "missing share")}),
        ({"out_of_range": 0.1}, {("distance", "out-of-range share")}),
        ({"dropped": 1_000}, {("rows", "dropped by cleaning")}),
        ({"noise": 3.0}, {("minutes", "RMSE")}),
    ],
    ids=["longer-trips", "new-zone-mix", "missing", "out-of-range", "dropped-rows", "concept"],
)
def test_each_kind_of_drift_fails_its_checks(
    dataset: Make,
    watched: tuple[WatchedFeature, ...],
    predictor: Callable,
    change: dict,
    expected: set[tuple[str, str]],
) -> None:
    found = run(dataset(seed=1), dataset(seed=2, **change), watched, predictor)
    assert expected <= failed(found)
    if "scale" not in change and "out_of_range" not in change:
        # out-of-range values also move the distance distribution; other changes do not
        assert not failed(found) & {("distance", "PSI")}


def test_significant_but_tiny_shift_only_warns(
    dataset: Make, watched: tuple[WatchedFeature, ...], predictor: Callable
) -> None:
    """With many rows a 3% stretch is significant for KS, yet too small to alert on."""
    found = run(dataset(100_000, seed=1), dataset(100_000, seed=2, scale=1.03), watched, predictor)
    ks = next(c for c in found if (c.subject, c.test) == ("distance", "KS"))
    assert ks.p_value is not None
    assert ks.p_value < CONFIG.p_value
    assert ks.passed
    assert ks.warning
    assert ks.statistic is not None
    assert ks.statistic < ks.threshold


def test_psi_between_warn_and_alert_is_a_warning(
    dataset: Make, watched: tuple[WatchedFeature, ...]
) -> None:
    reference, current = dataset(20_000, seed=1), dataset(20_000, seed=2, scale=1.3)
    found, _ = checks.drift_checks(
        "distance",
        "numeric",
        reference.features["distance"].to_numpy(),
        current.features["distance"].to_numpy(),
        CONFIG,
    )
    psi = found[0]
    assert psi.test == "PSI"
    assert psi.statistic is not None
    assert CONFIG.psi_warn <= psi.statistic < CONFIG.psi_alert
    assert psi.passed
    assert psi.warning


@pytest.mark.parametrize(("psi_alert", "alerts"), [(0.05, True), (5.0, False)])
def test_thresholds_come_from_the_configuration(
    dataset: Make,
    watched: tuple[WatchedFeature, ...],
    predictor: Callable,
    psi_alert: float,
    alerts: bool,
) -> None:
    config = MonitoringConfig(psi_warn=0.01, psi_alert=psi_alert)
    found = run(dataset(seed=1), dataset(seed=2, scale=1.3), watched, predictor, config=config)
    psi = next(c for c in found if (c.subject, c.test) == ("distance", "PSI"))
    assert psi.threshold == psi_alert
    assert (not psi.passed) == alerts


@pytest.mark.parametrize(
    ("recorded", "expect_check"), [(None, False), (float("nan"), False), (1.0, True)]
)
def test_performance_needs_a_recorded_rmse(
    dataset: Make,
    watched: tuple[WatchedFeature, ...],
    predictor: Callable,
    recorded: float | None,
    expect_check: bool,
) -> None:
    found = run(dataset(seed=1), dataset(seed=2), watched, predictor, recorded_rmse=recorded)
    assert any(c.kind == "performance" for c in found) == expect_check


def test_performance_is_skipped_without_labels(dataset: Make, predictor: Callable) -> None:
    current = dataset(seed=2)
    unlabelled = dataclasses.replace(current, target=current.target * np.nan)
    given = outputs(current, unlabelled, predictor)
    assert checks.performance_check(unlabelled, given, champion(1.0), 0.2) is None


def test_performance_threshold_is_recorded_rmse_plus_tolerance(
    dataset: Make, predictor: Callable
) -> None:
    current = dataset(seed=2, noise=1.0)
    given = outputs(current, current, predictor)
    check = checks.performance_check(current, given, champion(0.9), 0.2)
    assert check is not None
    assert check.threshold == pytest.approx(0.9 * 1.2)
    assert check.statistic == pytest.approx(1.0, abs=0.05)
    assert check.passed


def test_a_watched_feature_missing_from_the_data_is_a_one_line_error(
    dataset: Make, predictor: Callable
) -> None:
    from mlgate.errors import UserError

    ghost = (WatchedFeature("fare", "numeric"),)
    with pytest.raises(UserError, match=r"month-1\.parquet: watched feature 'fare'") as caught:
        run(dataset(seed=1), dataset(seed=2), ghost, predictor)
    assert "\n" not in str(caught.value)
