"""Where the champion's logged training file is looked for, and how its source is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate.monitoring.reference import LoggedInput, _source, candidates


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            json.dumps({"uri": "/runner/work/repo/data/m.parquet"}),
            "/runner/work/repo/data/m.parquet",
        ),
        (
            json.dumps({"uri": "file:///runner/work/my%20repo/m.parquet"}),
            "/runner/work/my repo/m.parquet",
        ),
        ("data/m.parquet", "data/m.parquet"),
        (json.dumps({"uri": "s3://bucket/m.parquet"}), "s3://bucket/m.parquet"),
    ],
)
def test_logged_source_to_path(raw: str, expected: str) -> None:
    assert _source(raw) == expected


def _logged(source: str) -> LoggedInput:
    return LoggedInput("m.parquet", "abcd1234", "local", source)


def test_recorded_path_first_then_the_same_tail_under_the_root(tmp_path: Path) -> None:
    found = candidates(_logged("/home/runner/work/trips/trips/data/m.parquet"), tmp_path)
    assert found[0] == Path("/home/runner/work/trips/trips/data/m.parquet")
    assert tmp_path / "data" / "m.parquet" in found
    assert found[-1] == tmp_path / "m.parquet"
    assert len(found) == len(set(found))


def test_relative_source_is_under_the_root(tmp_path: Path) -> None:
    found = candidates(_logged("data/m.parquet"), tmp_path)
    assert found[0] == tmp_path / "data" / "m.parquet"
