"""Regression: one number per record, with the target's unit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from mlgate.errors import UserError
from mlgate.tasks.base import Task

if TYPE_CHECKING:
    import pandas as pd

    from mlgate.contract import Dataset


class Regression(Task):
    name: ClassVar[str] = "regression"
    estimator_kind: ClassVar[str] = "regressor"
    metric_names: ClassVar[tuple[str, ...]] = (
        "root_mean_squared_error",
        "mean_absolute_error",
        "r2_score",
        "max_error",
    )
    train_metric: ClassVar[str] = "train_root_mean_squared_error"
    predict_fn: ClassVar[str] = "predict"

    def as_outputs(self, raw: Any, description: dict[str, Any]) -> np.ndarray:
        return np.asarray(raw, dtype=np.float64).reshape(-1)

    def no_outputs(self, description: dict[str, Any]) -> np.ndarray:
        return np.zeros(0, dtype=np.float64)

    def output_columns(self, outputs: np.ndarray, description: dict[str, Any]) -> dict[str, Any]:
        return {"prediction": np.asarray(outputs, dtype=np.float64).reshape(-1)}

    def monitored(
        self, outputs: np.ndarray, description: dict[str, Any]
    ) -> list[tuple[str, str, np.ndarray]]:
        return [("prediction", "numeric", np.asarray(outputs, dtype=np.float64).reshape(-1))]

    def labelled(self, target: pd.Series, description: dict[str, Any]) -> np.ndarray:
        import pandas as pd

        return np.isfinite(np.asarray(pd.to_numeric(target, errors="coerce"), dtype=np.float64))

    def check_data(self, train: Dataset, validation: Dataset) -> None:
        from pandas.api.types import is_numeric_dtype

        for data in (train, validation):
            if not is_numeric_dtype(data.target):
                raise UserError(
                    f"{data.path}: column {data.target.name}: a regression target must be "
                    f"numeric, got {data.target.dtype} (declare task = 'binary' or "
                    "'multiclass' in the plug-in for labels)"
                )

    def describe(self, train: Dataset, threshold: float) -> dict[str, Any]:
        return {"task": self.name}

    def outputs(self, pipeline: Any, features: pd.DataFrame) -> np.ndarray:
        return np.asarray(pipeline.predict(features), dtype=np.float64).reshape(-1)

    def score(
        self, target: pd.Series, outputs: np.ndarray, description: dict[str, Any]
    ) -> dict[str, float]:
        """MLflow's regressor metrics (same keys), computed with scikit-learn directly:
        `mlflow.models.evaluate` gives the same numbers but costs most of a second to import."""
        from sklearn import metrics as sk

        truth = np.asarray(target, dtype=np.float64)
        predicted = np.asarray(outputs, dtype=np.float64).reshape(-1)
        return {
            "root_mean_squared_error": float(sk.root_mean_squared_error(truth, predicted)),
            "mean_absolute_error": float(sk.mean_absolute_error(truth, predicted)),
            "r2_score": float(sk.r2_score(truth, predicted)),
            "max_error": float(sk.max_error(truth, predicted)),
        }

    def train_score(self, pipeline: Any, data: Dataset) -> float:
        truth = np.asarray(data.target, dtype=np.float64)
        return float(np.sqrt(np.mean((truth - self.outputs(pipeline, data.features)) ** 2)))
