"""Any scikit-learn regressor or classifier from configuration, inside the plug-in's pipeline.

The estimator is named by import path (`sklearn.ensemble.HistGradientBoostingRegressor`,
`lightgbm.LGBMClassifier`), and must make the predictions the plug-in's task asks for, so
no list of supported models exists to fall behind. What the model saver must trust, and which
code ships with the model, are read off the fitted pipeline itself, so a new estimator never
fails at logging time.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.config import ModelConfig
from mlgate.contract import ESTIMATOR_STEP, ModelPlugin
from mlgate.errors import UserError
from mlgate.train.libraries import LIBRARY_TYPES

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

# Libraries whose types skops may load: the model's own numerical stack.
TRUSTED_ROOTS = frozenset({"sklearn", "numpy", "scipy", "builtins"})
STEP_SEPARATOR = "__"


def estimator_class(path: str, task: str = "regression") -> type:
    """The estimator class named by `path`, of the kind `task` needs; else a one-line error."""
    from mlgate import tasks

    where = f"[tool.mlgate] model.estimator {path!r}"
    module_name, _, name = path.rpartition(".")
    if not module_name:
        raise UserError(f"{where}: expected an import path such as sklearn.linear_model.Lasso")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"{where}: cannot import {module_name} ({exc})") from None
    cls = getattr(module, name, None)
    if not inspect.isclass(cls):
        raise UserError(f"{where}: {module_name} has no class {name}")
    try:
        instance = cls()
    except TypeError as exc:
        raise UserError(f"{where}: cannot be built without arguments ({exc})") from None
    tasks.adapter(task).check_estimator(instance, where)
    return cls


def build(plugin: ModelPlugin, config: ModelConfig) -> Pipeline:
    """The plug-in's pipeline around the configured estimator, with the hyperparameters set.

    `name` goes to the estimator; `step__name` to that step of the pipeline.
    """
    pipeline = plugin.build_pipeline(estimator_class(config.estimator, plugin.task)())
    valid = pipeline.get_params(deep=True)
    resolved: dict[str, Any] = {}
    for name, value in config.params.items():
        key = name if STEP_SEPARATOR in name else f"{ESTIMATOR_STEP}{STEP_SEPARATOR}{name}"
        if key not in valid or key.count(STEP_SEPARATOR) != 1:
            step, _, short = key.partition(STEP_SEPARATOR)
            owner = pipeline.named_steps.get(step)
            known = sorted(owner.get_params(deep=False)) if owner is not None else []
            hint = (
                f"valid: {', '.join(known)}"
                if known
                else f"steps: {', '.join(pipeline.named_steps)}"
            )
            who = type(owner).__name__ if owner is not None else "the pipeline"
            raise UserError(f"model.params.{name}: {who} has no parameter {short!r} ({hint})")
        resolved[key] = value
    pipeline.set_params(**resolved)
    _validate(pipeline, {key: name for name, key in zip(config.params, resolved, strict=True)})
    return pipeline


def _validate(pipeline: Pipeline, names: dict[str, str]) -> None:
    """Check every step's declared parameter ranges now, before data is loaded or MLflow touched.

    A value out of range would otherwise fail late, or (an id range sizing an array) try to
    allocate hundreds of GiB. Steps that declare no constraints are checked when they fit.
    """
    for step, obj in pipeline.steps:
        if not getattr(obj, "_parameter_constraints", None):
            continue
        try:
            obj._validate_params()
        except (TypeError, ValueError) as exc:
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            found = re.search(r"The '(\w+)' parameter", text)
            key = f"{step}{STEP_SEPARATOR}{found.group(1)}" if found else step
            name = names.get(key, key.removeprefix(f"{ESTIMATOR_STEP}{STEP_SEPARATOR}"))
            raise UserError(f"model.params.{name}: {text}") from None


def logged_params(pipeline: Pipeline) -> dict[str, Any]:
    """The hyperparameters actually used (defaults included), in their configuration names."""
    params: dict[str, Any] = {}
    for step, obj in pipeline.steps:
        if step == ESTIMATOR_STEP:
            params.update(obj.get_params(deep=False))
        elif hasattr(obj, "get_params"):
            params.update(
                {f"{step}{STEP_SEPARATOR}{k}": v for k, v in obj.get_params(deep=False).items()}
            )
    return params


def trusted_types(pipeline: Pipeline, plugin: ModelPlugin) -> list[str]:
    """Every type the fitted pipeline needs skops to load, checked against what we vouch for."""
    import skops.io as sio

    needed = sio.get_untrusted_types(data=sio.dumps(pipeline))
    vouched = set(plugin.trusted_types())
    vouched |= LIBRARY_TYPES
    unknown = [t for t in needed if t.split(".")[0] not in TRUSTED_ROOTS and t not in vouched]
    if unknown:
        raise UserError(
            f"[tool.mlgate] model.plugin: the pipeline holds {', '.join(unknown)}, which "
            "neither scikit-learn nor the plug-in's trusted_types() vouches for"
        )
    return needed


def code_paths(trusted: list[str]) -> list[str]:
    """The packages that define the pipeline's own (non-library) types, shipped with the model."""
    roots = sorted({t.split(".")[0] for t in trusted if t not in LIBRARY_TYPES} - TRUSTED_ROOTS)
    paths = []
    for root in roots:
        origin = Path(importlib.import_module(root).__file__ or "")
        paths.append(str(origin.parent if origin.name == "__init__.py" else origin))
    return paths
