"""A tiny model plug-in of the tuning tests' own, and in-memory datasets for it, so the search
is tested without the example model (and without MLflow)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

from trip_duration.config import Settings
from trip_duration.contract import Dataset, ModelPlugin, Target


class TinyPlugin(ModelPlugin):
    """Numeric columns in, duration out: scaling, then the estimator."""

    title: ClassVar[str] = "Tiny model"
    target: ClassVar[Target] = Target(name="duration", unit="min", label="Duration")

    def load(self, path: Path) -> Dataset:
        frame = pd.read_parquet(path)
        return dataset(frame, path)

    def feature_steps(self) -> list[tuple[str, Any]]:
        from sklearn.preprocessing import StandardScaler

        return [("scale", StandardScaler())]


def dataset(frame: pd.DataFrame, path: Path = Path("memory")) -> Dataset:
    return Dataset(
        path=path,
        features=frame.drop(columns="duration").astype("float64"),
        target=frame["duration"],
        rows_raw=len(frame),
    )


@pytest.fixture
def tiny_plugin() -> TinyPlugin:
    from trip_duration.contract import NoOptions

    return TinyPlugin(NoOptions())


@pytest.fixture
def tiny_data(trip_records: Callable[..., pd.DataFrame]) -> Dataset:
    """300 simulated rides (distance and zone ids as numbers, duration in minutes)."""
    return dataset(trip_records(rows=300, seed=3))


@pytest.fixture
def tuning_settings() -> Callable[..., Settings]:
    """`tuning_settings(space, **tuning)`: settings whose model is Lasso, tuned over `space`."""

    def make(space: dict[str, Any], **tuning: Any) -> Settings:
        return Settings.model_validate(
            {
                "model": {"estimator": "sklearn.linear_model.Lasso", "params": {"max_iter": 5000}},
                "tuning": {"n_trials": 8, "seed": 1, **tuning, "space": space},
            }
        )

    return make
