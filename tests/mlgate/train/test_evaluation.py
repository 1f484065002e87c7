"""Scoring as served: metrics equal scikit-learn's, latency is sane, and a model that needs a
column the data lacks is reported as not comparable instead of crashing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from sklearn.linear_model import LinearRegression

from mlgate.tasks.regression import Regression
from mlgate.train import evaluation
from support.stores import sqlite_store

pytestmark = pytest.mark.slow  # trains or registers models in an MLflow store

EXTRA_INPUT = "fare_amount"
INPUTS = ["PULocationID", "DOLocationID", "trip_distance", EXTRA_INPUT]
SKLEARN = {
    "root_mean_squared_error": sk.root_mean_squared_error,
    "mean_absolute_error": sk.mean_absolute_error,
    "r2_score": sk.r2_score,
    "max_error": sk.max_error,
}


def rides(rows: int, seed: int) -> pd.DataFrame:
    """Model inputs (with the extra `fare_amount`) and a `duration` target."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "PULocationID": rng.choice([7, 42, 74], rows).astype(np.int64),
            "DOLocationID": rng.choice([129, 236], rows).astype(np.int64),
            "trip_distance": rng.gamma(2.0, 1.6, rows),
        }
    )
    frame["duration"] = 8.0 + 2.4 * frame["trip_distance"] + rng.normal(0.0, 1.0, rows)
    frame[EXTRA_INPUT] = 3.0 + 0.5 * frame["duration"]
    return frame


@dataclass(frozen=True)
class Logged:
    uri: str
    experiment_id: str
    model_uri: str


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Logged]:
    """A tiny model whose signature needs `fare_amount`, logged to a temporary sqlite store."""
    import mlflow

    uri = sqlite_store(tmp_path_factory, "evaluation")
    frame = rides(200, seed=3)
    model = LinearRegression().fit(frame[INPUTS], frame["duration"])
    with pytest.MonkeyPatch.context() as patch:
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            patch.setenv(name, uri)
        mlflow.set_tracking_uri(uri)
        client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        artifacts = tmp_path_factory.mktemp("evaluation-artifacts")
        experiment_id = client.create_experiment("evaluation", artifact_location=artifacts.as_uri())
        with mlflow.start_run(experiment_id=experiment_id):
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=mlflow.models.infer_signature(
                    frame[INPUTS], model.predict(frame[INPUTS])
                ),
            )
        yield Logged(uri=uri, experiment_id=experiment_id, model_uri=info.model_uri)


@pytest.fixture
def served(logged: Logged):
    import mlflow

    mlflow.set_tracking_uri(logged.uri)
    model, size = evaluation.load_served(logged.model_uri)
    assert size > 0
    return model


@pytest.mark.parametrize(("batch", "repeats"), [(1, 2), (37, 5)])
def test_latency_of_a_batch(served, batch: int, repeats: int) -> None:
    latency = evaluation.latency(served, rides(10, seed=4)[INPUTS], batch, repeats)

    assert latency.batch_size == batch
    assert 0 <= latency.p50_ms <= latency.p95_ms


def test_a_regressor_returns_one_float_per_row(served) -> None:
    frame = rides(25, seed=5)

    predictions = evaluation.outputs_of(served, frame[INPUTS])

    assert predictions.dtype == np.float64
    assert predictions.shape == (len(frame),)
    assert np.isfinite(predictions).all()


@pytest.mark.parametrize("dropped", [EXTRA_INPUT, "trip_distance"])
def test_model_needing_a_missing_column_is_not_comparable(served, dropped: str) -> None:
    features = rides(25, seed=6)[INPUTS].drop(columns=[dropped])

    with pytest.raises(evaluation.NotComparableError) as raised:
        evaluation.outputs_of(served, features)

    message = str(raised.value)
    assert dropped in message
    assert "\n" not in message


@pytest.mark.parametrize("prefix", ["", "champion_"])
def test_metrics_equal_scikit_learn_and_are_logged(logged: Logged, prefix: str) -> None:
    import mlflow

    rng = np.random.default_rng(7)
    target = pd.Series(rng.uniform(2.0, 50.0, 300), name="duration")
    predictions = target.to_numpy() + rng.normal(0.0, 3.0, len(target))
    mlflow.set_tracking_uri(logged.uri)

    with mlflow.start_run(experiment_id=logged.experiment_id) as run:
        scores = evaluation.score_outputs(
            Regression(), target, predictions, {"task": "regression"}, prefix=prefix
        )

    assert set(scores) == set(evaluation.REPORTED_METRICS)
    for name, metric in SKLEARN.items():
        assert scores[name] == pytest.approx(metric(target, predictions), rel=1e-9)
    assert evaluation.rmse(target, predictions) == pytest.approx(
        scores["root_mean_squared_error"], rel=1e-12
    )
    logged_metrics = mlflow.MlflowClient(logged.uri).get_run(run.info.run_id).data.metrics
    for name, value in scores.items():
        assert logged_metrics[prefix + name] == pytest.approx(value, rel=1e-12)


def test_only_computed_metrics_can_be_gated() -> None:
    """A gate on a metric nobody computes could never pass, so the config refuses it: the
    table it reads holds exactly what some task computes."""
    from mlgate import tasks
    from mlgate.report.document import GREATER_IS_BETTER

    computed = {m.name for name in tasks.TASK_NAMES for m in tasks.adapter(name).metrics}
    assert set(GREATER_IS_BETTER) == computed
    regression = tasks.adapter("regression")
    assert {*evaluation.REPORTED_METRICS, regression.train_metric} == {
        m.name for m in regression.metrics
    }
