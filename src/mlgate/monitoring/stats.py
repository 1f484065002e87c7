"""Drift statistics on plain arrays, with no knowledge of models, files or MLflow.

PSI measures how far a distribution moved (an effect size that does not grow with the row
count); KS and chi-square say whether the move is more than sampling noise. A check needs both,
because with a month of rows a significance test alone flags differences nobody cares about.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import stats

SHARE_FLOOR = 1e-4
"""Shares below this count as this in PSI, so an empty bin gives a large, finite term."""
OTHER = "other"


@dataclass(frozen=True)
class Binned:
    """Two distributions over the same bins: labels, and the share of rows in each."""

    labels: list[str]
    reference: np.ndarray
    current: np.ndarray

    @property
    def psi(self) -> float:
        return psi(self.reference, self.current)


@dataclass(frozen=True)
class Test:
    """A two-sample test: its statistic (an effect size) and p-value."""

    statistic: float
    p_value: float


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    ref = np.clip(np.asarray(reference, dtype=np.float64), SHARE_FLOOR, None)
    cur = np.clip(np.asarray(current, dtype=np.float64), SHARE_FLOOR, None)
    ref, cur = ref / ref.sum(), cur / cur.sum()
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def quantile_edges(reference: np.ndarray, bins: int) -> np.ndarray:
    """Bin edges at the reference's quantiles, so each bin holds about 1/bins of its rows.

    Edges are observed values and bins are (previous edge, edge]; ties merge bins, and an edge
    at the maximum is dropped, so no reference bin is empty.
    """
    finite = _finite(reference)
    if finite.size == 0:
        return np.array([])
    inner = np.quantile(finite, quantile_levels(bins), method="inverted_cdf")
    return distinct_edges(inner, finite.max())


def quantile_levels(bins: int) -> np.ndarray:
    return np.linspace(0, 1, bins + 1)[1:-1]


def quantile_positions(count: int, bins: int) -> np.ndarray:
    """The 0-based sorted positions `quantile_edges` takes its edges from, for `count` values
    (so an engine that counts instead of sorting picks the same observed values)."""
    from numpy.lib import _function_base_impl as numpy_quantiles

    return np.asarray(numpy_quantiles._inverted_cdf(count, quantile_levels(bins)), dtype=np.int64)


def distinct_edges(values: np.ndarray, maximum: float) -> np.ndarray:
    """Quantile values as bin edges: ties merged, an edge at the maximum dropped."""
    edges = np.unique(values)
    return edges[edges < maximum]


def numeric_bins(reference: np.ndarray, current: np.ndarray, bins: int) -> Binned:
    """Both samples' shares over the reference's quantile bins (NaNs are left out)."""
    edges = quantile_edges(reference, bins)
    ref, cur = _finite(reference), _finite(current)
    counts = [
        np.bincount(np.searchsorted(edges, x, side="left"), minlength=len(edges) + 1)
        for x in (ref, cur)
    ]
    return binned_counts(edges, counts[0], counts[1])


def binned_counts(edges: np.ndarray, reference: np.ndarray, current: np.ndarray) -> Binned:
    """Shares from both samples' counts over (previous edge, edge] bins."""
    bounds = [-np.inf, *edges, np.inf]
    labels = [_range(low, high) for low, high in itertools.pairwise(bounds)]
    return Binned(labels, _shares(reference), _shares(current))


def categorical_bins(reference: np.ndarray, current: np.ndarray, top_k: int) -> Binned:
    """Shares of the reference's `top_k` most frequent categories, plus everything else."""
    labels, ref_counts, cur_counts = top_k_counts(reference, current, top_k)
    return Binned(labels, _shares(ref_counts), _shares(cur_counts))


