"""Drift statistics: PSI over quantile and top-k bins, KS, chi-square, quality shares."""

from __future__ import annotations

import numpy as np
import pytest

from mlgate.monitoring import stats


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def test_psi_is_zero_for_equal_shares_and_symmetric() -> None:
    shares = np.array([0.2, 0.3, 0.5])
    other = np.array([0.5, 0.3, 0.2])
    assert stats.psi(shares, shares) == pytest.approx(0.0)
    assert stats.psi(shares, other) == pytest.approx(stats.psi(other, shares))
    assert stats.psi(shares, other) > 0


def test_psi_of_an_emptied_bin_is_large_but_finite() -> None:
    value = stats.psi(np.array([0.5, 0.5]), np.array([1.0, 0.0]))
    assert np.isfinite(value)
    assert value > 1.0


@pytest.mark.parametrize("bins", [2, 5, 10, 20])
def test_reference_fills_its_own_quantile_bins_evenly(rng: np.random.Generator, bins: int) -> None:
    reference = rng.gamma(2.0, 1.5, 20_000)
    binned = stats.numeric_bins(reference, reference, bins)
    assert len(binned.labels) == bins
    assert binned.reference == pytest.approx(np.full(bins, 1 / bins), abs=0.002)
    assert binned.psi == pytest.approx(0.0)


def test_psi_grows_with_the_shift(rng: np.random.Generator) -> None:
    reference = rng.gamma(2.0, 1.5, 20_000)
    values = [
        stats.numeric_bins(reference, rng.gamma(2.0, 1.5, 20_000) * scale, 10).psi
        for scale in (1.0, 1.1, 1.3, 1.6)
    ]
    assert values == sorted(values)
    assert values[0] < 0.01 < values[-1]


def test_ties_merge_bins_and_nans_are_left_out() -> None:
    reference = np.array([1.0] * 900 + [2.0] * 100 + [np.nan] * 50)
    binned = stats.numeric_bins(reference, reference, 10)
    assert len(binned.labels) == 2
    assert binned.reference.sum() == pytest.approx(1.0)
    assert all(share > 0 for share in binned.reference)


def test_categorical_bins_keep_the_top_k_and_pool_the_rest() -> None:
    reference = np.array([1] * 50 + [2] * 30 + [3] * 15 + [4] * 5)
    current = np.array([1] * 10 + [2] * 10 + [9] * 80)  # 9 never seen: goes to "other"
    binned = stats.categorical_bins(reference, current, top_k=2)
    assert binned.labels == ["1", "2", stats.OTHER]
    assert binned.reference == pytest.approx([0.5, 0.3, 0.2])
    assert binned.current == pytest.approx([0.1, 0.1, 0.8])


@pytest.mark.parametrize("shift", [0.05, 0.1, 0.3])
def test_ks_statistic_is_the_cdf_gap(rng: np.random.Generator, shift: float) -> None:
    """Uniform(0, 1) against Uniform(shift, 1 + shift): the CDFs differ by `shift` at most."""
    result = stats.ks(rng.random(50_000), rng.random(50_000) + shift)
    assert result.statistic == pytest.approx(shift, abs=0.015)
    assert result.p_value < 1e-6


def test_ks_same_distribution_is_not_significant(rng: np.random.Generator) -> None:
    result = stats.ks(rng.normal(size=5_000), rng.normal(size=5_000))
    assert result.p_value > 0.001
    assert result.statistic < 0.05


@pytest.mark.parametrize(
    ("current", "low_v", "high_v"),
    [
        (np.array([1] * 500 + [2] * 500), 0.0, 0.02),  # same mix as the reference
        (np.array([1] * 900 + [2] * 100), 0.35, 0.45),  # shifted
        (np.array([3] * 1000), 0.95, 1.0),  # disjoint
    ],
)
def test_chi_square_cramers_v(current: np.ndarray, low_v: float, high_v: float) -> None:
    reference = np.array([1] * 500 + [2] * 500)
    result = stats.chi_square(reference, current, top_k=5)
    assert low_v <= result.statistic <= high_v
    assert (result.p_value < 0.01) == (low_v > 0)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.array([1.0, np.nan, 3.0, np.nan]), 0.5),
        (np.array([1, 2, 3]), 0.0),
        (np.array(["a", None, "b", "c"], dtype=object), 0.25),
        (np.array([], dtype=float), 0.0),
    ],
)
def test_missing_share(values: np.ndarray, expected: float) -> None:
    assert stats.missing_share(values) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(0.0, 10.0, 0.4), (None, 10.0, 0.2), (0.0, None, 0.2), (None, None, 0.0)],
)
def test_out_of_range_share_ignores_missing(
    low: float | None, high: float | None, expected: float
) -> None:
    values = np.array([-1.0, 5.0, 11.0, np.nan, 2.0])
    assert stats.out_of_range_share(values, low, high) == pytest.approx(expected)


@pytest.mark.parametrize(
    "reference",
    [
        np.array([1.0] * 900 + [2.0] * 100),
        np.array([0.0] * 50 + [5.0] * 950),
        np.round(np.random.default_rng(3).gamma(2.0, 1.5, 5_000), 1),
        np.arange(7, dtype=float),
    ],
    ids=["two-values", "mostly-max", "rounded-gamma", "few-rows"],
)
def test_no_reference_bin_is_empty(reference: np.ndarray) -> None:
    binned = stats.numeric_bins(reference, reference, 10)
    assert (binned.reference > 0).all()
    assert binned.reference.sum() == pytest.approx(1.0)
