"""`mlgate monitor --engine spark`: the same checks as the single-process command, with every
statistic computed by Spark (see `mlgate.spark.drift`).

Both files are read by Spark and cleaned by the plug-in's own `load`, run on each Arrow batch
of rows inside Spark (so its cleaning must decide row by row, as the example's does). The
champion scores the kept rows through `mlflow.pyfunc.spark_udf`; the task turns its outputs into
the watched columns (a regressor's prediction, a classifier's class and probabilities) with the
same code as the local engine. The performance check needs the current month's target and
outputs side by side, and is the one step that brings columns (two, or one per class plus one)
to the driver.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from mlgate.config import MonitoringConfig
from mlgate.contract import Dataset, ModelPlugin
from mlgate.datafile import load_data
from mlgate.errors import UserError
from mlgate.monitoring import checks
from mlgate.monitoring.document import ChampionRef, Check, Distribution
from mlgate.spark import drift

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from mlgate.tasks.base import Task

TARGET = "__target"
OUTPUT = "__output_{}"
SAMPLE_ROWS = 1000
COLLECT_ROWS = 500_000


@dataclass
class Loaded:
    """One file as Spark holds it after the plug-in's cleaning, and its row counts."""

    path: Path
    frame: DataFrame
    rows: int
    rows_raw: int
    features: list[str]
    target: str


def load(spark: SparkSession, plugin: ModelPlugin, path: Path) -> Loaded:
    """The file's rows, cleaned by the plug-in batch by batch, with the features and target."""
    import pyarrow.parquet as pq

    raw = spark.read.parquet(str(path))
    sample = _sample(plugin, path, pq.read_table(path).slice(0, SAMPLE_ROWS))
    schema = pa.Table.from_pandas(_with_target(sample), preserve_index=False).schema

    def cleaned(batches):
        import tempfile

        import pyarrow.parquet as parquet

        with tempfile.TemporaryDirectory(prefix="mlgate-batch-") as folder:
            for i, batch in enumerate(batches):
                part = Path(folder) / f"rows-{i}.parquet"
                parquet.write_table(pa.Table.from_batches([batch]), part)
                data = plugin.load(part)
                part.unlink()
                frame = _with_target(data)
                yield from pa.Table.from_pandas(
                    frame, schema=schema, preserve_index=False
                ).to_batches()

    from pyspark.sql.pandas.types import from_arrow_schema

    frame = raw.mapInArrow(cleaned, from_arrow_schema(schema)).persist(_on_disk())
    return Loaded(
        path,
        frame,
        frame.count(),
        raw.count(),
        list(sample.features.columns),
        str(sample.target.name),
    )


def _on_disk():
    """Cached rows live on the workers' disks: millions of rows do not crowd Spark's heap."""
    from pyspark import StorageLevel

    return StorageLevel.DISK_ONLY


def _sample(plugin: ModelPlugin, path: Path, table: pa.Table) -> Dataset:
    """The plug-in's load of the file's first rows, for the cleaned columns' types."""
    import tempfile

    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory(prefix="mlgate-sample-") as folder:
        part = Path(folder) / path.name
        pq.write_table(table, part)
        return load_data(plugin, part)


def _with_target(data: Dataset) -> pd.DataFrame:
    frame = data.features.reset_index(drop=True)
    return frame.assign(**{TARGET: data.target.to_numpy()})


def watched_outputs(
    spark: SparkSession, loaded: Loaded, model_uri: str, task: Task, description: dict[str, Any]
) -> tuple[DataFrame, list[tuple[str, str]]]:
    """The champion's watched outputs per kept row (one column each) and the target, plus
    each output's (subject, kind)."""
    import mlflow
    from pyspark.sql import functions
    from pyspark.sql.types import ArrayType, DoubleType, StringType, StructField, StructType

    empty = task.no_outputs(description)
    result_type = DoubleType() if empty.ndim == 1 else ArrayType(DoubleType())
    log = logging.getLogger("mlflow.pyfunc")
    level = log.level
    log.setLevel(logging.ERROR)  # its warning on env_manager="local" says nothing here
    try:
        udf = mlflow.pyfunc.spark_udf(
            spark, model_uri, result_type=result_type, env_manager="local"
        )
    finally:
        log.setLevel(level)
    scored = loaded.frame.select(
        functions.col(TARGET),
        udf(*[functions.col(c) for c in loaded.features]).alias("__outputs"),
    )
    subjects = [(subject, kind) for subject, kind, _ in task.monitored(empty, description)]
    fields = [StructField(TARGET, loaded.frame.schema[TARGET].dataType)]
    fields += [StructField("__raw", result_type)]
    fields += [
        StructField(OUTPUT.format(i), DoubleType() if kind == "numeric" else StringType())
        for i, (_, kind) in enumerate(subjects)
    ]
    matrix = empty.ndim == 2

    def monitored(batches):
        for batch in batches:
            values = batch["__outputs"].to_numpy()
            if not len(values):
                outputs = empty
            else:
                outputs = np.stack(values) if matrix else values.astype(np.float64)
            columns = {TARGET: batch[TARGET], "__raw": batch["__outputs"]}
            for i, (_, _, watched) in enumerate(task.monitored(outputs, description)):
                columns[OUTPUT.format(i)] = watched
            yield pd.DataFrame(columns)

    frame = scored.mapInPandas(monitored, StructType(fields)).persist(_on_disk())
    return frame, subjects


