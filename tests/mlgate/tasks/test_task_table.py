"""The one metrics table: every task's metrics are in it, and each direction agrees with
scikit-learn's own scorer for that metric (a negated scorer means lower is better)."""

from __future__ import annotations

import pytest
from sklearn.metrics import get_scorer

from mlgate import tasks
from mlgate.config import GateConfig
from mlgate.report.document import GREATER_IS_BETTER, metric_label

# Each metric's scikit-learn scorer; the train losses read like their validation twins.
SCORERS = {
    "root_mean_squared_error": "neg_root_mean_squared_error",
    "train_root_mean_squared_error": "neg_root_mean_squared_error",
    "mean_absolute_error": "neg_mean_absolute_error",
    "r2_score": "r2",
    "max_error": "neg_max_error",
    "roc_auc": "roc_auc",
    "average_precision": "average_precision",
    "log_loss": "neg_log_loss",
    "train_log_loss": "neg_log_loss",
    "brier_score": "neg_brier_score",
    "f1_score": "f1",
    "precision_score": "precision",
    "recall_score": "recall",
    "accuracy_score": "accuracy",
    "balanced_accuracy_score": "balanced_accuracy",
    "f1_macro": "f1_macro",
    "f1_weighted": "f1_weighted",
}
EXPECTED = {
    "regression": {
        "root_mean_squared_error",
        "mean_absolute_error",
        "r2_score",
        "max_error",
        "train_root_mean_squared_error",
    },
    "binary": {
        "roc_auc",
        "average_precision",
        "log_loss",
        "brier_score",
        "f1_score",
        "precision_score",
        "recall_score",
        "accuracy_score",
        "train_log_loss",
    },
    "multiclass": {
        "accuracy_score",
        "balanced_accuracy_score",
        "f1_macro",
        "f1_weighted",
        "log_loss",
        "train_log_loss",
    },
}
EVERY = sorted(tasks.METRICS)


@pytest.mark.parametrize("task", tasks.TASK_NAMES)
def test_each_task_logs_the_metrics_the_issue_names(task: str) -> None:
    adapter = tasks.adapter(task)
    assert {m.name for m in adapter.metrics} == EXPECTED[task]
    assert adapter.metrics[-1].name == adapter.train_metric


@pytest.mark.parametrize("name", EVERY)
def test_direction_agrees_with_scikit_learn(name: str) -> None:
    scorer = get_scorer(SCORERS[name])
    assert tasks.METRICS[name].greater_is_better is (scorer._sign > 0)
    assert GREATER_IS_BETTER[name] is tasks.METRICS[name].greater_is_better


@pytest.mark.parametrize("name", EVERY)
def test_only_metrics_in_the_targets_unit_carry_it(name: str) -> None:
    """RMSE, MAE and max error are in the target's unit; scores and probabilities are not."""
    carries = name in {
        "root_mean_squared_error",
        "train_root_mean_squared_error",
        "mean_absolute_error",
        "max_error",
    }
    assert metric_label(name, "kg").endswith(" (kg)") is carries
    assert metric_label(name) == tasks.METRICS[name].label


@pytest.mark.parametrize("name", EVERY)
def test_bounds_take_min_or_max_by_direction(name: str) -> None:
    """Any table metric may be bounded, on the side its direction implies."""
    good, bad = ("min", "max") if tasks.METRICS[name].greater_is_better else ("max", "min")
    assert GateConfig(metric=name, bounds={name: {good: 0.5}}).greater_is_better is (good == "min")
    with pytest.raises(ValueError, match=f"bound it with {good}, not {bad}"):
        GateConfig(metric=name, bounds={name: {bad: 0.5}})


def test_an_unknown_task_is_one_line() -> None:
    from mlgate.errors import UserError

    with pytest.raises(UserError, match="unknown task 'ranking'; known: regression, binary"):
        tasks.adapter("ranking")


@pytest.mark.parametrize("task", ["ranking", "", None, "Binary"])
def test_a_plugin_declaring_an_unknown_task_is_refused(
    task: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from mlgate.contract import load_plugin
    from mlgate.errors import UserError
    from support import diabetes

    broken = type("Broken", (diabetes.Diabetes,), {"task": task})
    monkeypatch.setattr(sys.modules[diabetes.__name__], "Broken", broken, raising=False)
    with pytest.raises(UserError) as error:
        load_plugin(f"{diabetes.__name__}:Broken", {})
    message = str(error.value)
    assert "\n" not in message
    assert f"Broken.task must be one of regression, binary, multiclass, got {task!r}" in message


@pytest.mark.parametrize(
    ("reference", "task"),
    [
        ("support.diabetes:Diabetes", "regression"),  # declares none: the default
        ("support.classifiers:BreastCancer", "binary"),
        ("support.classifiers:Wine", "multiclass"),
    ],
)
def test_the_adapter_is_the_one_the_plugin_declares(reference: str, task: str) -> None:
    from mlgate.contract import load_plugin

    assert tasks.for_plugin(load_plugin(reference, {})).name == task
