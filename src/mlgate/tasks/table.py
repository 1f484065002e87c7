"""The one metrics table: every metric any task computes, how a person reads it, and which way
is better.

The gate, the configuration's gate validators, the report and tuning all read this table, so a
metric cannot be computed under one name and judged under another. Names are stable: they are
the keys logged to MLflow and stored in reports.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One logged metric."""

    name: str  # the MLflow metric key
    label: str  # how the report names it
    greater_is_better: bool
    carries_unit: bool = False  # shown with the target's unit ("RMSE (kg)")

    @property
    def direction(self) -> str:
        return "higher is better" if self.greater_is_better else "lower is better"


_ALL = (
    # regression (MLflow's regressor keys)
    Metric("root_mean_squared_error", "RMSE", False, carries_unit=True),
    Metric("mean_absolute_error", "MAE", False, carries_unit=True),
    Metric("r2_score", "R²", True),
    Metric("max_error", "Max error", False, carries_unit=True),
    Metric("train_root_mean_squared_error", "Train RMSE", False, carries_unit=True),
    # classification, scored on probabilities
    Metric("roc_auc", "ROC AUC", True),
    Metric("average_precision", "Average precision", True),
    Metric("log_loss", "Log loss", False),
    Metric("brier_score", "Brier score", False),
    Metric("train_log_loss", "Train log loss", False),
    # classification, scored on labels (binary: at the decision threshold)
    Metric("f1_score", "F1", True),
    Metric("precision_score", "Precision", True),
    Metric("recall_score", "Recall", True),
    Metric("accuracy_score", "Accuracy", True),
    Metric("balanced_accuracy_score", "Balanced accuracy", True),
    Metric("f1_macro", "Macro F1", True),
    Metric("f1_weighted", "Weighted F1", True),
)

METRICS: dict[str, Metric] = {metric.name: metric for metric in _ALL}
