"""The example model as MLflow's scoring server serves it: garbage records sent over HTTP get
finite durations within the training range, and text or null ids are accepted."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from green_taxi.plugin import GreenTaxi, TaxiOptions
from mlgate.config import ModelConfig
from mlgate.contract import Dataset
from mlgate.serving.check import download
from mlgate.serving.server import ScoringServer
from mlgate.train import estimator
from mlgate.train.records import pip_requirements
from support.stores import sqlite_store
from support.taxi_records import GARBAGE, INPUTS

pytestmark = pytest.mark.slow

# A distance that is not a number is the one wrong type the signature rejects (400): the
# serving contract's "wrong type" request. Everything else is answered.
REJECTED = {"text-distance"}
SERVED = {name: row for name, row in GARBAGE.items() if name not in REJECTED}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    import mlflow

    mlflow.set_tracking_uri(sqlite_store(tmp_path_factory, "served-records"))
    plugin = GreenTaxi(TaxiOptions())
    train = _rides(800)
    data = Dataset(path=None, features=train[INPUTS], target=train["duration"], rows_raw=800)
    pipeline = estimator.build(plugin, ModelConfig(params={"alpha": 0.1}))
    pipeline.fit(data.features, data.target)
    trusted = estimator.trusted_types(pipeline, plugin)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=plugin.signature(data, pipeline.predict(data.features.head(100))),
            input_example=plugin.input_example(data),
            pip_requirements=pip_requirements(),
            code_paths=estimator.code_paths(trusted),
            skops_trusted_types=trusted,
        )
    with ScoringServer(download(info.model_uri), startup_timeout_s=240) as server:
        yield server, train["duration"]


def _rides(rows: int) -> pd.DataFrame:
    """Plausible rides (zones 7, 42, 74, 129, 236; 0.1-15 miles; 1.5-58.5 minutes)."""
    rng = np.random.default_rng(3)
    distance = np.round(np.clip(rng.gamma(2.0, 1.6, rows), 0.1, 15.0), 2)
    minutes = np.clip(10 + 2.4 * distance + rng.normal(0, 1, rows), 1.5, 58.5)
    zones = np.array([7, 42, 74, 129, 236])
    return pd.DataFrame(
        {
            "PULocationID": rng.choice(zones, rows),
            "DOLocationID": rng.choice(zones, rows),
            "trip_distance": distance,
            "duration": minutes,
        }
    )


def _json(value: object) -> object:
    if isinstance(value, float) and not np.isfinite(value):
        return None  # JSON has no NaN or infinity: a client sends null
    return value


def test_every_garbage_record_gets_a_bounded_duration_over_http(served) -> None:
    server, durations = served
    records = [
        {name: _json(value) for name, value in zip(INPUTS, row, strict=True)}
        for row in SERVED.values()
    ]
    answer = server.post(json.dumps({"dataframe_records": records}).encode())
    assert answer.status == 200, answer.text()
    predictions = np.asarray(answer.json()["predictions"], dtype=float)
    assert len(predictions) == len(records)
    assert np.isfinite(predictions).all()
    assert ((predictions >= durations.min()) & (predictions <= durations.max())).all()


@pytest.mark.parametrize(("name", "row"), SERVED.items(), ids=SERVED.keys())
def test_each_garbage_record_alone(served, name: str, row: tuple) -> None:
    server, durations = served
    record = {column: _json(value) for column, value in zip(INPUTS, row, strict=True)}
    answer = server.post(json.dumps({"dataframe_records": [record]}).encode())
    assert answer.status == 200, f"{name}: {answer.text()}"
    (prediction,) = answer.json()["predictions"]
    assert durations.min() <= prediction <= durations.max()


def test_a_distance_that_is_not_a_number_is_a_client_error(served) -> None:
    server, _ = served
    for name in REJECTED:
        record = dict(zip(INPUTS, GARBAGE[name], strict=True))
        answer = server.post(json.dumps({"dataframe_records": [record]}).encode())
        assert answer.status == 400
        assert "trip_distance" in answer.text() or "float" in answer.text()
    assert server.alive()