def top_k_counts(
    reference: np.ndarray, current: np.ndarray, top_k: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Counts of the reference's `top_k` most frequent categories in both samples, plus "other".

    Capping the categories keeps a column of thousands of distinct values testable: rare
    categories pool into "other", where a new mix still shows up.
    """
    ref_values, ref_counts = np.unique(_present(reference), return_counts=True)
    cur_values, cur_counts = np.unique(_present(current), return_counts=True)
    return top_k_of_counts(ref_values, ref_counts, cur_values, cur_counts, top_k)


def top_k_of_counts(
    ref_values: np.ndarray,
    ref_counts: np.ndarray,
    cur_values: np.ndarray,
    cur_counts: np.ndarray,
    top_k: int,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """`top_k_counts` from each sample's distinct values (sorted) and their counts."""
    order = np.argsort(-ref_counts, kind="stable")[:top_k]
    top = ref_values[order].tolist()
    cur_by_value = dict(zip(cur_values.tolist(), cur_counts.tolist(), strict=True))
    ref_top = ref_counts[order].astype(np.float64)
    cur_top = np.array([cur_by_value.get(v, 0) for v in top], dtype=np.float64)
    ref_all = np.append(ref_top, ref_counts.sum() - ref_top.sum())
    cur_all = np.append(cur_top, cur_counts.sum() - cur_top.sum())
    return [_label(v) for v in top] + [OTHER], ref_all, cur_all


def ks(reference: np.ndarray, current: np.ndarray) -> Test:
    """Two-sample Kolmogorov-Smirnov: the largest gap between the two CDFs, and its p-value."""
    ref, cur = _finite(reference), _finite(current)
    if ref.size == 0 or cur.size == 0:
        return Test(float("nan"), float("nan"))
    result = stats.ks_2samp(ref, cur, method="asymp")
    return Test(float(result.statistic), float(result.pvalue))


def ks_of_gap(statistic: float, ref_count: int, cur_count: int) -> Test:
    """The KS test from its statistic (the largest CDF gap) and the two sample sizes, with the
    asymptotic two-sided p-value `ks` reports."""
    if ref_count == 0 or cur_count == 0:
        return Test(float("nan"), float("nan"))
    large, small = sorted([float(ref_count), float(cur_count)], reverse=True)
    p_value = stats.kstwo.sf(statistic, np.round(large * small / (large + small)))
    return Test(float(statistic), float(np.clip(p_value, 0, 1)))


def chi_square(reference: np.ndarray, current: np.ndarray, top_k: int) -> Test:
    """Chi-square test of homogeneity over the top-k + other table; statistic is Cramér's V."""
    _, ref_counts, cur_counts = top_k_counts(reference, current, top_k)
    return chi_square_of_counts(ref_counts, cur_counts)


def chi_square_of_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> Test:
    """`chi_square` from the top-k + other counts of both samples."""
    table = np.array([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or table[0].sum() == 0 or table[1].sum() == 0:
        return Test(0.0, 1.0)
    chi2, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    cramers_v = float(np.sqrt(chi2 / table.sum() / (min(table.shape) - 1)))
    return Test(cramers_v, float(p_value))


def missing_share(values: np.ndarray) -> float:
    """Share of missing values (None or NaN)."""
    values = np.asarray(values)
    if values.size == 0:
        return 0.0
    return float(_missing(values).mean())


def out_of_range_share(values: np.ndarray, low: float | None, high: float | None) -> float:
    """Share of present values outside [low, high]; missing values count as in range."""
    values = np.asarray(values)
    if values.size == 0 or (low is None and high is None):
        return 0.0
    present = ~_missing(values)
    numbers = np.where(present, values, 0).astype(np.float64)
    outside = np.zeros(values.shape, dtype=bool)
    if low is not None:
        outside |= numbers < low
    if high is not None:
        outside |= numbers > high
    return float((outside & present).mean())


def _missing(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind in "iub":
        return np.zeros(values.shape, dtype=bool)
    import pandas as pd

    return pd.isna(values)


def _finite(values: np.ndarray) -> np.ndarray:
    numbers = np.asarray(values, dtype=np.float64)
    return numbers[np.isfinite(numbers)]


def _present(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    return values[~_missing(values)]


def _shares(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    return counts / total if total else counts


def _label(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _range(low: float, high: float) -> str:
    if np.isinf(low):
        return f"≤{high:.3g}"
    if np.isinf(high):
        return f"over {low:.3g}"
    return f"{low:.3g}-{high:.3g}"
