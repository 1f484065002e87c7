"""The project's one configuration place: `[tool.mlgate]` in pyproject.toml.

Every setting is typed and validated here, and unknown keys are errors, so a typo in a gate
bound fails loudly instead of silently promoting a model under the default policy.

The tables are in `sections` and `tuning`, hyperparameter values in `params`; this module
reads the file and holds `Settings`, the whole of them.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from mlgate import storage
from mlgate.config.params import (
    MAX_PARAM_CHARS,
    MAX_PARAM_INT,
    check_param_value,
    parse_param,
)
from mlgate.config.sections import (
    MAX_FIT_SECONDS,
    MAX_LATENCY_BATCH,
    MAX_LATENCY_REPEATS,
    Bound,
    DataConfig,
    GateConfig,
    ModelConfig,
    MonitoringConfig,
    PromotionConfig,
    ReportConfig,
    Section,
    ServingConfig,
    TrackingConfig,
)
from mlgate.config.tuning import (
    ESTIMATOR_CHOICE,
    Choice,
    Dimension,
    FloatRange,
    IntRange,
    Scalar,
    TuningConfig,
)
from mlgate.errors import UserError

if TYPE_CHECKING:
    from mlgate.contract import ModelPlugin

__all__ = [
    "ESTIMATOR_CHOICE",
    "MAX_FIT_SECONDS",
    "MAX_LATENCY_BATCH",
    "MAX_LATENCY_REPEATS",
    "MAX_PARAM_CHARS",
    "MAX_PARAM_INT",
    "TABLE",
    "Bound",
    "Choice",
    "DataConfig",
    "Dimension",
    "FloatRange",
    "GateConfig",
    "IntRange",
    "ModelConfig",
    "MonitoringConfig",
    "Names",
    "PromotionConfig",
    "ReportConfig",
    "Scalar",
    "Section",
    "ServingConfig",
    "Settings",
    "TrackingConfig",
    "TuningConfig",
    "check_param_value",
    "load_settings",
    "parse_param",
]

TABLE = "tool.mlgate"


class Settings(Section):
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
