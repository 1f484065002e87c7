"""The project's one configuration place: `[tool.trip-duration]` in pyproject.toml.

Every setting is typed and validated here, and unknown keys are errors, so a typo in a gate
bound fails loudly instead of silently promoting a model under the default policy.
"""

from __future__ import annotations

import json
import tomllib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from trip_duration.errors import UserError
from trip_duration.report.document import GREATER_IS_BETTER

if TYPE_CHECKING:
    from trip_duration.contract import ModelPlugin

TABLE = "tool.trip-duration"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(_Section):
    """The training and validation files (relative to the configuration file)."""

    train: Path | None = None
    validation: Path | None = None


class ModelConfig(_Section):
    """Which plug-in, which scikit-learn regressor (by import path) and its hyperparameters.

    `params` names go to the estimator; `step__name` reaches a step of the plug-in's pipeline.
    `options` are the plug-in's own settings, validated by the plug-in.
    """

    plugin: str | None = None
    estimator: str = "sklearn.linear_model.Lasso"
    params: dict[str, str | int | float | bool | None] = {}
    options: dict[str, Any] = {}


class Bound(_Section):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_side(self) -> Bound:
        if (self.min is None) == (self.max is None):
            raise ValueError("give exactly one of min or max")
        return self


class GateConfig(_Section):
    """Promotion policy: the primary metric against the champion, plus absolute bounds.

    `relative_tolerance` is how much worse than the champion (as a fraction of the champion's
    score) a candidate may be and still pass; 0 means "no worse". The first model ever is
    judged by `bounds` alone.
    """

    metric: str = "root_mean_squared_error"
    relative_tolerance: float = Field(default=0.0, ge=0.0, lt=1.0)
    bounds: dict[str, Bound] = {"root_mean_squared_error": Bound(max=12.0)}

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in GREATER_IS_BETTER:
            raise ValueError(f"unknown metric {value!r}; known: {', '.join(GREATER_IS_BETTER)}")
        return value

    @field_validator("bounds")
    @classmethod
    def _direction_matches(cls, bounds: dict[str, Bound]) -> dict[str, Bound]:
        for name, bound in bounds.items():
            if name not in GREATER_IS_BETTER:
                raise ValueError(f"unknown metric {name!r} in bounds")
            if GREATER_IS_BETTER[name] and bound.max is not None:
                raise ValueError(f"{name} is better when higher: bound it with min, not max")
            if not GREATER_IS_BETTER[name] and bound.min is not None:
                raise ValueError(f"{name} is better when lower: bound it with max, not min")
        return bounds

    @property
    def greater_is_better(self) -> bool:
        return GREATER_IS_BETTER[self.metric]


class TrackingConfig(_Section):
    """Names in the MLflow server; the server itself comes from MLFLOW_TRACKING_URI.

    `registered_model` receives the candidates that pull requests register. `production_model`,
    when set, is a second registered model that only the promotion credential can write:
    promotion copies the reviewed candidate version into it and moves `champion_alias` there.
    Unset, candidates and champion share `registered_model` (one credential, e.g. a laptop).
    """

    experiment: str = "trip-duration"
    registered_model: str = "trip-duration"
    production_model: str | None = None
    champion_alias: str = "champion"
    ui_url: str | None = None
    connect_retries: int = Field(default=3, ge=0, le=10)

    @model_validator(mode="after")
    def _distinct(self) -> TrackingConfig:
        if self.production_model == self.registered_model:
            raise ValueError("production_model must differ from registered_model (or be unset)")
        return self

    @property
    def production(self) -> str:
        """The registered model that holds the champion alias."""
        return self.production_model or self.registered_model

    @property
    def separate(self) -> bool:
        return self.production_model is not None


class ReportConfig(_Section):
    directory: Path = Path("reports")
    latency_batch: int = Field(default=1000, gt=0)
    latency_repeats: int = Field(default=20, gt=1)
    history: int = Field(default=8, ge=0)
    comment_author: str | None = "github-actions[bot]"


class Settings(_Section):
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    gate: GateConfig = GateConfig()
    tracking: TrackingConfig = TrackingConfig()
    report: ReportConfig = ReportConfig()
    root: Path = Path(".")

    def path(self, value: Path) -> Path:
        """Resolve a configured path against the configuration file's folder."""
        return value if value.is_absolute() else self.root / value

    def data_path(self, role: Literal["train", "validation"], given: Path | None = None) -> Path:
        """The file for `role`: the command line's, else the configured one."""
        if given is not None:
            return given
        configured = getattr(self.data, role)
        if configured is None:
            flag = "--train-data" if role == "train" else "--val-data"
            raise UserError(f"[{TABLE}] data.{role} is not set (nor given with {flag})")
        return self.path(configured)

    def plugin(self) -> ModelPlugin:
        """The configured model plug-in, loaded once per process."""
        if self.model.plugin is None:
            raise UserError(
                f"[{TABLE}] model.plugin is not set (e.g. 'green_taxi.plugin:GreenTaxi')"
            )
        return _plugin(self.model.plugin, json.dumps(self.model.options, sort_keys=True))


@cache
def _plugin(reference: str, options: str) -> ModelPlugin:
    from trip_duration.contract import load_plugin

    return load_plugin(reference, json.loads(options))


def _table(document: dict[str, Any], source: Path) -> dict[str, Any]:
    if source.name != "pyproject.toml":
        return document
    return document.get("tool", {}).get("trip-duration", {})


def load_settings(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read the configuration; `path` is a pyproject.toml (its tool table) or a plain TOML file.

    Without a path, the nearest pyproject.toml upwards from the working directory is used, and
    a project without one gets the defaults.
    """
    source = path or _find_pyproject(Path.cwd())
    raw: dict[str, Any] = {}
    root = Path.cwd()
    if source is not None:
        try:
            raw = _table(tomllib.loads(source.read_text(encoding="utf-8")), source)
        except FileNotFoundError:
            raise UserError(f"{source}: configuration file not found") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UserError(f"{source}: cannot read configuration ({exc})") from None
        root = source.resolve().parent
    merged = _merge(raw, overrides or {})
    if "root" in merged:
        raise UserError(f"{source}: [{TABLE}] root: unknown setting")
    try:
        return Settings.model_validate({**merged, "root": root})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        label = f"[{TABLE}]" if source is None or source.name == "pyproject.toml" else "config"
        origin = source if source is not None else "defaults"
        raise UserError(f"{origin}: {label} {where}: {first['msg']}") from None


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def parse_param(text: str) -> tuple[str, str | int | float | bool | None]:
    """`alpha=0.5` → ("alpha", 0.5): values are read as TOML scalars, else kept as strings."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"--param {text!r}: expected NAME=VALUE, e.g. alpha=0.5")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    if isinstance(parsed, dict | list):
        raise UserError(f"--param {text!r}: only scalar values are supported")
    if value.strip().lower() in {"none", "null"}:
        parsed = None
    return key.strip(), parsed
