"""What binary and multiclass classification share: labels, classes and probabilities.

The classes are learned from the training data (strings or integers), in scikit-learn's order
(`classes_`, sorted). The logged model's pyfunc returns one probability per class in that
order; the label is derived from them (argmax, or for binary the decision threshold on the
second class, scikit-learn's positive class), so every consumer derives the same label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from mlgate.errors import UserError
from mlgate.tasks.base import SERVED_TOLERANCE, Task

if TYPE_CHECKING:
    from mlgate.contract import Dataset

MAX_CLASSES_SHOWN = 1000
"""Classes the report carries per model; past this, a breakdown is left out, not cut."""

MAX_MONITORED_SCORES = 10
"""A multiclass model's class probabilities watched for drift, in class order."""

PREVIEW = 5
"""How many labels an error message lists before "…"."""


def _preview(labels: list[Any]) -> str:
    shown = ", ".join(repr(label) for label in labels[:PREVIEW])
    return shown + (", …" if len(labels) > PREVIEW else "")


def _labels(values: pd.Series) -> list[Any]:
    """The distinct labels as plain Python values, in a stable order."""
    return sorted((v.item() if isinstance(v, np.generic) else v for v in values.unique()), key=str)


class Classification(Task):
    estimator_kind: ClassVar[str] = "classifier"
    train_metric: ClassVar[str] = "train_log_loss"
    predict_fn: ClassVar[str] = "predict_proba"
    min_classes: ClassVar[int]
    max_classes: ClassVar[int | None]
    stratified: ClassVar[bool] = True

    def check_data(self, train: Dataset, validation: Dataset) -> None:
        column = train.target.name
        for data in (train, validation):
            missing = int(data.target.isna().sum())
            if missing:
                raise UserError(f"{data.path}: column {column}: {missing} row(s) have no label")
        seen = _labels(train.target)
        too_many = self.max_classes is not None and len(seen) > self.max_classes
        if len(seen) < self.min_classes or too_many:
            wanted = (
                f"exactly {self.min_classes}"
                if self.max_classes == self.min_classes
                else f"at least {self.min_classes}"
            )
            raise UserError(
                f"{train.path}: column {column}: a {self.name} plug-in needs {wanted} classes "
                f"in training, found {len(seen)} ({_preview(seen)})"
            )
        known = set(seen)
        present = _labels(validation.target)
        unseen = [label for label in present if label not in known]
        if unseen:
            raise UserError(
                f"{validation.path}: column {column}: label(s) {_preview(unseen)} never seen in "
                f"training ({train.path})"
            )
        if len(present) < 2:
            raise UserError(
                f"{validation.path}: column {column}: a single class ({_preview(present)}); "
                "the validation set needs at least two to score a classifier"
            )

    @staticmethod
    def classes(train: Dataset) -> np.ndarray:
        """The classes in scikit-learn's order (`np.unique`, as a classifier's `classes_`)."""
        return np.unique(np.asarray(train.target))

    def fit_target(self, train: Dataset) -> pd.Series:
        """The labels as codes 0..k-1 in class order.

        Every classifier then sees the same labels (XGBoost accepts nothing else), its
        probability columns come in class order, and the class names travel in the model's
        record (`describe`) instead of inside each library's own estimator.
        """
        codes = np.searchsorted(self.classes(train), np.asarray(train.target))
        return pd.Series(codes, index=train.target.index, name=train.target.name)

    def describe(self, train: Dataset, threshold: float) -> dict[str, Any]:
        return {"task": self.name, "classes": self.classes(train).tolist()}

    def outputs(self, pipeline: Any, features: pd.DataFrame) -> np.ndarray:
        return np.asarray(pipeline.predict_proba(features), dtype=np.float64)

    def train_score(self, pipeline: Any, data: Dataset) -> float:
        from sklearn.metrics import log_loss

        matrix = self.outputs(pipeline, data.features)
        labels = list(range(matrix.shape[1]))
        return float(log_loss(self.fit_target(data), matrix, labels=labels))

    @staticmethod
    def probabilities(outputs: np.ndarray, classes: list[Any]) -> np.ndarray:
        """The model's outputs as an (n, classes) matrix; ValueError when the shapes differ."""
        matrix = np.asarray(outputs, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(classes):
            raise ValueError(
                f"the model returned outputs of shape {matrix.shape}, "
                f"not one probability per class ({len(classes)})"
            )
        return matrix

    def predicted_codes(self, matrix: np.ndarray, description: dict[str, Any]) -> np.ndarray:
        """Each row's label as a class position: the most probable class."""
        return np.asarray(matrix.argmax(axis=1))

    def as_outputs(self, raw: Any, description: dict[str, Any]) -> np.ndarray:
        return self.probabilities(np.asarray(raw, dtype=np.float64), description["classes"])

    def check_served(
        self, served: np.ndarray, expected: np.ndarray, description: dict[str, Any]
    ) -> str | None:
        """Probabilities in [0, 1] whose rows sum to 1, equal to in-process `predict_proba`,
        so the label derived from them (argmax, or the threshold) is the in-process one."""
        if served.size and not ((served >= 0) & (served <= 1)).all():
            return "a probability outside [0, 1]"
        sums = np.abs(served.sum(axis=1) - 1) if served.size else np.zeros(0)
        if sums.size and not sums.max() <= SERVED_TOLERANCE:
            return f"a row's probabilities sum to 1 \u00b1 {sums.max():.3g}"
        problem = super().check_served(served, expected, description)
        if problem is not None:
            return problem
        mine = self.predicted_codes(served, description)
        theirs = self.predicted_codes(expected, description)
        if not np.array_equal(mine, theirs):
            return "labels differ from in-process ones"
        return None

    def no_outputs(self, description: dict[str, Any]) -> np.ndarray:
        return np.zeros((0, len(description["classes"])), dtype=np.float64)

    def output_columns(self, outputs: np.ndarray, description: dict[str, Any]) -> dict[str, Any]:
        """The label (the model's own rule: argmax, or the threshold) and one probability per
        class, named `probability_<class>`."""
        classes = description["classes"]
        matrix = self.probabilities(outputs, classes)
        labels = np.asarray(classes)[self.predicted_codes(matrix, description)]
        columns: dict[str, Any] = {"label": labels}
        for i, name in enumerate(classes):
            columns[f"probability_{name}"] = matrix[:, i]
        return columns

    def score_columns(self, classes: list[Any]) -> list[int]:
        """Which classes' probabilities monitoring watches for drift."""
        return list(range(min(len(classes), MAX_MONITORED_SCORES)))

    def monitored(
        self, outputs: np.ndarray, description: dict[str, Any]
    ) -> list[tuple[str, str, np.ndarray]]:
        """The predicted class's shares (chi-square), and each watched class's probability
        (PSI and KS), so both a shifted prior and a shifted confidence show."""
        classes = description["classes"]
        matrix = self.probabilities(outputs, classes)
        names = np.asarray([str(c) for c in classes], dtype=object)
        watched: list[tuple[str, str, np.ndarray]] = [
            ("predicted class", "categorical", names[self.predicted_codes(matrix, description)])
        ]
        for i in self.score_columns(classes):
            watched.append((f"probability of {names[i]}", "numeric", matrix[:, i]))
        return watched

    def labelled(self, target: pd.Series, description: dict[str, Any]) -> np.ndarray:
        """Rows whose label is one of the model's classes (others cannot be scored)."""
        known = pd.Series(description["classes"], dtype=object)
        return np.asarray(target.astype(object).isin(known) & target.notna())

    def curves(self, truth: np.ndarray, matrix: np.ndarray) -> dict[str, Any]:
        """Curves the comment draws; a task with none returns nothing."""
        return {}

    def breakdown(
        self, target: pd.Series, outputs: np.ndarray, description: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The confusion matrix (rows: true class, columns: predicted), each class's support,
        precision, recall and F1, and the task's curves, by the model's own classes and
        threshold, so a champion's breakdown is its own."""
        from sklearn import metrics as sk

        classes = description["classes"]
        if len(classes) > MAX_CLASSES_SHOWN:
            return None
        matrix = self.probabilities(outputs, classes)
        truth = np.searchsorted(np.asarray(classes), np.asarray(target))
        predicted = self.predicted_codes(matrix, description)
        positions = list(range(len(classes)))
        confusion = sk.confusion_matrix(truth, predicted, labels=positions)
        precision, recall, f1, support = sk.precision_recall_fscore_support(
            truth, predicted, labels=positions, zero_division=0
        )
        return {
            "classes": [str(c) for c in classes],
            "confusion": confusion.astype(int).tolist(),
            "per_class": [
                {
                    "label": str(label),
                    "support": int(support[i]),
                    "precision": float(precision[i]),
                    "recall": float(recall[i]),
                    "f1": float(f1[i]),
                }
                for i, label in enumerate(classes)
            ],
            **self.curves(truth, matrix),
        }
