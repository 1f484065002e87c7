"""Data files read through a model plug-in, guarded against what no plug-in should have to
expect: a parquet file naming one column twice, integers past float precision, and a plug-in's
own Arrow or key errors. Each becomes one line naming the file (and the column).

A file in object storage (`s3://`, `gs://`, `abfs://`; `mlgate.storage`) is staged to a private
local copy for the plug-in, which is removed once loaded; the `Dataset` then names the URI
(`storage.Uri`, a str with a file name), never the copy, and the object's version or ETag
comes back with it for lineage.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mlgate import storage
from mlgate.contract import Dataset, ModelPlugin
from mlgate.errors import UserError
from mlgate.storage import Location, Origin

EXACT_FLOAT_INT = 2**53
"""Integers beyond this lose digits as the float64 that models and MLflow's schemas use."""


def load_data(plugin: ModelPlugin, path: Location) -> Dataset:
    """`plugin.load(path)`, with the file's columns checked first and its features after."""
    return load_located(plugin, path)[0]


def load_located(plugin: ModelPlugin, where: Location) -> tuple[Dataset, Origin | None]:
    """`load_data`, and for an object in a bucket what was read (its version or ETag)."""
    with storage.local_copy(where) as (path, origin):
        _check_columns(path, where)
        try:
            data = plugin.load(path)
        except UserError as exc:
            if origin is None:
                raise
            # The plug-in names the file it was given: name the object instead.
            raise UserError(str(exc).replace(str(path), str(where))) from None
        except (pa.ArrowException, KeyError, OverflowError) as exc:
            raise UserError(f"{where}: cannot load the data ({_first_line(exc)})") from None
    if origin is not None:
        data = dataclasses.replace(data, path=where)
    _check_features(where, data.features)
    return data, origin


def _check_columns(path: Path, where: Location) -> None:
    if path.suffix.lower() != ".parquet" or not path.is_file():
        return  # the plug-in reads its own formats and reports a missing file itself
    try:
        names = pq.read_schema(path).names
    except (OSError, pa.ArrowException):
        return  # unreadable: the plug-in says so in its own words
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise UserError(f"{where}: column {repeated[0]!r} appears more than once")


def _check_features(path: Location, features: pd.DataFrame) -> None:
    for name in features.columns:
        column = features[name]
        if isinstance(column, pd.DataFrame):
            raise UserError(f"{path}: column {name!r} appears more than once")
        if pd.api.types.is_integer_dtype(column.dtype) and len(column):
            values = column.dropna()
            if len(values) and (np.abs(values.astype("float64")) > EXACT_FLOAT_INT).any():
                raise UserError(
                    f"{path}: column {name!r} holds integers beyond 2**53, which a model's "
                    "float inputs cannot represent"
                )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
