"""Batch scoring: a parquet file of raw records in, the model's answer per record out: a
regressor's `prediction`, a classifier's `label` and `probability_<class>` columns (the task
of the model's own record says which).

The input is streamed in bounded batches (`ParquetFile.iter_batches`), so memory stays flat
however many rows the file holds, and every row is scored: the plug-in's `raw_features` keeps
them all, and the logged model answers any record. The output names each input row by its
position and is written to a temporary file that replaces the target only when complete.
SIGTERM is acted on between batches (`mlgate.termination`): the temporary file is removed and
the command exits 143. A write that fails (a full disk) is one line naming the output.

Input and output may be objects in a bucket (`s3://`, `gs://`, `abfs://`; `mlgate.storage`):
the input is read by row group with ranged reads, the output is written locally and put in
the bucket whole at the end (upload beside the target key, then one server-side copy), so no
partial object is ever visible under the target and nothing is left behind.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from mlgate import progress, storage, tasks, termination
from mlgate.contract import ModelPlugin
from mlgate.errors import UserError
from mlgate.serving.signature import Predict, scorer
from mlgate.storage import Location, Uri

if TYPE_CHECKING:
    from mlflow.pyfunc import PyFuncModel

    from mlgate.tasks.base import Task

BATCH_ROWS = 65_536
ROW = "row"
PREDICTION = "prediction"
T = TypeVar("T")


@dataclass(frozen=True)
class Scored:
    rows: int
    batches: int
    out: Location


def open_input(path: Location, columns: list[str] | None) -> pq.ParquetFile:
    """The parquet file (or object), checked for the columns the model needs; one-line errors."""
    if isinstance(path, Uri):
        source: Any = storage.open_parquet(path)
    elif not path.is_file():
        raise UserError(f"{path}: data file not found")
    else:
        source = path
    try:
        parquet = pq.ParquetFile(source)
    except (OSError, pa.ArrowException) as exc:
        raise UserError(f"{path}: not a readable parquet file ({_line(exc)})") from None
    if columns is not None:
        names = parquet.schema_arrow.names
        missing = [c for c in columns if c not in names]
        if missing:
            raise UserError(f"{path}: missing required column(s) {', '.join(missing)}")
    return parquet


def score_file(
    model: PyFuncModel,
    plugin: ModelPlugin,
    data: Location,
    out: Location,
    *,
    batch_rows: int = BATCH_ROWS,
) -> Scored:
    """Score every row of `data` into `out` (parquet: `row`, then the task's columns),
    atomically."""
    columns = plugin.raw_columns()
    parquet = open_input(data, columns)
    try:
        # A model with no MLmodel metadata (logged before tasks existed) is a regressor.
        task, record = tasks.of_model(getattr(getattr(model, "metadata", None), "metadata", None))
    except ValueError as exc:
        raise UserError(f"the model's task record: {exc}") from None
    empty = task.output_columns(task.no_outputs(record), record)
    schema = pa.table({ROW: np.zeros(0, dtype=np.int64), **empty}).schema
    done = batches = 0
    total = parquet.metadata.num_rows
    predict = scorer(model)
    output = storage.Output(out)  # a local file first; in a bucket only once complete
    try:
        with termination.deferred():
            writer = _written(out, lambda: _open_writer(output.local, schema))
            try:
                for batch in _batches(parquet, data, columns, batch_rows):
                    termination.check()
                    features = plugin.raw_features(batch.to_pandas())
                    outputs = _predict(predict, features, data, done, task, record)
                    positions = np.arange(done, done + batch.num_rows, dtype=np.int64)
                    answer = task.output_columns(outputs, record)
                    table = pa.table({ROW: positions, **answer}, schema=schema)
                    _written(out, lambda table=table: writer.write_table(table))
                    done += batch.num_rows
                    batches += 1
                    progress.count("rows scored", done, total)
            finally:
                _written(out, writer.close)
            termination.check()
            _written(out, output.commit)
    finally:
        output.discard()
    return Scored(rows=done, batches=batches, out=out)


def _open_writer(tmp: Path, schema: pa.Schema) -> pq.ParquetWriter:
    tmp.parent.mkdir(parents=True, exist_ok=True)
    return pq.ParquetWriter(tmp, schema)


def _written(out: Location, write: Callable[[], T]) -> T:
    """Run one write; failing (a full disk, a folder gone) is one line naming the output."""
    try:
        return write()
    except OSError as exc:
        why = exc.strerror or (errno.errorcode.get(exc.errno) if exc.errno else None)
        raise UserError(f"{out}: cannot write the predictions ({why or _line(exc)})") from None


def _batches(parquet: pq.ParquetFile, data: Location, columns: list[str] | None, batch_rows: int):
    try:
        yield from parquet.iter_batches(batch_size=batch_rows, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        if isinstance(data, Uri):
            raise storage.failure(data, exc) from None
        raise UserError(f"{data}: cannot read rows ({_line(exc)})") from None


def _predict(
    predict: Predict, features, data: Location, offset: int, task: Task, record: dict[str, Any]
) -> np.ndarray:
    try:
        values = task.as_outputs(predict(features), record)
    except Exception as exc:
        # MLflow's own exception class is imported only once something failed: scoring a
        # batch needs none of MLflow's import time.
        from mlflow.exceptions import MlflowException

        if not isinstance(exc, MlflowException | KeyError | ValueError | TypeError):
            raise
        raise UserError(
            f"{data}: the model refused the rows from position {offset} ({_line(exc)})"
        ) from None
    if len(values) != len(features):
        raise UserError(f"{data}: the model returned {len(values)} predictions for {len(features)}")
    return values


def _line(exc: BaseException) -> str:
    text = str(exc)
    if "Error: " in text:
        text = text.rsplit("Error: ", 1)[1]
    return " ".join(text.split())[:300] or type(exc).__name__
