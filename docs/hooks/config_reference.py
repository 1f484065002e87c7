"""Generates the configuration reference page from the pydantic settings at build time.

The page is never committed: `mkdocs build` renders it from `mlgate.config.Settings`, so a
setting added, renamed or re-defaulted in code is documented by the next build.
"""

from __future__ import annotations

import inspect
import types
import typing
from pathlib import Path
from typing import Any

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from mlgate import config

PAGE = "configuration.md"

INTRO = """# Configuration reference

All settings live in one table, `[tool.mlgate]` in `pyproject.toml`, validated by
`src/mlgate/config/` before a command does any work. **Unknown keys are errors**, as are
values of the wrong type or outside their range: the command exits 1 with one line naming the
file and the setting, e.g. `pyproject.toml: [tool.mlgate] gate.relative_tolerance: Input
should be less than 1`. Paths are relative to the file the table is in. A command's
`--config FILE` reads another `pyproject.toml` (its `[tool.mlgate]` table) or a plain TOML
file (the same keys at its top level).

This page is generated from the code when the documentation is built, so it cannot go stale.

What the sections hold: data paths; the model plug-in, the estimator by import path (a
scikit-learn, LightGBM or XGBoost estimator of the plug-in's task, e.g.
`sklearn.ensemble.HistGradientBoostingRegressor`), its
hyperparameters and the plug-in's own options (validated by the plug-in's `Options`, where
unknown keys are errors too); the gate; MLflow names; report, promotion, monitoring, tuning
and serving options.

The **gate** uses MLflow's own validation (`MetricThreshold`, `validate_evaluation_results`):
the candidate may be at most `relative_tolerance` worse than the champion on the primary
`metric` (0 = no worse), and must stay within the absolute `bounds`; the first model ever is
judged by the bounds alone. Only metrics that evaluation computes are accepted (RMSE, MAE, R²,
max error, train RMSE), and a bound must point the metric's way (`max` for an error, `min` for
R²). Promotion re-checks the gate against the champion of the moment.

Settings that are not in the file come from the environment: see
[Commands](commands.md#environment).
"""

CONSTRAINTS = {
    Ge: ("ge", "≥ {}"),
    Gt: ("gt", "> {}"),
    Le: ("le", "≤ {}"),
    Lt: ("lt", "< {}"),
    MinLen: ("min_length", "at least {} long"),
    MaxLen: ("max_length", "at most {} long"),
}


def type_name(annotation: Any) -> str:
    """A reader's name for a field's type: `path`, `"a" | "b"`, `table of Bound`."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(f'`"{a}"`' if isinstance(a, str) else f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(type_name(a) for a in args)
    if origin is dict:
        return f"table of {type_name(args[1])}"
    if origin is list:
        return f"list of {type_name(args[0])}"
    if annotation is type(None):
        return "unset"
    if annotation is Any:
        return "any"
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    if annotation is Path:
        return "path"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def default_text(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.default if field.default is not PydanticUndefined else field.default_factory()
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str | Path):
        return f'`"{value}"`'
    if value in ({}, []):
        return "empty"
    if isinstance(value, list):
        return ", ".join(f'`"{v}"`' for v in value)
    return f"`{value:_}`".replace("_", ",") if isinstance(value, int) else f"`{value}`"


def constraints(field: Any) -> str:
    found = [
        template.format(getattr(item, attribute))
        for item in field.metadata
        for kind, (attribute, template) in CONSTRAINTS.items()
        if isinstance(item, kind)
    ]
    return ", ".join(found)


def models_of(annotation: Any) -> list[type[BaseModel]]:
    """The settings classes a field's type refers to, in order."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in models_of(arg)]


def section(model: type[BaseModel], title: str) -> list[str]:
    lines = [f"## {title}", ""]
    doc = inspect.getdoc(model)
    if doc and model.__module__.startswith("mlgate.") and model.__doc__ is not None:
        lines += [doc, ""]
    lines += ["| Key | Type | Default | Constraints |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        described = f" {field.description}" if field.description else ""
        lines.append(
            f"| `{name}`{described} | {type_name(field.annotation)} | {default_text(field)} "
            f"| {constraints(field)} |"
        )
    return [*lines, ""]


def render() -> str:
    """The whole page: one section per `[tool.mlgate.<section>]`, then the nested tables."""
    out = [INTRO]
    nested: list[type[BaseModel]] = []
    for name, field in config.Settings.model_fields.items():
        if name == "root":  # set by the loader from the file's folder; a key of that name fails
            continue
        (model,) = models_of(field.annotation)
        out += section(model, f"`[tool.mlgate.{name}]`")
        for inner_field in model.model_fields.values():
            nested += [m for m in models_of(inner_field.annotation) if m not in nested]
    for model in nested:
        out += section(model, model.__name__)
    return "\n".join(out)


def on_files(files: Any, config: Any) -> Any:
    """MkDocs hook: add the generated page to the site's files."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=render()))
    return files
