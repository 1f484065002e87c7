"""A tiny model plug-in for the tuning tests: numbers in, minutes out, data made here.

The search machinery is tested on it instead of the taxi example, so a team that replaces the
example keeps the tuning tests as they are. The data is simulated (seeded numpy): a duration
that grows with a distance, shifted by two numeric features, plus noise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mlgate.contract import Dataset, ModelPlugin, Target

REFERENCE = "support.tuning_plugin:TinyPlugin"
TARGET = "duration"


class TinyPlugin(ModelPlugin):
    """Scaling, then the estimator."""

    name: ClassVar[str] = "tiny"
    title: ClassVar[str] = "Tiny model report"
    target: ClassVar[Target] = Target(name=TARGET, unit="min", label="Duration")

    def load(self, path: Path) -> Dataset:
        return dataset(pd.read_parquet(path), path)

    def feature_steps(self) -> list[tuple[str, Any]]:
        from sklearn.preprocessing import StandardScaler

        return [("scale", StandardScaler())]


def make_frame(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    distance = rng.gamma(2.0, 1.6, rows)
    zone = rng.integers(1, 6, rows).astype(np.float64)
    hour = rng.integers(0, 24, rows).astype(np.float64)
    duration = 10 + 2.4 * distance + 1.5 * zone - 0.1 * hour + rng.normal(0, 1, rows)
    return pd.DataFrame({"distance": distance, "zone": zone, "hour": hour, TARGET: duration})


def dataset(frame: pd.DataFrame, path: Path = Path("memory")) -> Dataset:
    return Dataset(
        path=path,
        features=frame.drop(columns=TARGET),
        target=frame[TARGET],
        rows_raw=len(frame),
    )


def write_months(folder: Path, rows: int = 300) -> tuple[Path, Path]:
    """A training and a validation file (different seeds), as a team's data would arrive."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "train.parquet", folder / "validation.parquet")
    for seed, path in enumerate(paths, start=1):
        make_frame(rows, seed).to_parquet(path, index=False)
    return paths
