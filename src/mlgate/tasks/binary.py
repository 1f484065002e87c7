"""Binary classification: two classes, a probability for the positive one, and a threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from mlgate.tasks.classification import Classification

if TYPE_CHECKING:
    import pandas as pd

    from mlgate.contract import Dataset

DEFAULT_THRESHOLD = 0.5
CURVE_GRID = np.linspace(0.0, 1.0, 21)
"""Where the comment's ROC and precision-recall curves are read off (false-positive rate and
recall), so candidate and champion share one axis."""


class Binary(Classification):
    name: ClassVar[str] = "binary"
    min_classes: ClassVar[int] = 2
    max_classes: ClassVar[int | None] = 2
    metric_names: ClassVar[tuple[str, ...]] = (
        "roc_auc",
        "average_precision",
        "log_loss",
        "brier_score",
        "f1_score",
        "precision_score",
        "recall_score",
        "accuracy_score",
    )

    def check_threshold(self, threshold: float, configured: bool) -> None:
        return None

    def params(self, threshold: float) -> dict[str, Any]:
        return {"decision_threshold": threshold}

    def describe(self, train: Dataset, threshold: float) -> dict[str, Any]:
        return {**super().describe(train, threshold), "decision_threshold": threshold}

    def score(
        self, target: pd.Series, outputs: np.ndarray, description: dict[str, Any]
    ) -> dict[str, float]:
        """Ranking and calibration on the positive class's probability; the label metrics at
        the model's recorded decision threshold (a probability at or above it is positive)."""
        from sklearn import metrics as sk

        classes = description["classes"]
        threshold = float(description.get("decision_threshold", DEFAULT_THRESHOLD))
        matrix = self.probabilities(outputs, classes)
        positive = matrix[:, 1]
        truth = np.asarray(target) == classes[1]
        predicted = positive >= threshold
        return {
            "roc_auc": float(sk.roc_auc_score(truth, positive)),
            "average_precision": float(sk.average_precision_score(truth, positive)),
            "log_loss": float(sk.log_loss(truth, positive, labels=[False, True])),
            "brier_score": float(sk.brier_score_loss(truth, positive)),
            "f1_score": float(sk.f1_score(truth, predicted, zero_division=0)),
            "precision_score": float(sk.precision_score(truth, predicted, zero_division=0)),
            "recall_score": float(sk.recall_score(truth, predicted, zero_division=0)),
            "accuracy_score": float(sk.accuracy_score(truth, predicted)),
        }

    def score_columns(self, classes: list[Any]) -> list[int]:
        """The positive class's probability alone: the other is its complement."""
        return [1]

    def predicted_codes(self, matrix: np.ndarray, description: dict[str, Any]) -> np.ndarray:
        """Positive (1) when the positive class's probability reaches the model's threshold."""
        threshold = float(description.get("decision_threshold", DEFAULT_THRESHOLD))
        return (matrix[:, 1] >= threshold).astype(int)

    def curves(self, truth: np.ndarray, matrix: np.ndarray) -> dict[str, Any]:
        """The true-positive rate at each false-positive rate of the grid, and the
        interpolated precision (the best at this recall or more) at each recall of it."""
        from sklearn import metrics as sk

        positive = matrix[:, 1]
        fpr, tpr, _ = sk.roc_curve(truth, positive)
        precision, recall, _ = sk.precision_recall_curve(truth, positive)
        best = [float(precision[recall >= r].max()) for r in CURVE_GRID]
        return {
            "roc": {"x": CURVE_GRID.tolist(), "y": np.interp(CURVE_GRID, fpr, tpr).tolist()},
            "pr": {"x": CURVE_GRID.tolist(), "y": best},
        }
