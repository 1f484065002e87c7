"""`mlgate predict --engine spark`: the registered model scored by Spark with
`mlflow.pyfunc.spark_udf`, written as a parquet folder with the single-process columns.

Each row keeps its position in the input file (`row`, from Spark's parquet row index), the
model's outputs come from the UDF (a double per row, or one probability per class), and the
task turns them into the same columns as `mlgate predict` (a regressor's `prediction`; a
classifier's `label` and `probability_<class>`), with the same code. The folder is written
next to its target under a temporary name and moved into place only when complete.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from mlgate import progress
from mlgate.errors import UserError
from mlgate.serving.batch import ROW
from mlgate.spark.session import one_line

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from mlgate.tasks.base import Task

OUTPUTS = "__outputs"


@dataclass(frozen=True)
class SparkScored:
    rows: int
    out: Path


def score_with_spark(
    spark: SparkSession,
    model_uri: str,
    columns: list[str] | None,
    data: Path,
    out: Path,
    task: Task,
    record: dict[str, Any],
) -> SparkScored:
    """Score every row of `data` into the folder `out`, atomically for local folders."""
    from pyspark.errors import PySparkException

    local = "://" not in str(out)
    target = out.with_name(out.name + ".tmp") if local else out
    try:
        frame = scored_frame(spark, model_uri, columns, str(data), task, record)
        progress.say(f"scoring {data} with Spark")
        frame.write.mode("overwrite").parquet(str(target))
        rows = spark.read.parquet(str(target)).count()
        if local:
            _replace(target, out)
    except (PySparkException, OSError) as exc:
        raise UserError(f"{data}: Spark could not score it ({one_line(exc)})") from None
    finally:
        if local:
            shutil.rmtree(target, ignore_errors=True)
    return SparkScored(rows=rows, out=out)


def scored_frame(
    spark: SparkSession,
    model_uri: str,
    columns: list[str] | None,
    data: str,
    task: Task,
    record: dict[str, Any],
) -> DataFrame:
    """`row`, then the task's output columns, for every row of the parquet `data`."""
    import mlflow
    from pyspark.sql import functions
    from pyspark.sql.types import ArrayType, DoubleType

    empty = task.no_outputs(record)
    result_type = DoubleType() if empty.ndim == 1 else ArrayType(DoubleType())
    # env_manager="local": the workers run this environment, the one `predict` runs in; MLflow
    # warns about that choice on every call, which says nothing to a person here.
    pyfunc_log = logging.getLogger("mlflow.pyfunc")
    level = pyfunc_log.level
    pyfunc_log.setLevel(logging.ERROR)
    try:
        udf = mlflow.pyfunc.spark_udf(
            spark, model_uri, result_type=result_type, env_manager="local"
        )
    finally:
        pyfunc_log.setLevel(level)
    rows = spark.read.parquet(data)
    if columns is None:
        columns = _inputs_of(model_uri) or rows.columns
    scored = rows.select(
        functions.col("_metadata.row_index").alias(ROW),
        udf(*[functions.col(c) for c in columns]).alias(OUTPUTS),
    )
    schema = output_schema(task, record)
    matrix = empty.ndim == 2

    def columns_of(batches):
        import pandas as pd

        for batch in batches:
            values = batch[OUTPUTS].to_numpy()
            outputs = np.stack(values) if matrix and len(values) else values.astype(np.float64)
            if matrix and not len(values):
                outputs = empty
            answer = task.output_columns(outputs, record)
            yield pd.DataFrame({ROW: batch[ROW].to_numpy(dtype=np.int64), **answer})

    return scored.mapInPandas(columns_of, schema)


def _inputs_of(model_uri: str) -> list[str] | None:
    """The column names the model's signature declares (None without named inputs)."""
    from mlflow.models import get_model_info

    inputs = getattr(get_model_info(model_uri).signature, "inputs", None)
    return inputs.input_names() if inputs is not None and inputs.has_input_names() else None


def output_schema(task: Task, record: dict[str, Any]):
    """The Spark schema of `row` and the task's columns, from the single-process schema."""
    from pyspark.sql.pandas.types import from_arrow_schema

    empty = task.output_columns(task.no_outputs(record), record)
    table = pa.table({ROW: np.zeros(0, dtype=np.int64), **empty})
    return from_arrow_schema(table.schema)


def _replace(folder: Path, out: Path) -> None:
    """Move the finished folder to `out`, replacing a previous output."""
    if out.is_dir():
        shutil.rmtree(out)
    else:
        with contextlib.suppress(FileNotFoundError):
            out.unlink()
    folder.replace(out)
