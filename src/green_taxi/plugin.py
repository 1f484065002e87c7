"""The example plug-in: NYC green-taxi trip duration in minutes from zone pair and distance.

It implements the lifecycle's model contract (`mlgate.contract.ModelPlugin`); the
lifecycle never imports this package directly, only through the configured reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from green_taxi.data import FEATURES, load_trips
from green_taxi.features import (
    DISTANCE,
    DROPOFF_ZONE,
    PICKUP_ZONE,
    ZonePairDistance,
    ZonesAndDistance,
)
from green_taxi.pipeline import BoundedPipeline
from mlgate.contract import ESTIMATOR_STEP, Dataset, ModelPlugin, Target, WatchedFeature

if TYPE_CHECKING:
    from mlflow.models import ModelSignature


class TaxiOptions(BaseModel):
    """Which rides count as plausible training and validation data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_minutes: float = Field(default=1.0, ge=0)
    max_minutes: float = Field(default=60.0, gt=0)
    max_distance_miles: float = Field(default=100.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> TaxiOptions:
        if self.min_minutes >= self.max_minutes:
            raise ValueError("min_minutes must be below max_minutes")
        return self


class GreenTaxi(ModelPlugin):
    name: ClassVar[str] = "trip-duration"
    title: ClassVar[str] = "\U0001f695 Trip-duration model report"
    target: ClassVar[Target] = Target(name="duration", unit="min", label="Trip duration")
    Options: ClassVar[type[BaseModel]] = TaxiOptions
    watched: ClassVar[tuple[WatchedFeature, ...]] = (
        WatchedFeature(DISTANCE, "numeric", low=0.0, high=100.0),
        WatchedFeature(PICKUP_ZONE, "categorical", low=1, high=265),
        WatchedFeature(DROPOFF_ZONE, "categorical", low=1, high=265),
    )
    options: TaxiOptions

    def load(self, path: Path) -> Dataset:
        trips = load_trips(path, self.options)
        return Dataset(
            path=path,
            features=trips.loc[:, list(FEATURES)],
            target=trips[self.target.name],
            rows_raw=trips.attrs["rows_raw"],
        )

    def feature_steps(self) -> list[tuple[str, Any]]:
        return [("features", ZonePairDistance())]

    def build_pipeline(self, estimator: Any) -> BoundedPipeline:
        """One-hot zone pairs for estimators that take sparse input; raw ids for the others.

        Predictions are clipped to the training durations, so any raw record gets a plausible
        answer.
        """
        sparse = estimator.__sklearn_tags__().input_tags.sparse
        features = ZonePairDistance() if sparse else ZonesAndDistance()
        return BoundedPipeline([("features", features), (ESTIMATOR_STEP, estimator)])

    def signature(self, data: Dataset, predictions: Any) -> ModelSignature:
        """Zone ids of any type: the features step reads numbers, numeric strings and nulls
        alike, so the served model answers a record whose id is missing or sent as text."""
        from mlflow.types.schema import AnyType, ColSpec, Schema

        signature = super().signature(data, predictions)
        signature.inputs = Schema(
            [
                ColSpec(AnyType(), spec.name) if spec.name in (PICKUP_ZONE, DROPOFF_ZONE) else spec
                for spec in signature.inputs.inputs
            ]
        )
        return signature

    def raw_features(self, table: pd.DataFrame) -> pd.DataFrame:
        return table.loc[:, list(FEATURES)]

    def raw_columns(self) -> list[str]:
        return list(FEATURES)

    def trusted_types(self) -> list[str]:
        return [
            f"{cls.__module__}.{cls.__qualname__}"
            for cls in (ZonePairDistance, ZonesAndDistance, BoundedPipeline)
        ]
