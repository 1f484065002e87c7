"""Any raw record a client can send gets a finite prediction within the training durations,
for the sparse (linear) and the dense (tree) feature paths alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from green_taxi.plugin import GreenTaxi, TaxiOptions
from mlgate.config import ModelConfig
from mlgate.train import estimator
from support.taxi_records import GARBAGE, INPUTS
from support.tlc import make_trip_records

ESTIMATORS = {
    "lasso": ("sklearn.linear_model.Lasso", {"alpha": 0.1}),
    "linear": ("sklearn.linear_model.LinearRegression", {}),
    "hist-gradient-boosting": ("sklearn.ensemble.HistGradientBoostingRegressor", {"max_iter": 20}),
}


@pytest.fixture(scope="module", params=ESTIMATORS.values(), ids=ESTIMATORS.keys())
def fitted(request) -> tuple[Pipeline, pd.DataFrame]:
    """Fitted once per estimator for the module: the tests only predict."""
    path, params = request.param
    train = make_trip_records(800, seed=11)
    pipeline = estimator.build(GreenTaxi(TaxiOptions()), ModelConfig(estimator=path, params=params))
    return pipeline.fit(train[INPUTS], train["duration"]), train


@pytest.mark.parametrize(("pu", "do", "distance"), GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_record_gets_a_duration_within_the_training_range(
    fitted: tuple[Pipeline, pd.DataFrame], pu: object, do: object, distance: object
) -> None:
    pipeline, train = fitted
    record = pd.DataFrame({"PULocationID": [pu], "DOLocationID": [do], "trip_distance": [distance]})
    (prediction,) = pipeline.predict(record)
    assert np.isfinite(prediction)
    assert train["duration"].min() <= prediction <= train["duration"].max()


@pytest.mark.parametrize("distance", [178_919.0, 1e9])
def test_absurd_distance_predicts_as_the_longest_training_distance(
    fitted: tuple[Pipeline, pd.DataFrame], distance: float
) -> None:
    pipeline, train = fitted
    longest = train["trip_distance"].max()
    rows = pd.DataFrame({"PULocationID": [7, 7], "DOLocationID": [42, 42]})
    rows["trip_distance"] = [distance, longest]
    absurd, at_the_edge = pipeline.predict(rows)
    assert absurd == pytest.approx(at_the_edge)


@pytest.mark.parametrize("distance", [0.0, -2.0, np.nan, np.inf])
def test_unmeasured_distance_predicts_as_the_median_distance(
    fitted: tuple[Pipeline, pd.DataFrame], distance: float
) -> None:
    pipeline, train = fitted
    rows = pd.DataFrame({"PULocationID": [74, 74], "DOLocationID": [129, 129]})
    rows["trip_distance"] = [distance, train["trip_distance"].median()]
    unknown, median = pipeline.predict(rows)
    assert unknown == pytest.approx(median)


def test_numeric_strings_predict_as_numbers(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    pipeline, train = fitted
    rows = train[INPUTS].head(50)
    as_text = rows.astype(str)
    np.testing.assert_allclose(pipeline.predict(as_text), pipeline.predict(rows), rtol=1e-12)


def test_clean_rows_are_not_clipped(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    """The bounds only catch what training never saw: plausible rides keep their prediction."""
    pipeline, train = fitted
    unclipped = pipeline[:-1].transform(train[INPUTS])
    raw = pipeline[-1].predict(unclipped)
    inside = (raw > train["duration"].min()) & (raw < train["duration"].max())
    assert inside.mean() > 0.9
    np.testing.assert_allclose(pipeline.predict(train[INPUTS])[inside], raw[inside])
