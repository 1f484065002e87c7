"""The report document: the one JSON contract between training, the gate, the report and the PR
comment.

`mlgate train` writes it; `mlgate report` and `mlgate comment` read it. The
comment workflow receives it as an artifact of a pull-request run, which may come from a fork,
so every field is validated here before anything is rendered from it.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mlgate.errors import UserError
from mlgate.report.breakdown import Breakdown
from mlgate.tasks.table import METRICS

SCHEMA_VERSION = 1

# The metrics evaluation computes for every task (mlgate.tasks.table), and how a person reads
# them. Only these can be gated on: a gate on a metric nobody computes could never pass.
METRIC_LABELS: dict[str, str] = {name: metric.label for name, metric in METRICS.items()}
GREATER_IS_BETTER: dict[str, bool] = {
    name: metric.greater_is_better for name, metric in METRICS.items()
}
UNITLESS = frozenset(name for name, metric in METRICS.items() if not metric.carries_unit)


def metric_label(metric: str, unit: str = "") -> str:
    """ "RMSE (kg)": the label, with the target's unit where the metric carries it."""
    label = METRIC_LABELS.get(metric, metric)
    return f"{label} ({unit})" if unit and metric not in UNITLESS else label


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelInfo(_Doc):
    """What the model plug-in says about itself, so the report needs no model-specific code."""

    title: str = "Model report"
    target: str = "target"
    target_label: str = "Target"
    unit: str = ""


class DatasetInfo(_Doc):
    """One data file as the model saw it: where, how many rows survived cleaning, its digest.

    `path` is a URI for an object in a bucket; then `version_id` (a versioned bucket) and
    `etag` say which version of it was read.
    """

    role: Literal["train", "validation"]
    path: str
    rows_raw: int = Field(ge=0)
    rows: int = Field(ge=0)
    digest: str
    version_id: str | None = None
    etag: str | None = None


class Latency(_Doc):
    """Prediction latency of the logged model, loaded as it is served, for one batch."""

    batch_size: int = Field(gt=0)
    p50_ms: float = Field(ge=0)
    p95_ms: float = Field(ge=0)


class Candidate(_Doc):
    run_id: str
    model_uri: str
    version: str | None = None
    estimator: str
    params: dict[str, str | int | float | bool | None]
    metrics: dict[str, float]
    model_size_bytes: int | None = Field(default=None, ge=0)
    latency: Latency | None = None
    breakdown: Breakdown | None = None  # classifiers: on the validation rows


class ServingCheck(_Doc):
    """One request of the serving contract against MLflow's scoring server."""

    name: str
    passed: bool
    detail: str  # what was sent and what came back, one line


class Serving(_Doc):
    """The candidate served as logged: the contract, and latency through HTTP."""

    passed: bool
    checks: list[ServingCheck] = []
    failed_request: str | None = None
    latency_one: Latency | None = None
    latency_batch: Latency | None = None
    champion_latency_one: Latency | None = None
    champion_latency_batch: Latency | None = None
    requirements_checked: bool | None = None  # None: the clean-environment check did not run
    model_size_bytes: int | None = Field(default=None, ge=0)  # the served model's folder
    champion_model_size_bytes: int | None = Field(default=None, ge=0)


class Trial(_Doc):
    number: int = Field(ge=0)
    state: Literal["complete", "pruned", "fail"]
    value: float | None = None
    params: dict[str, str | int | float | bool | None] = {}
    reason: str | None = None  # why a failed trial failed


class Tuning(_Doc):
    """The search that chose the candidate's hyperparameters."""

    sampler: str
    seed: int
    n_trials: int = Field(ge=0)  # the budget
    timeout_s: float | None = None
    completed: int = Field(ge=0)
    pruned: int = Field(ge=0)
    failed: int = Field(ge=0)
    wall_time_s: float = Field(ge=0)
    metric: str
    cv_folds: int = Field(ge=2)
    cv: Literal["kfold", "time-ordered"] | None = None  # how the folds were cut
    best_params: dict[str, str | int | float | bool | None]
    best_cv_score: float
    validation_score: float | None = None
    importances: dict[str, float] = {}
    history: list[Trial] = []  # in trial order
    storage: str | None = None  # credentials removed


class Champion(_Doc):
    """The model behind the `champion` alias when the candidate was trained.

    `metrics` are the champion's scores on the candidate's validation data when `comparable`;
    otherwise `recorded_metrics` (what it scored on its own data) is all there is, and the
    report must label them as not comparable.
    """

    version: str
    run_id: str | None = None
    estimator: str | None = None
    params: dict[str, str | int | float | bool | None] = {}
    comparable: bool
    not_comparable_reason: str | None = None
    metrics: dict[str, float] = {}
    recorded_metrics: dict[str, float] = {}
    data_digests: dict[str, str] = {}  # by role: "train", "validation"
    model_size_bytes: int | None = Field(default=None, ge=0)
    latency: Latency | None = None
    breakdown: Breakdown | None = None  # classifiers: on the candidate's validation rows


class Delta(_Doc):
    """Candidate minus champion; `relative` is a fraction of the champion's value (0.04 = 4%)."""

    candidate: float
    champion: float
    absolute: float
    relative: float | None
    better: bool | None  # None when equal


class Gate(_Doc):
    metric: str
    greater_is_better: bool
    relative_tolerance: float
    bounds: dict[str, dict[str, float]] = {}
    passed: bool
    baseline: Literal["champion", "bounds-only"]
    reasons: list[str]


class Comparison(_Doc):
    """Whether the champion comparison ran, and why not when it did not."""

    performed: bool
    skipped_reason: str | None = None


