"""Tasks: what kind of prediction a plug-in makes, behind one contract.

A plug-in declares `task` (`regression`, `binary` or `multiclass`); the lifecycle asks that
task's adapter everything that depends on it (which estimators fit, which metrics exist and
how they are computed, what the logged model returns) instead of branching on the name, the
way MLflow's flavours sit behind pyfunc. Importing this package is cheap: the adapters load
scikit-learn only when they compute something.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_args

from mlgate.contract import TaskName
from mlgate.errors import UserError
from mlgate.tasks.base import METADATA_KEY, recorded_task
from mlgate.tasks.table import METRICS, Metric

if TYPE_CHECKING:
    from mlgate.contract import ModelPlugin
    from mlgate.tasks.base import Task

TASK_NAMES: tuple[str, ...] = get_args(TaskName)

__all__ = [
    "METADATA_KEY",
    "METRICS",
    "TASK_NAMES",
    "Metric",
    "adapter",
    "for_plugin",
    "of_model",
]


def adapter(name: str) -> Task:
    """The adapter for a task name; an unknown name is a one-line error."""
    if name == "regression":
        from mlgate.tasks.regression import Regression

        return Regression()
    if name == "binary":
        from mlgate.tasks.binary import Binary

        return Binary()
    if name == "multiclass":
        from mlgate.tasks.multiclass import Multiclass

        return Multiclass()
    raise UserError(f"unknown task {name!r}; known: {', '.join(TASK_NAMES)}")


def for_plugin(plugin: ModelPlugin) -> Task:
    """The adapter for the task the plug-in declares."""
    return adapter(getattr(plugin, "task", "regression"))


def of_model(metadata: dict[str, Any] | None) -> tuple[Task, dict[str, Any]]:
    """The task a logged model records in its MLmodel metadata, and that record."""
    record = recorded_task(metadata)
    if not isinstance(record, dict) or not isinstance(record.get("task"), str):
        raise UserError(f"the model's MLmodel metadata {METADATA_KEY!r} is not a task record")
    task = adapter(record["task"])
    return task, task.check_record(record)
