"""Datasets for the monitoring checks, made from seeded generators (no files needed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlgate.contract import Dataset, WatchedFeature

WATCHED = (
    WatchedFeature("distance", "numeric", low=0.0, high=50.0),
    WatchedFeature("zone", "categorical", low=1, high=40),
)
ZONES = np.arange(1, 41)


def make_dataset(
    rows: int = 5_000,
    seed: int = 0,
    *,
    scale: float = 1.0,
    zone_weights: np.ndarray | None = None,
    missing: float = 0.0,
    out_of_range: float = 0.0,
    dropped: int = 0,
    noise: float = 1.0,
) -> Dataset:
    """Trips with a gamma distance and a skewed zone mix; the target is 3 min per mile + noise.

    `scale` stretches distances, `zone_weights` replaces the zone mix, `missing` and
    `out_of_range` blank or break that share of distances, `dropped` counts rows cleaning
    rejected (rows_raw - rows).
    """
    rng = np.random.default_rng(seed)
    weights = zone_weights if zone_weights is not None else 1.0 / ZONES
    zone = rng.choice(ZONES, rows, p=weights / weights.sum())
    distance = rng.gamma(2.0, 1.5, rows) * scale
    target = 5.0 + 3.0 * distance + rng.normal(0.0, noise, rows)
    broken = rng.random(rows)
    distance = np.where(broken < out_of_range, 80.0, distance)
    blank = (broken >= out_of_range) & (broken < out_of_range + missing)
    distance = np.where(blank, np.nan, distance)
    features = pd.DataFrame({"distance": distance, "zone": zone.astype(np.int64)})
    return Dataset(
        path=Path(f"month-{seed}.parquet"),
        features=features,
        target=pd.Series(target, name="minutes"),
        rows_raw=rows + dropped,
    )


@pytest.fixture
def dataset() -> Callable[..., Dataset]:
    """Factory: `dataset(rows=5000, seed=0, *, scale=1, zone_weights=None, missing=0,
    out_of_range=0, dropped=0, noise=1)` (see `make_dataset`)."""
    return make_dataset


@pytest.fixture
def watched() -> tuple[WatchedFeature, ...]:
    return WATCHED


def predict(data: Dataset) -> np.ndarray:
    """The true relation, as a perfect champion would predict it (missing distance: 0 miles)."""
    return 5.0 + 3.0 * np.nan_to_num(data.features["distance"].to_numpy())


@pytest.fixture
def predictor() -> Callable[[Dataset], np.ndarray]:
    return predict