class Lineage(_Doc):
    git_commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    lock_hash: str | None = None
    pr_number: int | None = None
    head_sha: str | None = None
    workflow_run_url: str | None = None
    workflow_run_id: int | None = None
    workflow_run_attempt: int | None = None


class HistoryPoint(_Doc):
    """A recent champion's primary metric, on the candidate's validation data when comparable."""

    version: str
    value: float
    label: str


class Links(_Doc):
    run: str | None = None
    model_version: str | None = None
    workflow_run: str | None = None


class Status(_Doc):
    """Outcome of the pull-request workflow, so a failed run still gets an honest comment."""

    outcome: Literal["success", "failure"]
    failed_step: str | None = None


class Report(_Doc):
    schema_version: Literal[1] = SCHEMA_VERSION
    generated_at: str
    experiment: str | None = None
    registered_model: str | None = None
    model: ModelInfo = ModelInfo()
    tracking_uri: str | None = None
    candidate: Candidate | None = None
    champion: Champion | None = None
    comparison: Comparison = Comparison(performed=False)
    deltas: dict[str, Delta] = {}
    gate: Gate | None = None
    data: list[DatasetInfo] = []
    timings_s: dict[str, float] = {}
    lineage: Lineage = Lineage()
    history: list[HistoryPoint] = []  # oldest first
    serving: Serving | None = None
    tuning: Tuning | None = None
    links: Links = Links()
    status: Status = Status(outcome="success")

    @model_validator(mode="after")
    def _success_has_results(self) -> Report:
        if self.status.outcome == "success" and (self.candidate is None or self.gate is None):
            raise ValueError("a successful run must carry the candidate and the gate decision")
        return self

    def write(self, path: Path) -> None:
        write_atomically(path, self.model_dump_json(indent=2) + "\n", "the report")


def write_atomically(path: Path, text: str, what: str) -> None:
    """Write so a reader never sees half a document, and no .tmp stays behind; one line on
    failure."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise UserError(f"{path}: cannot write {what} ({exc.strerror or exc})") from None
    finally:
        if tmp.exists() and not tmp.is_dir():
            tmp.unlink()


def check_writable(*paths: Path) -> None:
    """Fail before any work is done (or registered) when an output file cannot be written.

    Outputs are regular files replaced whole: a device, a FIFO or a folder in the way (at the
    path or at its `.tmp` sibling) is refused here, not found out after registration.
    """
    for path in paths:
        try:
            _check_one(path)
        except OSError as exc:
            raise UserError(f"{_short(path)}: cannot write here ({exc.strerror or exc})") from None


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 300 else text[:299] + "\u2026"


def _check_one(path: Path) -> None:
    too_long = [part for part in path.parts if len(os.fsencode(part)) > NAME_MAX]
    if too_long:
        raise UserError(
            f"{_short(path)}: a path component is over {NAME_MAX} bytes "
            f"({len(os.fsencode(too_long[0]))})"
        )
    if path.is_dir():
        raise UserError(f"{path}: is a directory; give a file path for the output")
    if path.exists() and not path.is_file():
        raise UserError(f"{path}: exists and is not a regular file (a device or a pipe)")
    tmp = path.with_name(path.name + ".tmp")
    if tmp.is_dir() or (tmp.exists() and not tmp.is_file()):
        raise UserError(f"{tmp}: is in the way (not a regular file); remove it")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # created when the report is written, not before
    if not folder.is_dir():
        raise UserError(f"{path}: {folder} is not a directory")
    try:
        # Permissions alone do not say it (root, read-only mounts): try a file there.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".mlgate-", suffix=".probe"):
            pass
    except OSError as exc:
        raise UserError(f"{path}: {folder} is not writable ({exc.strerror or exc})") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise UserError(f"{path}: exists and is not writable")


NAME_MAX = 255
"""Bytes in one path component on Linux and macOS file systems."""


MAX_REPORT_BYTES = 1_000_000  # a real report is a few kB; an artifact may be anything
MAX_REPORT_DEPTH = 32  # a real report nests 5 deep; far deeper JSON overflows the parser
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def _too_deep(text: str, limit: int) -> bool:
    """True if arrays/objects nest deeper than `limit` (brackets inside strings ignored)."""
    depth = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


def read_regular(path: Path, limit: int) -> bytes:
    """Up to `limit` bytes of a regular file; anything else is one line naming it.

    Opened without blocking and checked before reading: a FIFO with no writer would block the
    read forever, and a device can be endless.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UserError(
                f"{path}: not a regular file (a pipe, a device or a folder): refusing to read it"
            )
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit)
    finally:
        os.close(fd)


def load_report(path: Path) -> Report:
    """Read and validate a report; any problem is one line naming the file.

    Size and nesting are capped before parsing, since the comment workflow reads an
    artifact that PR code wrote.
    """
    try:
        data = read_regular(path, MAX_REPORT_BYTES + 1)
        if len(data) > MAX_REPORT_BYTES:
            raise UserError(
                f"{path}: report is over {MAX_REPORT_BYTES:,} bytes: refusing to read it"
            )
        text = data.decode("utf-8")
        if _too_deep(text, MAX_REPORT_DEPTH):
            raise UserError(
                f"{path}: report nests deeper than {MAX_REPORT_DEPTH} levels: refusing it"
            )
        raw = json.loads(text)
    except FileNotFoundError:
        raise UserError(f"{path}: report not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UserError(f"{path}: not a readable JSON report ({exc})") from None
    try:
        return Report.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise UserError(f"{path}: invalid report at {where}: {first['msg']}") from None
