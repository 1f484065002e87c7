"""The contract every task adapter fulfils; the lifecycle calls only this."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from mlgate.errors import UserError
from mlgate.tasks.table import METRICS, Metric

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from mlflow.pyfunc import PyFuncModel

    from mlgate.contract import Dataset

SERVED_TOLERANCE = 1e-9
"""How far a served output may be from the in-process one (floats pass through JSON text)."""

METADATA_KEY = "mlgate"
"""Where the logged model's MLmodel file records its task (and, for classifiers, its classes
and decision threshold), so whoever loads the model reads them from the model itself."""


def recorded_task(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """The task record in a logged model's MLmodel metadata; models logged before tasks
    existed carry none and are regressors."""
    return (metadata or {}).get(METADATA_KEY) or {"task": "regression"}


class Task(ABC):
    """One kind of prediction: which estimators fit it, what its model returns, its metrics."""

    name: ClassVar[str]
    estimator_kind: ClassVar[str]  # "regressor" or "classifier", as scikit-learn says
    metric_names: ClassVar[tuple[str, ...]]  # computed on validation, in report order
    train_metric: ClassVar[str]  # the same loss on the training rows, to see overfitting
    predict_fn: ClassVar[str]  # what the logged model's pyfunc calls
    stratified: ClassVar[bool] = False  # cross-validation keeps each label's share per fold

    @property
    def metrics(self) -> tuple[Metric, ...]:
        """Every metric this task logs, the training one last; each may be gated on."""
        return tuple(METRICS[name] for name in (*self.metric_names, self.train_metric))

    def check_estimator(self, instance: Any, where: str) -> None:
        """One line when the configured estimator does not make this task's predictions."""
        from sklearn.base import is_classifier, is_regressor

        if self.estimator_kind == "classifier" and is_classifier(instance):
            return
        if self.estimator_kind == "regressor" and is_regressor(instance):
            return
        other = (
            "a classifier"
            if is_classifier(instance)
            else "a regressor"
            if is_regressor(instance)
            else "neither a scikit-learn regressor nor a classifier"
        )
        raise UserError(
            f"{where}: {other}, not a scikit-learn {self.estimator_kind} "
            f"(the model plug-in's task is {self.name!r})"
        )

    def check_gate(self, metric: str, bounds: Iterable[str]) -> None:
        """One line when the gate names a metric this task does not compute."""
        known = [m.name for m in self.metrics]
        for key, name in (("gate.metric", metric), *((f"gate.bounds.{b}", b) for b in bounds)):
            if name not in known:
                raise UserError(
                    f"[tool.mlgate] {key} {name!r} is not a metric of a {self.name} plug-in; "
                    f"choose one of: {', '.join(known)}"
                )

    def check_threshold(self, threshold: float, configured: bool) -> None:
        """Only a binary classifier has a decision threshold to configure."""
        if configured:
            raise UserError(
                f"[tool.mlgate] model.decision_threshold {threshold:g}: only a binary plug-in "
                f"has a decision threshold, and this one's task is {self.name!r}"
            )

    def params(self, threshold: float) -> dict[str, Any]:
        """Parameters logged with the run beyond the estimator's own."""
        return {}

    @abstractmethod
    def check_data(self, train: Dataset, validation: Dataset) -> None:
        """One line, before anything is logged, when the targets cannot train or be scored."""

    def fit_target(self, train: Dataset) -> pd.Series:
        """The target the pipeline is fitted on."""
        return train.target

    @abstractmethod
    def describe(self, train: Dataset, threshold: float) -> dict[str, Any]:
        """What the logged model records about its task (JSON-safe), under METADATA_KEY."""

    @abstractmethod
    def outputs(self, pipeline: Any, features: pd.DataFrame) -> np.ndarray:
        """In process, what the logged model's pyfunc returns for these rows."""

    @abstractmethod
    def score(
        self, target: pd.Series, outputs: np.ndarray, description: dict[str, Any]
    ) -> dict[str, float]:
        """The validation metrics (`metric_names`) of a model's outputs."""

    @abstractmethod
    def as_outputs(self, raw: Any, description: dict[str, Any]) -> np.ndarray:
        """What a model returned (in process, or as a server's JSON), in this task's shape;
        ValueError when it does not have it."""

    def check_served(
        self, served: np.ndarray, expected: np.ndarray, description: dict[str, Any]
    ) -> str | None:
        """Why the served outputs break the contract (None when they keep it): they must
        equal the in-process ones within SERVED_TOLERANCE."""
        import numpy as np

        worst = float(np.max(np.abs(served - expected))) if served.size else 0.0
        if not worst <= SERVED_TOLERANCE:
            return f"differ from in-process predict by up to {worst:.3g}"
        return None

    @abstractmethod
    def no_outputs(self, description: dict[str, Any]) -> np.ndarray:
        """Outputs for zero rows, in this task's shape (an empty file's columns)."""

    @abstractmethod
    def output_columns(self, outputs: np.ndarray, description: dict[str, Any]) -> dict[str, Any]:
        """The columns `predict` writes for these outputs, by name (after `row`)."""

    @abstractmethod
    def monitored(
        self, outputs: np.ndarray, description: dict[str, Any]
    ) -> list[tuple[str, str, np.ndarray]]:
        """The model's outputs as monitoring watches them: (subject, "numeric" or
        "categorical", one value per row), each checked for drift like a feature."""

    @abstractmethod
    def labelled(self, target: pd.Series, description: dict[str, Any]) -> np.ndarray:
        """Which rows carry a label the model can be scored on (labels arrive late)."""

    def breakdown(
        self, target: pd.Series, outputs: np.ndarray, description: dict[str, Any]
    ) -> dict[str, Any] | None:
        """What the comment shows beyond the metrics (JSON-safe); None when the task has none."""
        return None

    @abstractmethod
    def train_score(self, pipeline: Any, data: Dataset) -> float:
        """`train_metric` of the fitted pipeline on its training rows."""

    def description_of(self, model: PyFuncModel) -> dict[str, Any]:
        """The task record of a loaded model; ValueError when it was logged for another task.

        Models logged before tasks existed carry none and are regressors.
        """
        return self.check_record(recorded_task(model.metadata.metadata))

    def check_record(self, recorded: dict[str, Any]) -> dict[str, Any]:
        """A model's task record, checked against this task; ValueError when it is another's."""
        if recorded.get("task") != self.name:
            raise ValueError(
                f"the model was logged for task {recorded.get('task')!r}, not {self.name!r}"
            )
        return recorded
