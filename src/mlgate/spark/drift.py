"""Drift and quality statistics computed by Spark: only aggregates reach the driver.

Each function returns what `mlgate.monitoring.stats` returns for the same values, so the
checks and the report are built by the same code for both engines:

- numeric columns: the reference's quantile edges are the observed values at the positions
  NumPy's `inverted_cdf` picks, found from cumulative counts per distinct value; the KS
  statistic is the largest gap of the two cumulative shares over those values (exactly
  `ks_2samp`'s), and its p-value the same asymptotic one;
- categorical columns: the count of each distinct value in each sample;
- quality: missing and out-of-range shares of every watched feature in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from mlgate.contract import WatchedFeature
from mlgate.monitoring import stats

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

VALUE, REF, CUR = "__value", "__ref", "__cur"


def numeric(
    reference: DataFrame, current: DataFrame, column: str, bins: int
) -> tuple[stats.Binned, stats.Test]:
    """Quantile-bin shares and the KS test of one numeric column, as `stats` computes them."""
    from pyspark.sql import Window, functions

    counts = _value_counts(reference, current, column)
    positive = functions.when(functions.col(REF) > 0, functions.col(VALUE))
    totals = counts.agg(functions.sum(REF), functions.sum(CUR), functions.max(positive)).first()
    n, m = int(totals[0] or 0), int(totals[1] or 0)
    edges = np.array([])
    gap = float("nan")
    if n:
        order = Window.orderBy(VALUE).rowsBetween(Window.unboundedPreceding, 0)
        cumulative = counts.select(
            VALUE,
            functions.sum(REF).over(order).alias("cr"),
            functions.sum(CUR).over(order).alias("cc"),
        )
        picks = [
            functions.min(functions.when(functions.col("cr") >= int(k) + 1, functions.col(VALUE)))
            for k in stats.quantile_positions(n, bins)
        ]
        share_gap = functions.abs(functions.col("cr") / n - functions.col("cc") / max(m, 1))
        row = cumulative.agg(*picks, functions.max(share_gap)).first()
        edges = stats.distinct_edges(np.array(row[:-1], dtype=np.float64), float(totals[2]))
        gap = float(row[-1])
    ref_counts, cur_counts = _bin_counts(counts, edges)
    binned = stats.binned_counts(edges, ref_counts, cur_counts)
    return binned, stats.ks_of_gap(gap, n, m) if n and m else stats.Test(np.nan, np.nan)


def categorical(
    reference: DataFrame, current: DataFrame, column: str, top_k: int
) -> tuple[stats.Binned, stats.Test]:
    """Top-k category shares and the chi-square test of one column, as `stats` computes them."""
    ref_values, ref_counts = _distinct(reference, column)
    cur_values, cur_counts = _distinct(current, column)
    labels, ref_top, cur_top = stats.top_k_of_counts(
        ref_values, ref_counts, cur_values, cur_counts, top_k
    )
    binned = stats.Binned(labels, _shares(ref_top), _shares(cur_top))
    return binned, stats.chi_square_of_counts(ref_top, cur_top)


def quality(
    data: DataFrame, watched: Sequence[WatchedFeature]
) -> dict[str, tuple[float, float | None]]:
    """Each watched feature's missing share and out-of-range share (None without bounds)."""
    from pyspark.sql import functions

    aggregates: list[Column] = [functions.count(functions.lit(1))]
    for feature in watched:
        missing = _missing(data, feature.name)
        aggregates.append(functions.sum(missing.cast("long")))
        value = functions.col(feature.name).cast("double")
        outside = functions.lit(False)
        if feature.low is not None:
            outside = outside | (value < feature.low)
        if feature.high is not None:
            outside = outside | (value > feature.high)
        aggregates.append(functions.sum((outside & ~missing).cast("long")))
    row = data.agg(*aggregates).first()
    rows = int(row[0])
    shares: dict[str, tuple[float, float | None]] = {}
    for i, feature in enumerate(watched):
        missing_rows, outside_rows = int(row[1 + 2 * i] or 0), int(row[2 + 2 * i] or 0)
        bounded = feature.low is not None or feature.high is not None
        shares[feature.name] = (
            missing_rows / rows if rows else 0.0,
            (outside_rows / rows if rows else 0.0) if bounded else None,
        )
    return shares


def _missing(data: DataFrame, column: str) -> Column:
    from pyspark.sql import functions
    from pyspark.sql.types import DoubleType, FloatType

    value = functions.col(column)
    if isinstance(data.schema[column].dataType, (DoubleType, FloatType)):
        return value.isNull() | functions.isnan(value)
    return value.isNull()


def _value_counts(reference: DataFrame, current: DataFrame, column: str) -> DataFrame:
    """Per distinct value of `column`: its count in the reference and in the current rows."""
    from pyspark.sql import functions

    def side(data: DataFrame, ref: int) -> DataFrame:
        value = functions.col(column).cast("double")
        kept = data.select(value.alias(VALUE)).where(
            functions.col(VALUE).isNotNull()
            & ~functions.isnan(VALUE)
            & (functions.abs(functions.col(VALUE)) != float("inf"))
        )
        return kept.select(VALUE, functions.lit(ref).alias(REF), functions.lit(1 - ref).alias(CUR))

    both = side(reference, 1).unionByName(side(current, 0))
    return both.groupBy(VALUE).agg(functions.sum(REF).alias(REF), functions.sum(CUR).alias(CUR))


def _bin_counts(counts: DataFrame, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts per (previous edge, edge] bin: a value's bin is the number of edges below it."""
    from pyspark.sql import functions

    index = functions.lit(0)
    for edge in edges:
        index = index + (functions.col(VALUE) > float(edge)).cast("int")
    rows = counts.groupBy(index.alias("bin")).agg(functions.sum(REF), functions.sum(CUR)).collect()
    ref, cur = np.zeros(len(edges) + 1), np.zeros(len(edges) + 1)
    for row in rows:
        ref[row[0]], cur[row[0]] = row[1] or 0, row[2] or 0
    return ref, cur


def _distinct(data: DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """The present values of `column`, sorted as `np.unique` sorts them, and their counts."""
    rows = data.where(~_missing(data, column)).groupBy(column).count().collect()
    values = np.array([row[0] for row in rows])
    counts = np.array([row[1] for row in rows], dtype=np.int64)
    order = np.argsort(values, kind="stable")
    return values[order], counts[order]


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts
