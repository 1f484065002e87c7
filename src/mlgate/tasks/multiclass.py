"""Multiclass classification: one probability per class; the label is the most probable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from mlgate.tasks.classification import Classification

if TYPE_CHECKING:
    import pandas as pd


class Multiclass(Classification):
    name: ClassVar[str] = "multiclass"
    min_classes: ClassVar[int] = 3
    max_classes: ClassVar[int | None] = None
    metric_names: ClassVar[tuple[str, ...]] = (
        "accuracy_score",
        "balanced_accuracy_score",
        "f1_macro",
        "f1_weighted",
        "log_loss",
    )

    def score(
        self, target: pd.Series, outputs: np.ndarray, description: dict[str, Any]
    ) -> dict[str, float]:
        from sklearn import metrics as sk

        classes = description["classes"]
        matrix = self.probabilities(outputs, classes)
        truth = np.asarray(target)
        predicted = np.asarray(classes)[matrix.argmax(axis=1)]
        return {
            "accuracy_score": float(sk.accuracy_score(truth, predicted)),
            "balanced_accuracy_score": float(sk.balanced_accuracy_score(truth, predicted)),
            "f1_macro": float(
                sk.f1_score(truth, predicted, labels=classes, average="macro", zero_division=0)
            ),
            "f1_weighted": float(
                sk.f1_score(truth, predicted, labels=classes, average="weighted", zero_division=0)
            ),
            "log_loss": float(sk.log_loss(truth, matrix, labels=classes)),
        }
