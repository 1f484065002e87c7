"""The example model: a scikit-learn Pipeline from raw trip records to minutes.

Everything a prediction needs lives in the pipeline, so the model logged to MLflow scores raw
records. Swap the estimator in the configuration, or replace this module (and `features`,
`data`) to bring your own model; the lifecycle machinery does not depend on their insides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.base import RegressorMixin
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge
from sklearn.pipeline import Pipeline

from trip_duration.config import ModelConfig
from trip_duration.errors import UserError
from trip_duration.features import ZonePairDistance

ESTIMATORS: dict[str, Callable[..., RegressorMixin]] = {
    "lasso": Lasso,
    "ridge": Ridge,
    "elastic_net": ElasticNet,
    "linear_regression": LinearRegression,
}
FEATURE_PARAM_PREFIX = "features__"
# The example's defaults when the configuration names the estimator but not these values.
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {"lasso": {"alpha": 0.1}}


def build_pipeline(config: ModelConfig) -> Pipeline:
    """Pipeline for the configured estimator; unknown names are one-line errors.

    Hyperparameters go to the estimator; a `features__` prefix reaches the feature step.
    """
    if config.estimator not in ESTIMATORS:
        raise UserError(
            f"model.estimator {config.estimator!r} is not one of {', '.join(sorted(ESTIMATORS))}"
        )
    estimator = ESTIMATORS[config.estimator]()
    features = ZonePairDistance()
    estimator_params: dict[str, Any] = {}
    feature_params: dict[str, Any] = {}
    params = {**DEFAULT_PARAMS.get(config.estimator, {}), **config.params}
    for name, value in params.items():
        if name.startswith(FEATURE_PARAM_PREFIX):
            target, short, bucket = (
                features,
                name.removeprefix(FEATURE_PARAM_PREFIX),
                feature_params,
            )
        else:
            target, short, bucket = estimator, name, estimator_params
        valid = target.get_params()
        if short not in valid:
            raise UserError(
                f"model.params.{name}: {type(target).__name__} has no parameter {short!r} "
                f"(valid: {', '.join(sorted(valid))})"
            )
        bucket[short] = value
    estimator.set_params(**estimator_params)
    features.set_params(**feature_params)
    return Pipeline([("features", features), ("estimator", estimator)])


def effective_params(pipeline: Pipeline) -> dict[str, Any]:
    """The hyperparameters actually used (defaults included), as logged to MLflow."""
    params = {f"{FEATURE_PARAM_PREFIX}{k}": v for k, v in pipeline["features"].get_params().items()}
    params.update(pipeline["estimator"].get_params())
    return params
