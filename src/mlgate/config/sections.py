"""The tables of `[tool.mlgate]` other than tuning: data, model, gate, tracking, report,
promotion, monitoring and serving. Every one is frozen and refuses unknown keys."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlgate import storage
from mlgate.config.params import check_param_value
from mlgate.errors import UserError
from mlgate.monitoring.current import CurrentDataConfig
from mlgate.report.document import GREATER_IS_BETTER


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(Section):
    """The training and validation files: paths relative to the configuration file, or
    objects in a bucket (`s3://bucket/key`, `gs://bucket/key`, `abfs://...`; see
    docs/storage.md)."""

    train: Path | str | None = None
    validation: Path | str | None = None

    @field_validator("train", "validation", mode="before")
    @classmethod
    def _path_or_uri(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            found = storage.location(value)
        except UserError as exc:
            raise ValueError(str(exc)) from None
        return str(found) if isinstance(found, storage.Uri) else found


MAX_FIT_SECONDS = 86_400.0


class ModelConfig(Section):
    """Which plug-in, which estimator (by import path; a regressor or a classifier, as the
    plug-in's task needs) and its hyperparameters.

    `params` names go to the estimator; `step__name` reaches a step of the plug-in's pipeline.
    `options` are the plug-in's own settings, validated by the plug-in. `max_fit_seconds` is
    the time budget of one fit: a fit that never converges ends the run FAILED instead of
    holding a CI runner until its own timeout.
    """

    plugin: str | None = None
    estimator: str = "sklearn.linear_model.Lasso"
    params: dict[str, str | int | float | bool | None] = {}
    options: dict[str, Any] = {}
    # A binary plug-in's label: positive when its probability is at least this; logged with
    # the model, so every consumer applies the same one.
    decision_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    max_fit_seconds: float = Field(default=3600.0, gt=0, le=MAX_FIT_SECONDS, allow_inf_nan=False)

    @field_validator("params")
    @classmethod
    def _sane_numbers(cls, params: dict[str, Any]) -> dict[str, Any]:
        for name, value in params.items():
            check_param_value(name, value)
        return params


class Bound(Section):
    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_side(self) -> Bound:
        if (self.min is None) == (self.max is None):
            raise ValueError("give exactly one of min or max")
        return self


class GateConfig(Section):
    """Promotion policy: the primary metric against the champion, plus absolute bounds.

    `relative_tolerance` is how much worse than the champion (as a fraction of the champion's
    score) a candidate may be and still pass; 0 means "no worse". The first model ever is
    judged by `bounds` alone. Any metric of the table (mlgate.tasks.table) is accepted here;
    whether it is one of the plug-in's task is checked once the plug-in is loaded.
    """

    metric: str = "root_mean_squared_error"
    relative_tolerance: float = Field(default=0.0, ge=0.0, lt=1.0)
    bounds: dict[str, Bound] = {}

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


class TrackingConfig(Section):
    """Names in the MLflow server; the server itself comes from MLFLOW_TRACKING_URI.

    `registered_model` receives the candidates that pull requests register. `production_model`,
    when set, is a second registered model that only the promotion credential can write:
    promotion copies the reviewed candidate version into it and moves `champion_alias` there.
    Unset, candidates and champion share `registered_model` (one credential, e.g. a laptop).
    `experiment` and `registered_model` default to the plug-in's `name`.
    Names must not collide: `production_model` differs from the candidates' model, the
    candidates' model is not `<production>.promotion-lock`, and `monitoring.experiment` differs
    from the training experiment; every command that uses them fails in one line first.
    """

    experiment: str | None = Field(default=None, min_length=1)
    registered_model: str | None = Field(default=None, min_length=1)
    production_model: str | None = Field(default=None, min_length=1)
    champion_alias: str = Field(default="champion", min_length=1, max_length=255)
    ui_url: str | None = None
    connect_retries: int = Field(default=3, ge=0, le=10)

    @field_validator("champion_alias")
    @classmethod
    def _not_reserved(cls, alias: str) -> str:
        # MLflow reserves these: `models:/name@latest` and `@v3` mean something else already.
        if alias.lower() == "latest" or re.fullmatch(r"[vV]\d+", alias):
            raise ValueError(
                f"{alias!r} is reserved by MLflow (latest and v<number> name versions); "
                "choose another alias"
            )
        return alias

    @model_validator(mode="after")
    def _distinct(self) -> TrackingConfig:
        if self.production_model is not None and self.production_model == self.registered_model:
            raise ValueError("production_model must differ from registered_model (or be unset)")
        return self

    @property
    def separate(self) -> bool:
        return self.production_model is not None


MAX_LATENCY_BATCH = 100_000
MAX_LATENCY_REPEATS = 1_000
"""Latency is a median over small batches: more rows or repeats only cost memory and time."""


class ReportConfig(Section):
    directory: Path = Path("reports")
    latency_batch: int = Field(default=1000, gt=0, le=MAX_LATENCY_BATCH)
    latency_repeats: int = Field(default=20, gt=1, le=MAX_LATENCY_REPEATS)
    history: int = Field(default=8, ge=0)
    comment_author: str | None = "github-actions[bot]"
    # A team's own comment template (Jinja2; see CONTRIBUTING "Add a section to the comment"),
    # and how long each of its blocks survives the comment size limit (100: never dropped).
    template: Path | None = None
    keep: dict[str, int] = {}

    @field_validator("keep")
    @classmethod
    def _keep_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        for name, rank in value.items():
            if not 0 <= rank <= 100:
                raise ValueError(f"keep.{name} must be between 0 and 100, got {rank}")
        return value


class PromotionConfig(Section):
    """What counts as a model input: a merged PR that registered no candidate (no tracking
    credentials) passes promotion only if it changed none of these paths (globs, `**` spans
    folders)."""

    model_inputs: list[str] = ["src/**", "data/**", "pyproject.toml", "uv.lock"]

    @field_validator("model_inputs")
    @classmethod
    def _non_empty(cls, patterns: list[str]) -> list[str]:
        if not patterns or any(not p.strip() for p in patterns):
            raise ValueError("give at least one non-empty glob")
        return patterns


class MonitoringConfig(Section):
    """Drift thresholds for `mlgate monitor`.

    PSI is the effect size (0.1 warns, 0.25 alerts by the usual convention). KS and chi-square
    alert only when their p-value is below `p_value` *and* their effect size (the KS statistic,
    Cramér's V) reaches its floor: with a month of rows a significance test alone flags
    differences too small to matter. Quality shares and the gate metric are compared with the
    reference and the champion's recorded validation value within the tolerances.
    """

    psi_warn: float = Field(default=0.1, gt=0)
    psi_alert: float = Field(default=0.25, gt=0)
    bins: int = Field(default=10, ge=2, le=100)
    top_k: int = Field(default=20, ge=1, le=1000)
    p_value: float = Field(default=0.01, gt=0, lt=1)
    ks_statistic: float = Field(default=0.08, gt=0, le=1)
    cramers_v: float = Field(default=0.12, gt=0, le=1)
    quality_tolerance: float = Field(default=0.02, ge=0, le=1)
    performance_tolerance: float = Field(default=0.2, ge=0)
    prediction_batch: int = Field(default=200_000, gt=0)
    directory: Path = Path("reports/monitoring")
    experiment: str | None = None  # default: "<tracking.experiment>-monitoring"
    issue_label: str = Field(default="model-drift", min_length=1, max_length=50)
    issue_title: str = Field(default="Model drift detected", min_length=1, max_length=200)
    current: CurrentDataConfig | None = None  # what `mlgate fetch-current` runs

    @model_validator(mode="after")
    def _warn_below_alert(self) -> MonitoringConfig:
        if self.psi_warn >= self.psi_alert:
            raise ValueError("psi_warn must be below psi_alert")
        return self


class ServingConfig(Section):
    """The serving contract: MLflow's scoring server must serve the candidate before it is
    registered (`check`), and latency through HTTP is measured with these sizes.

    `requirements` also installs the logged requirements into a clean uv environment and
    predicts there (slow; the Integration workflow turns it on with
    `train --check-requirements`).
    """

    check: bool = False
    requirements: bool = False
    latency_batch: int = Field(default=1000, gt=0, le=MAX_LATENCY_BATCH)
    latency_repeats: int = Field(default=20, ge=3, le=MAX_LATENCY_REPEATS)
    startup_timeout_s: float = Field(default=180.0, gt=0, le=1800)
    request_timeout_s: float = Field(default=60.0, gt=0, le=600)
