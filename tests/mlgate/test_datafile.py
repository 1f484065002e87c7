"""Data read through any plug-in: a repeated column or an integer past float precision is one
line naming the file and the column, before a model or MLflow sees it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlgate.datafile import load_data
from mlgate.errors import UserError
from support import diabetes


def _duplicated(table: pa.Table, column: str) -> pa.Table:
    return pa.table([*table.columns, table.column(column)], names=[*table.column_names, column])


def _huge_integer(table: pa.Table, column: str) -> pa.Table:
    values = pa.array([2**62] * table.num_rows, pa.int64())
    return table.set_column(table.schema.get_field_index(column), column, values)


CASES = {
    "duplicated-feature": (_duplicated, "bmi"),
    "duplicated-target": (_duplicated, diabetes.TARGET),
    "id-of-2**62": (_huge_integer, "age"),
    "another-of-2**62": (_huge_integer, "s3"),
}


@pytest.mark.parametrize(("change", "column"), CASES.values(), ids=CASES.keys())
def test_hostile_column_is_one_line_naming_file_and_column(
    tmp_path: Path, change, column: str
) -> None:
    diabetes.write_months(tmp_path / "data")
    path = tmp_path / "hostile.parquet"
    pq.write_table(change(pq.read_table(tmp_path / "data" / "train.parquet"), column), path)
    with pytest.raises(UserError) as raised:
        load_data(diabetes.Diabetes(diabetes.DiabetesOptions()), path)
    message = str(raised.value)
    assert "\n" not in message
    assert str(path) in message
    assert repr(column) in message


def test_ordinary_data_loads_unchanged(tmp_path: Path) -> None:
    diabetes.write_months(tmp_path)
    plugin = diabetes.Diabetes(diabetes.DiabetesOptions())
    guarded = load_data(plugin, tmp_path / "train.parquet")
    assert guarded.features.equals(plugin.load(tmp_path / "train.parquet").features)
