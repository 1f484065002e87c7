"""The project's one configuration place: `[tool.mlgate]` in pyproject.toml.

Every setting is typed and validated here, and unknown keys are errors, so a typo in a gate
bound fails loudly instead of silently promoting a model under the default policy.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mlgate import storage
from mlgate.errors import UserError
from mlgate.monitoring.current import CurrentDataConfig
from mlgate.report.document import GREATER_IS_BETTER

if TYPE_CHECKING:
    from mlgate.contract import ModelPlugin

TABLE = "tool.mlgate"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(_Section):
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


MAX_PARAM_INT = 2**31 - 1
"""Larger integers overflow the C integers scikit-learn's compiled estimators take."""
MAX_PARAM_CHARS = 200
CONTROL = frozenset({"Cc", "Zl", "Zp"})
"""Unicode categories refused in a --param: control characters and line or paragraph breaks."""
MAX_FIT_SECONDS = 86_400.0


def check_param_value(name: str, value: Any) -> None:
    """Refuse numbers no estimator can take (they fail deep inside a fit, or never finish)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int) and abs(value) > MAX_PARAM_INT:
        raise ValueError(f"{name}: {_short(value)} is beyond ±{MAX_PARAM_INT} (2**31 - 1)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name}: must be a finite number, got {value}")
    if isinstance(value, str) and len(value) > MAX_PARAM_CHARS:
        raise ValueError(f"{name}: value is longer than {MAX_PARAM_CHARS} characters")


def _short(value: Any) -> str:
    text = str(value) if not isinstance(value, int) or abs(value) < 10**30 else "a huge integer"
    return text if len(text) <= 40 else text[:39] + "\u2026"


class ModelConfig(_Section):
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


class Bound(_Section):
    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_side(self) -> Bound:
        if (self.min is None) == (self.max is None):
            raise ValueError("give exactly one of min or max")
        return self


class GateConfig(_Section):
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


class TrackingConfig(_Section):
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


class ReportConfig(_Section):
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


class PromotionConfig(_Section):
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


class MonitoringConfig(_Section):
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


class FloatRange(_Section):
    """A float hyperparameter: uniform between `low` and `high`, or log-uniform with `log`."""

    kind: Literal["float"]
    low: float
    high: float
    log: bool = False
    step: float | None = Field(default=None, gt=0)
    estimators: list[str] | None = None  # only suggested when one of these is the estimator

    @model_validator(mode="after")
    def _valid(self) -> FloatRange:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        if self.log and self.step is not None:
            raise ValueError("a log range cannot have a step")
        return self

    def grid(self) -> list[float] | None:
        """The values a grid search tries; None without a step (a continuum has no grid)."""
        if self.step is None:
            return None
        count = int((self.high - self.low) / self.step + 1e-9) + 1
        return [round(self.low + i * self.step, 12) for i in range(count)]


class IntRange(_Section):
    """An integer hyperparameter from `low` to `high` inclusive, every `step`."""

    kind: Literal["int"]
    low: int
    high: int
    step: int = Field(default=1, gt=0)
    log: bool = False
    estimators: list[str] | None = None

    @model_validator(mode="after")
    def _valid(self) -> IntRange:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and (self.low <= 0 or self.step != 1):
            raise ValueError("a log range needs low > 0 and step 1")
        return self

    def grid(self) -> list[int]:
        return list(range(self.low, self.high + 1, self.step))


Scalar = str | int | float | bool | None


class Choice(_Section):
    """A categorical hyperparameter; under the name `estimator`, import paths: model selection."""

    kind: Literal["categorical"]
    choices: list[Scalar] = Field(min_length=1)
    estimators: list[str] | None = None

    @field_validator("choices")
    @classmethod
    def _distinct(cls, choices: list[Scalar]) -> list[Scalar]:
        if len({repr(c) for c in choices}) != len(choices):
            raise ValueError("choices must be distinct")
        return choices

    def grid(self) -> list[Scalar]:
        return list(self.choices)


Dimension = Annotated[FloatRange | IntRange | Choice, Field(discriminator="kind")]
ESTIMATOR_CHOICE = "estimator"


class TuningConfig(_Section):
    """A budgeted, seeded hyperparameter search (`mlgate tune`).

    `n_trials` is the contract; `timeout_s` only a safety net. Trials are scored by
    cross-validation on the training data alone, so the validation month judges the winner
    once. With `enabled`, `mlgate candidate` (the PR workflow's step) tunes instead of
    training.
    """

    enabled: bool = False
    sampler: Literal["grid", "random", "tpe"] = "tpe"
    seed: int = Field(default=0, ge=0)
    n_trials: int = Field(default=30, gt=0, le=10_000)
    timeout_s: float | None = Field(default=None, gt=0)
    cv_folds: int = Field(default=3, ge=2, le=20)
    cv: Literal["kfold", "time-ordered"] = "kfold"  # kfold is stratified for classifiers
    metric: str | None = None  # default: the gate's metric; any metric of the plug-in's task
    pruning: bool = True
    space: dict[str, Dimension] = {}

    @model_validator(mode="after")
    def _coherent(self) -> TuningConfig:
        choice = self.space.get(ESTIMATOR_CHOICE)
        if choice is not None:
            if not isinstance(choice, Choice):
                raise ValueError(f"space.{ESTIMATOR_CHOICE}: must be categorical (import paths)")
            if not all(isinstance(c, str) for c in choice.choices):
                raise ValueError(f"space.{ESTIMATOR_CHOICE}: choices must be import paths")
            if choice.estimators is not None:
                raise ValueError(f"space.{ESTIMATOR_CHOICE}: cannot itself be conditional")
        for name, dimension in self.space.items():
            if dimension.estimators is not None and self.sampler == "grid":
                raise ValueError(
                    f"space.{name}: the grid sampler cannot take conditional parameters "
                    "(estimators = [...]); use random or tpe"
                )
            grid_float = self.sampler == "grid" and isinstance(dimension, FloatRange)
            if grid_float and dimension.step is None:
                raise ValueError(f"space.{name}: the grid sampler needs a step for a float range")
            if dimension.estimators is not None:
                known = choice.choices if isinstance(choice, Choice) else []
                unknown = [e for e in dimension.estimators if e not in known]
                if unknown:
                    raise ValueError(
                        f"space.{name}: estimators {unknown} are not among space.estimator's "
                        "choices"
                    )
        if self.enabled and not self.space:
            raise ValueError("space: tuning is enabled but the search space is empty")
        return self

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str | None) -> str | None:
        """Any validation metric of the table; which task it belongs to is checked by `tune`."""
        if value is None:
            return None
        if value.startswith("train_") and value in GREATER_IS_BETTER:
            raise ValueError(f"{value!r} is scored on the training rows; use a validation metric")
        if value not in GREATER_IS_BETTER:
            known = ", ".join(m for m in GREATER_IS_BETTER if not m.startswith("train_"))
            raise ValueError(f"unknown metric {value!r}; choose one of: {known}")
        return value


class ServingConfig(_Section):
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


class Settings(_Section):
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    gate: GateConfig = GateConfig()
    tracking: TrackingConfig = TrackingConfig()
    report: ReportConfig = ReportConfig()
    promotion: PromotionConfig = PromotionConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    tuning: TuningConfig = TuningConfig()
    serving: ServingConfig = ServingConfig()
    root: Path = Path(".")

    def path(self, value: Path) -> Path:
        """Resolve a configured path against the configuration file's folder."""
        return value if value.is_absolute() else self.root / value

    def data_path(
        self, role: Literal["train", "validation"], given: storage.Location | None = None
    ) -> storage.Location:
        """The file (or object) for `role`: the command line's, else the configured one."""
        if given is not None:
            return given
        configured = getattr(self.data, role)
        if configured is None:
            flag = "--train-data" if role == "train" else "--val-data"
            raise UserError(f"[{TABLE}] data.{role} is not set (nor given with {flag})")
        found = storage.location(configured)
        return found if isinstance(found, storage.Uri) else self.path(found)

    @property
    def experiment(self) -> str:
        """The MLflow experiment: `tracking.experiment`, else the plug-in's name."""
        return self.tracking.experiment or self.plugin().name

    @property
    def registered_model(self) -> str:
        """Where pull requests register candidates: `tracking.registered_model`, else the
        plug-in's name."""
        return self.tracking.registered_model or self.plugin().name

    @property
    def production(self) -> str:
        """The registered model that holds the champion alias."""
        return self._models()[1]

    @property
    def monitoring_experiment(self) -> str:
        """Where `mlgate monitor` records its runs."""
        return self.monitoring.experiment or f"{self.experiment}-monitoring"

    def names(self) -> Names:
        """Every name the lifecycle uses on the tracking server, checked apart from each other.

        Commands that need them call this first, so a collision (e.g. `production_model` equal
        to the plug-in's name, the candidates' default) is one line before any work.
        """
        candidates, production = self._models()
        experiment, monitoring = self.experiment, self.monitoring_experiment
        if monitoring == experiment:
            raise UserError(
                f"[{TABLE}] monitoring.experiment {monitoring!r} is also the training "
                "experiment: the monitoring credential would write where the champion's runs "
                "live; give it a name of its own"
            )
        return Names(experiment, candidates, production, monitoring)

    def _models(self) -> tuple[str, str]:
        """(candidates, production), checked apart from each other and the promotion lock."""
        from mlgate.registry.lock import LOCK_SUFFIX

        candidates, production = self.registered_model, self.tracking.production_model
        if production == candidates:
            raise UserError(
                f"[{TABLE}] tracking.production_model {production!r} is also the registered "
                "model for candidates (the plug-in's name when tracking.registered_model is "
                "unset): give it a name of its own"
            )
        production = production or candidates
        if candidates == production + LOCK_SUFFIX:
            raise UserError(
                f"[{TABLE}] tracking.registered_model {candidates!r} is the promotion lock of "
                f"{production!r}: give the candidates another name"
            )
        return candidates, production

    def plugin(self) -> ModelPlugin:
        """The configured model plug-in, loaded once per process."""
        if self.model.plugin is None:
            raise UserError(f"[{TABLE}] model.plugin is not set (e.g. 'my_model.plugin:MyModel')")
        return _plugin(self.model.plugin, json.dumps(self.model.options, sort_keys=True))


@dataclass(frozen=True)
class Names:
    """The lifecycle's names on the tracking server (see `Settings.names`)."""

    experiment: str
    registered_model: str  # the candidates
    production: str  # holds the champion alias; the candidates' model when not separate
    monitoring_experiment: str


@cache
def _plugin(reference: str, options: str) -> ModelPlugin:
    from mlgate.contract import load_plugin

    return load_plugin(reference, json.loads(options))


def _table(document: dict[str, Any], source: Path) -> dict[str, Any]:
    if source.name != "pyproject.toml":
        return document
    return document.get("tool", {}).get("mlgate", {})


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
    """`max_depth=4` → ("max_depth", 4): values are read as TOML scalars, else kept as strings."""
    if any(unicodedata.category(c) in CONTROL for c in text):
        # A newline or an escape sequence would break (or forge) the one error line later.
        raise UserError(
            f"--param {_shown(text)}: control characters (newline, tab, escape…) are not "
            "allowed in a name or value"
        )
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"--param {_shown(text)}: expected NAME=VALUE, e.g. max_depth=4")
    if len(value.strip()) > MAX_PARAM_CHARS:
        raise UserError(f"--param {key.strip()}: value is longer than {MAX_PARAM_CHARS} characters")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    if isinstance(parsed, dict | list):
        raise UserError(f"--param {_shown(text)}: only scalar values are supported")
    if value.strip().lower() in {"none", "null"}:
        parsed = None
    try:
        check_param_value(key.strip(), parsed)
    except ValueError as exc:
        raise UserError(f"--param {exc}") from None
    return key.strip(), parsed


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:59] + "\u2026")
