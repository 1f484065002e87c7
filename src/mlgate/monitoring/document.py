"""The monitoring document: the JSON contract between `monitor`, its Markdown and `drift-issue`.

`drift-issue` runs in a later step (or on another machine) and only trusts what it can
validate, so every field is checked here before anything is posted from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mlgate.errors import UserError
from mlgate.report.document import read_regular, write_atomically

SCHEMA_VERSION = 1
MAX_BYTES = 50_000_000
"""Far above any real monitoring report; an endless file is refused rather than read on."""
CheckKind = Literal["numeric", "categorical", "prediction", "quality", "performance"]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataRef(_Doc):
    """One side of the comparison: which file, which digest, how many rows survived cleaning.

    `path` is a URI for an object in a bucket; then `version_id` (a versioned bucket) or
    `etag` say which version of it was read.
    """

    role: Literal["reference", "current"]
    path: str
    digest: str
    rows: int = Field(ge=0)
    rows_raw: int = Field(ge=0)
    origin: Literal["champion training data", "given", "current"]
    version_id: str | None = None
    etag: str | None = None


class ChampionRef(_Doc):
    version: str
    run_id: str | None = None
    model_uri: str
    metric: str = "root_mean_squared_error"  # the gate metric, checked once labels arrive
    recorded: float | None = None  # what the champion scored on it when it was trained

    @model_validator(mode="before")
    @classmethod
    def _earlier_field(cls, raw: Any) -> Any:
        """Documents of earlier releases recorded only the validation RMSE."""
        if isinstance(raw, dict) and "validation_rmse" in raw:
            raw = dict(raw)
            raw.setdefault("recorded", raw.pop("validation_rmse"))
        return raw


class Check(_Doc):
    """One test: `passed` is `statistic` compared with `threshold` (as `comparison` says)."""

    kind: CheckKind
    subject: str  # the feature, "prediction" (or a classifier's outputs), or the target
    test: str  # "PSI", "KS", "chi-square", "missing share", ...
    statistic: float | None
    threshold: float
    comparison: Literal["<", "<=", ">="]  # passing means statistic `comparison` threshold
    passed: bool
    warning: bool = False  # passed, but above the warning level
    p_value: float | None = None
    detail: str = ""


class Distribution(_Doc):
    """Shares per bin of a watched column in both datasets, for the report's charts."""

    subject: str
    kind: Literal["numeric", "categorical", "prediction"]
    labels: list[str]
    reference: list[float]
    current: list[float]
    psi: float


class MonitoringReport(_Doc):
    schema_version: Literal[1] = SCHEMA_VERSION
    generated_at: str
    registered_model: str
    title: str = "Model monitoring"
    unit: str = ""
    champion: ChampionRef
    reference: DataRef
    current: DataRef
    checks: list[Check]
    distributions: list[Distribution] = []
    run_id: str | None = None
    tracking_uri: str | None = None
    workflow_run_url: str | None = None

    @property
    def drift(self) -> bool:
        return any(not check.passed for check in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]

    @property
    def drifted_subjects(self) -> list[str]:
        """Each drifted feature (or the prediction, quality, performance), once, in check order."""
        return list(dict.fromkeys(check.subject for check in self.failed))

    def write(self, path: Path) -> None:
        write_atomically(path, self.model_dump_json(indent=2) + "\n", "the monitoring report")


def load_monitoring(path: Path) -> MonitoringReport:
    """Read and validate a monitoring document; any problem is one line naming the file."""
    try:
        data = read_regular(path, MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise UserError(f"{path}: over {MAX_BYTES:,} bytes: not a monitoring report")
        raw = json.loads(data.decode("utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: monitoring report not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a readable JSON monitoring report ({exc})") from None
    try:
        return MonitoringReport.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise UserError(f"{path}: invalid monitoring report at {where}: {first['msg']}") from None