def run_checks(
    spark: SparkSession,
    reference: Loaded,
    current: Loaded,
    plugin: ModelPlugin,
    champion: ChampionRef,
    task: Task,
    description: dict[str, Any],
    config: MonitoringConfig,
) -> tuple[list[Check], list[Distribution]]:
    """Every check, in the local engine's order: features, outputs, quality, performance."""
    results: list[Check] = []
    distributions: list[Distribution] = []
    for feature in plugin.watched:
        _known(current, feature.name)
        _known(reference, feature.name)
        rows, shares = _drift(reference.frame, current.frame, feature.name, feature.kind, config)
        results += rows
        distributions.append(shares)
    ref_out, subjects = watched_outputs(spark, reference, champion.model_uri, task, description)
    cur_out, _ = watched_outputs(spark, current, champion.model_uri, task, description)
    try:
        for i, (subject, kind) in enumerate(subjects):
            rows, shares = _drift(
                ref_out, cur_out, OUTPUT.format(i), kind, config, subject=subject, prediction=True
            )
            results += rows
            distributions.append(shares)
        results += _quality(reference, current, plugin, config)
        performance = _performance(cur_out, current, task, description, champion, config)
    finally:
        ref_out.unpersist()
        cur_out.unpersist()
    if performance is not None:
        results.append(performance)
    return results, distributions


def _drift(
    reference: DataFrame,
    current: DataFrame,
    column: str,
    kind: str,
    config: MonitoringConfig,
    *,
    subject: str | None = None,
    prediction: bool = False,
) -> tuple[list[Check], Distribution]:
    if kind == "categorical":
        binned, test = drift.categorical(reference, current, column, config.top_k)
    else:
        binned, test = drift.numeric(reference, current, column, config.bins)
    name = subject or column
    return checks.drift_rows(name, kind, binned, test, config, prediction=prediction)


def _quality(
    reference: Loaded, current: Loaded, plugin: ModelPlugin, config: MonitoringConfig
) -> list[Check]:
    ref, cur = (
        drift.quality(reference.frame, plugin.watched),
        drift.quality(current.frame, plugin.watched),
    )
    shares = [
        checks.Shares(
            feature,
            (ref[feature.name][0], cur[feature.name][0]),
            None
            if ref[feature.name][1] is None
            else (ref[feature.name][1], cur[feature.name][1] or 0.0),
        )
        for feature in plugin.watched
    ]
    dropped = tuple(
        (data.rows_raw - data.rows) / data.rows_raw if data.rows_raw else 0.0
        for data in (reference, current)
    )
    return checks.quality_rows(dropped, shares, config)  # type: ignore[arg-type]


def _performance(
    outputs: DataFrame,
    current: Loaded,
    task: Task,
    description: dict[str, Any],
    champion: ChampionRef,
    config: MonitoringConfig,
) -> Check | None:
    """The gate metric on the current month: its target and the champion's outputs, the one
    table this engine brings to the driver."""
    if champion.recorded is None:
        return None
    # Parts of at most COLLECT_ROWS rows, so no task's result outgrows a worker's memory.
    parts = max(1, -(-current.rows // COLLECT_ROWS))
    table = outputs.select(TARGET, "__raw").repartition(parts).toArrow().to_pandas()
    raw = table["__raw"].to_numpy()
    values = np.stack(raw) if len(raw) and np.ndim(raw[0]) else raw.astype(np.float64)
    if not len(raw):
        values = task.no_outputs(description)
    data = Dataset(
        path=current.path,
        features=pd.DataFrame(index=range(len(table))),
        target=table[TARGET].rename(current.target),
        rows_raw=current.rows_raw,
    )
    outs = checks.Outputs(task, description, values, values)
    return checks.performance_check(data, outs, champion, config.performance_tolerance)


def _known(data: Loaded, column: str) -> None:
    if column not in data.features:
        raise UserError(
            f"{data.path}: watched feature {column!r} is not among the loaded columns "
            f"({', '.join(data.features)})"
        )
