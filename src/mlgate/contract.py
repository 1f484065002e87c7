"""The model contract: the one interface the lifecycle calls, so a team can swap the example out.

The configuration names an implementation (`[tool.mlgate.model] plugin =
"package.module:Class"`). Everything that knows about one particular model (its files, cleaning
rules, features, target and units) lives behind it; tracking, the registry, the gate, the
report, serving, tuning and monitoring only see what this module defines.
"""

from __future__ import annotations

import importlib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from mlgate.errors import UserError

if TYPE_CHECKING:
    import pandas as pd
    from mlflow.models import ModelSignature
    from sklearn.pipeline import Pipeline

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
"""A plug-in's `name`: short, lowercase, and valid as an MLflow experiment and model name."""

TaskName = Literal["regression", "binary", "multiclass"]
"""What a plug-in predicts: one number (`regression`), one of two labels (`binary`) or one of
several (`multiclass`). Labels may be strings or integers; the classes come from training."""

ESTIMATOR_STEP = "estimator"
"""The pipeline's last step; plain hyperparameter names (`max_depth`) are addressed to it."""


@dataclass(frozen=True)
class Target:
    """What the model predicts, as reports and the CLI name it."""

    name: str  # the column in logged datasets, e.g. "duration"
    unit: str  # e.g. "kg" or "EUR"; "" when unitless
    label: str  # e.g. "Basket value"


@dataclass(frozen=True)
class WatchedFeature:
    """A raw input column that monitoring compares between reference and current data."""

    name: str
    kind: Literal["numeric", "categorical"]
    low: float | None = None  # plausible range, for the out-of-range share
    high: float | None = None


@dataclass(frozen=True)
class Dataset:
    """One loaded file: the raw columns the pipeline takes, and the target."""

    path: Path
    features: pd.DataFrame
    target: pd.Series
    rows_raw: int

    @property
    def rows(self) -> int:
        return len(self.features)

    @property
    def frame(self) -> pd.DataFrame:
        """Features and target in one table, as MLflow logs the dataset."""
        return self.features.assign(**{str(self.target.name): self.target.to_numpy()})


class NoOptions(BaseModel):
    """A plug-in without settings of its own: any key under `model.options` is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelPlugin(ABC):
    """Implement this (one class in your own package) to bring your own model.

    `Options` is the plug-in's own validated settings (`[tool.mlgate.model.options]`).
    `name` is the default for the experiment, the registered models and the tuning study, so a
    new plug-in gets names of its own without any `[tool.mlgate.tracking]` settings.
    `task` decides which estimators fit, which metrics are computed and gated on, and what the
    logged model returns; it defaults to `regression`.
    """

    name: ClassVar[str]
    task: ClassVar[TaskName] = "regression"
    title: ClassVar[str]
    target: ClassVar[Target]
    Options: ClassVar[type[BaseModel]] = NoOptions
    watched: ClassVar[tuple[WatchedFeature, ...]] = ()

    def __init__(self, options: BaseModel) -> None:
        self.options = options

    @abstractmethod
    def load(self, path: Path) -> Dataset:
        """Read and clean one file; problems raise `UserError` naming the file and column."""

    @abstractmethod
    def feature_steps(self) -> list[tuple[str, Any]]:
        """The pipeline steps before the estimator, unfitted, from raw columns to features."""

    def build_pipeline(self, estimator: Any) -> Pipeline:
        """The whole pipeline, so the logged model scores raw records."""
        from sklearn.pipeline import Pipeline

        return Pipeline([*self.feature_steps(), (ESTIMATOR_STEP, estimator)])

    def input_example(self, data: Dataset) -> pd.DataFrame:
        """A few raw records, logged with the model and used by the serving check."""
        return data.features.head(5)

    def signature(self, data: Dataset, predictions: Any) -> ModelSignature:
        """The logged signature: the column types the served model accepts (MLflow's scoring
        server rejects anything else with a 400). Override to widen a column, e.g. to take ids
        that may be null or text."""
        from mlflow.models import infer_signature

        return infer_signature(data.features.head(len(predictions)), predictions)

    def raw_features(self, table: pd.DataFrame) -> pd.DataFrame:
        """The model's input columns of a raw file's rows, every row kept and in order.

        Batch scoring (`mlgate predict`) calls this instead of `load`, which drops the
        rows training must not see; the logged model copes with whatever the rows hold.
        """
        return table

    def raw_columns(self) -> list[str] | None:
        """The columns `raw_features` needs from a file (None: all), so batch scoring reads
        only those."""
        return None

    def trusted_types(self) -> list[str]:
        """Fully qualified names of the plug-in's own classes that the model saver must load."""
        return []


def load_plugin(reference: str, options: dict[str, Any]) -> ModelPlugin:
    """The configured plug-in, instantiated with its validated options; one-line errors."""
    module_name, sep, attribute = reference.partition(":")
    where = "[tool.mlgate] model.plugin"
    if not sep or not module_name or not attribute:
        raise UserError(f"{where} {reference!r}: expected 'package.module:ClassName'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"{where} {reference!r}: cannot import {module_name} ({exc})") from None
    cls = getattr(module, attribute, None)
    if not (isinstance(cls, type) and issubclass(cls, ModelPlugin)):
        raise UserError(
            f"{where} {reference!r}: {attribute} is not a subclass of mlgate.contract.ModelPlugin"
        )
    name = getattr(cls, "name", None)
    if not (isinstance(name, str) and NAME_PATTERN.fullmatch(name)):
        raise UserError(
            f"{where} {reference!r}: {attribute}.name must be a short lowercase name "
            f"(letters, digits, '.', '_', '-'), got {name!r}"
        )
    task = getattr(cls, "task", None)
    if task not in get_args(TaskName):
        raise UserError(
            f"{where} {reference!r}: {attribute}.task must be one of "
            f"{', '.join(get_args(TaskName))}, got {task!r}"
        )
    if not isinstance(getattr(cls, "title", None), str):
        raise UserError(
            f"{where} {reference!r}: {attribute}.title must be the report's title (a string), "
            f"got {getattr(cls, 'title', None)!r}"
        )
    if not isinstance(getattr(cls, "target", None), Target):
        raise UserError(
            f"{where} {reference!r}: {attribute}.target must be a mlgate.contract.Target, "
            f"got {getattr(cls, 'target', None)!r}"
        )
    abstract = sorted(getattr(cls, "__abstractmethods__", ()))
    if abstract:
        raise UserError(
            f"{where} {reference!r}: {attribute} does not implement {', '.join(abstract)}"
        )
    try:
        parsed = cls.Options.model_validate(options)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise UserError(f"[tool.mlgate] model.options.{key}: {first['msg']}") from None
    return cls(parsed)
