"""Batch scoring: every row of the file is scored, in order, streamed in bounded batches, and
the output appears only once complete."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlgate.contract import Dataset, ModelPlugin, Target
from mlgate.errors import UserError
from mlgate.serving.batch import PREDICTION, ROW, score_file


class Sums(ModelPlugin):
    """A tiny plug-in: the model's inputs are columns a and b of any file."""

    name: ClassVar[str] = "sums"
    title: ClassVar[str] = "sums"
    target: ClassVar[Target] = Target(name="y", unit="", label="y")

    def load(self, path: Path) -> Dataset:
        raise NotImplementedError

    def feature_steps(self) -> list[tuple[str, Any]]:
        return []

    def raw_features(self, table: pd.DataFrame) -> pd.DataFrame:
        return table.loc[:, ["a", "b"]]

    def raw_columns(self) -> list[str]:
        return ["a", "b"]


class SumModel:
    """Predicts a + 10 b, NaN as 0, and remembers the batch sizes it saw."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        self.batches.append(len(frame))
        return (frame["a"].fillna(0) + 10 * frame["b"].fillna(0)).to_numpy(dtype=float)


class Refuses:
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        raise ValueError("Failed to enforce schema: column b has the wrong type")


def _write(path: Path, rows: int, row_group: int, **extra: Any) -> pd.DataFrame:
    rng = np.random.default_rng(rows)
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.integers(0, 9, rows), **extra})
    frame.loc[frame.index[::7], "a"] = np.nan
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path, row_group_size=row_group)
    return frame


@pytest.mark.parametrize(
    ("rows", "row_group", "batch_rows"),
    [(1, 1, 10), (100, 100, 1000), (1000, 128, 100), (2500, 1000, 333)],
    ids=["one-row", "one-group", "many-groups", "uneven"],
)
def test_every_row_is_scored_in_order_in_bounded_batches(
    tmp_path: Path, rows: int, row_group: int, batch_rows: int
) -> None:
    frame = _write(tmp_path / "in.parquet", rows, row_group, note=["x"] * rows)
    model = SumModel()
    scored = score_file(
        model, Sums(None), tmp_path / "in.parquet", tmp_path / "out.parquet", batch_rows=batch_rows
    )
    out = pq.read_table(tmp_path / "out.parquet").to_pandas()
    assert scored.rows == rows == len(out)
    assert list(out.columns) == [ROW, PREDICTION]
    np.testing.assert_array_equal(out[ROW], np.arange(rows))
    expected = frame["a"].fillna(0) + 10 * frame["b"]
    np.testing.assert_allclose(out[PREDICTION], expected)
    assert max(model.batches) <= batch_rows
    assert sum(model.batches) == rows


def test_refused_rows_are_one_line_and_leave_no_output(tmp_path: Path) -> None:
    _write(tmp_path / "in.parquet", 50, 10)
    out = tmp_path / "out.parquet"
    with pytest.raises(UserError) as error:
        score_file(Refuses(), Sums(None), tmp_path / "in.parquet", out)
    message = str(error.value)
    assert "\n" not in message
    assert "in.parquet" in message
    assert "position 0" in message
    assert "column b has the wrong type" in message
    assert list(tmp_path.iterdir()) == [tmp_path / "in.parquet"]


def test_a_previous_output_survives_a_failed_run(tmp_path: Path) -> None:
    _write(tmp_path / "in.parquet", 50, 10)
    out = tmp_path / "out.parquet"
    out.write_bytes(b"previous")
    with pytest.raises(UserError):
        score_file(Refuses(), Sums(None), tmp_path / "in.parquet", out)
    assert out.read_bytes() == b"previous"
    assert not (tmp_path / "out.parquet.tmp").exists()


BAD_FILES = {
    "missing": (lambda p: None, "data file not found"),
    "not-parquet": (lambda p: p.write_text("a,b\n1,2\n"), "not a readable parquet file"),
    "missing-column": (
        lambda p: pq.write_table(pa.table({"a": [1.0], "c": [2]}), p),
        "missing required column(s) b",
    ),
}


@pytest.mark.parametrize(("make", "words"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_input_is_a_one_line_error_naming_the_file(tmp_path: Path, make, words: str) -> None:
    path = tmp_path / "in.parquet"
    make(path)
    with pytest.raises(UserError) as error:
        score_file(SumModel(), Sums(None), path, tmp_path / "out.parquet")
    assert "\n" not in str(error.value)
    assert str(path) in str(error.value)
    assert words in str(error.value)
    assert not (tmp_path / "out.parquet").exists()
