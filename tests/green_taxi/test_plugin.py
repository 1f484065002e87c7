"""The example model: configured from settings, scores raw records, and learns the zone pair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Lasso, LinearRegression
from sklearn.metrics import root_mean_squared_error
from sklearn.pipeline import Pipeline

from green_taxi.features import ZonePairDistance
from green_taxi.plugin import GreenTaxi, TaxiOptions
from mlgate.config import ModelConfig, load_settings
from mlgate.errors import UserError
from mlgate.train import estimator

LASSO = "sklearn.linear_model.Lasso"


def build_pipeline(config: ModelConfig) -> Pipeline:
    return estimator.build(GreenTaxi(TaxiOptions()), config)


def effective_params(pipeline: Pipeline) -> dict:
    return estimator.logged_params(pipeline)


INPUTS = ["PULocationID", "DOLocationID", "trip_distance"]


@pytest.fixture
def fitted(trip_records) -> Pipeline:
    train = trip_records(1000, seed=1)
    return build_pipeline(ModelConfig(params={"alpha": 0.1})).fit(train[INPUTS], train["duration"])


def test_default_pipeline_is_zone_pairs_into_lasso() -> None:
    pipeline = build_pipeline(ModelConfig(params={"alpha": 0.1}))
    assert [name for name, _ in pipeline.steps] == ["features", "estimator"]
    assert isinstance(pipeline["features"], ZonePairDistance)
    assert type(pipeline["estimator"]) is Lasso
    assert pipeline["estimator"].alpha == 0.1


PARAM_CASES = {
    "alpha": ({"alpha": 0.5}, {"alpha": 0.5}),
    "several": (
        {"alpha": 0.01, "max_iter": 2000, "selection": "random", "fit_intercept": False},
        {"alpha": 0.01, "max_iter": 2000, "selection": "random", "fit_intercept": False},
    ),
    "none-value": ({"alpha": 0.2, "random_state": None}, {"random_state": None}),
}


@pytest.mark.parametrize(("params", "expected"), PARAM_CASES.values(), ids=PARAM_CASES.keys())
def test_params_reach_the_estimator(params: dict, expected: dict) -> None:
    estimator = build_pipeline(ModelConfig(params=params))["estimator"]
    assert {name: estimator.get_params()[name] for name in expected} == expected


@pytest.mark.parametrize("max_zone_id", [50, 265, 1000])
def test_feature_params_reach_the_feature_step(max_zone_id: int) -> None:
    pipeline = build_pipeline(
        ModelConfig(params={"alpha": 0.1, "features__max_zone_id": max_zone_id})
    )
    assert pipeline["features"].max_zone_id == max_zone_id
    assert "features__max_zone_id" not in pipeline["estimator"].get_params()


ESTIMATOR_CASES = {
    "ridge": ("sklearn.linear_model.Ridge", {"alpha": 2.0}, "Ridge"),
    "elastic_net": (
        "sklearn.linear_model.ElasticNet",
        {"alpha": 0.05, "l1_ratio": 0.3},
        "ElasticNet",
    ),
    "linear_regression": ("sklearn.linear_model.LinearRegression", {}, "LinearRegression"),
    "hist_gradient_boosting": (
        "sklearn.ensemble.HistGradientBoostingRegressor",
        {"max_iter": 20},
        "HistGradientBoostingRegressor",
    ),
}


@pytest.mark.parametrize(
    ("name", "params", "cls"), ESTIMATOR_CASES.values(), ids=ESTIMATOR_CASES.keys()
)
def test_other_estimators_are_configurable(trip_records, name: str, params: dict, cls: str) -> None:
    pipeline = build_pipeline(ModelConfig(estimator=name, params=params))
    assert type(pipeline["estimator"]).__name__ == cls
    for key, value in params.items():
        assert getattr(pipeline["estimator"], key) == value
    train = trip_records(300, seed=2)
    predictions = pipeline.fit(train[INPUTS], train["duration"]).predict(train[INPUTS])
    assert np.isfinite(predictions).all()


@pytest.mark.parametrize("name", [case[0] for case in ESTIMATOR_CASES.values()])
def test_every_estimator_builds_when_only_the_estimator_is_chosen(name: str) -> None:
    """Choosing an estimator in the config, without params, must not fail on another
    estimator's default hyperparameters (e.g. Lasso's alpha for LinearRegression)."""
    pipeline = build_pipeline(ModelConfig(estimator=name))
    assert name.endswith("." + type(pipeline["estimator"]).__name__)


def test_overriding_one_param_keeps_the_configured_alpha(pyproject) -> None:
    """`--param max_iter=5000` changes max_iter only; alpha stays the configured 0.1."""
    configured = pyproject("[tool.mlgate.model]\nparams = { alpha = 0.1 }\n")
    settings = load_settings(configured, overrides={"model": {"params": {"max_iter": 5000}}})
    estimator = build_pipeline(settings.model)["estimator"]
    assert estimator.max_iter == 5000
    assert estimator.alpha == 0.1


UNKNOWN_ESTIMATORS = {
    "no-module": ("catboost.CatBoostRegressor", "cannot import catboost"),
    "bare-name": ("Lasso", "expected an import path"),
    "empty": ("", "expected an import path"),
    "missing-class": ("sklearn.linear_model.Lassoo", "has no class Lassoo"),
    "not-a-regressor": ("sklearn.linear_model.LogisticRegression", "not a scikit-learn regressor"),
    "not-a-class": ("sklearn.linear_model.lasso_path", "has no class lasso_path"),
}


@pytest.mark.parametrize(
    ("name", "why"), UNKNOWN_ESTIMATORS.values(), ids=UNKNOWN_ESTIMATORS.keys()
)
def test_bad_estimator_is_a_one_line_error_naming_the_setting(name: str, why: str) -> None:
    with pytest.raises(UserError) as error:
        build_pipeline(ModelConfig(estimator=name))
    message = str(error.value)
    assert "\n" not in message
    assert "model.estimator" in message
    assert repr(name) in message
    assert why in message


UNKNOWN_PARAMS = {
    "typo": ("alhpa", "Lasso", ["alpha", "max_iter", "selection"]),
    "other-estimators-param": ("l1_ratio", "Lasso", ["alpha", "tol"]),
    "feature-typo": ("features__max_zone", "ZonePairDistance", ["max_zone_id"]),
}


@pytest.mark.parametrize(
    ("name", "owner", "listed"), UNKNOWN_PARAMS.values(), ids=UNKNOWN_PARAMS.keys()
)
def test_unknown_param_is_a_one_line_error_listing_valid_ones(
    name: str, owner: str, listed: list[str]
) -> None:
    with pytest.raises(UserError) as error:
        build_pipeline(ModelConfig(params={name: 1}))
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"model.params.{name}")
    assert owner in message
    for valid in listed:
        assert valid in message


def test_effective_params_include_defaults() -> None:
    params = effective_params(build_pipeline(ModelConfig(params={"alpha": 0.3})))
    assert params["alpha"] == 0.3
    assert params["max_iter"] == Lasso().max_iter
    assert params["fit_intercept"] is True
    assert params["features__max_zone_id"] == ZonePairDistance().max_zone_id
    assert set(Lasso().get_params()) <= set(params)


def test_effective_params_show_feature_overrides() -> None:
    config = ModelConfig(
        estimator="sklearn.linear_model.Ridge", params={"features__max_zone_id": 99}
    )
    params = effective_params(build_pipeline(config))
    assert params["features__max_zone_id"] == 99
    assert "solver" in params


SCORING_FRAMES = {
    "inputs-only": lambda frame: frame[INPUTS],
    "reordered": lambda frame: frame[INPUTS[::-1]],
    "extra-columns": lambda frame: frame.assign(VendorID=2, store_and_fwd_flag="N"),
    "int32-ids": lambda frame: frame[INPUTS].astype(
        {"PULocationID": "int32", "DOLocationID": "int32"}
    ),
    "float-ids": lambda frame: frame[INPUTS].astype({"PULocationID": float, "DOLocationID": float}),
}


@pytest.mark.parametrize("shape", SCORING_FRAMES.values(), ids=SCORING_FRAMES.keys())
def test_pipeline_scores_raw_records(fitted: Pipeline, trip_records, shape) -> None:
    records = trip_records(50, seed=3)
    expected = fitted.predict(records[INPUTS])
    predictions = fitted.predict(shape(records))
    assert predictions.shape == (50,)
    np.testing.assert_allclose(predictions, expected)


def test_unseen_pairs_and_zones_are_scored_from_distance(fitted: Pipeline) -> None:
    records = pd.DataFrame(
        {
            "PULocationID": [7, 264, 999, -1, 7],
            "DOLocationID": [42, 265, 7, 42, 7],
            "trip_distance": [3.0, 3.0, 3.0, 3.0, 3.0],
        }
    )
    predictions = fitted.predict(records)
    assert np.isfinite(predictions).all()
    assert predictions[1] == predictions[2] == predictions[3]
    assert predictions[0] != predictions[1]


def test_fitted_model_beats_mean_and_distance_only_baselines(
    fitted: Pipeline, trip_records
) -> None:
    train = trip_records(1000, seed=1)
    held_out = trip_records(1000, seed=11)
    model_rmse = root_mean_squared_error(held_out["duration"], fitted.predict(held_out[INPUTS]))
    mean_rmse = root_mean_squared_error(
        held_out["duration"], np.full(len(held_out), train["duration"].mean())
    )
    distance_only = LinearRegression().fit(train[["trip_distance"]], train["duration"])
    distance_rmse = root_mean_squared_error(
        held_out["duration"], distance_only.predict(held_out[["trip_distance"]])
    )
    assert model_rmse < mean_rmse
    assert model_rmse < 0.6 * distance_rmse
    assert distance_rmse < mean_rmse
