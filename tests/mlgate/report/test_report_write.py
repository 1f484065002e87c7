"""Writing the report atomically: a write that fails is one line naming the file, and leaves no
temporary file behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.errors import UserError
from mlgate.report.document import Report, check_writable


def _report() -> Report:
    return Report.model_validate(
        {
            "generated_at": "2026-01-01T00:00:00Z",
            "status": {"outcome": "failure", "failed_step": "tests"},
        }
    )


def test_a_failed_write_leaves_no_tmp_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.mkdir()
    with pytest.raises(UserError) as raised:
        _report().write(target)
    assert str(target) in str(raised.value)
    assert "\n" not in str(raised.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_a_successful_write_leaves_only_the_report(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "report.json"
    _report().write(target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]


@pytest.mark.parametrize("kind", ["directory", "parent-is-a-file", "read-only-filesystem"])
def test_check_writable_names_the_path(tmp_path: Path, kind: str) -> None:
    if kind == "directory":
        path = tmp_path / "report.json"
        path.mkdir()
    elif kind == "parent-is-a-file":
        (tmp_path / "out").write_text("x", encoding="utf-8")
        path = tmp_path / "out" / "report.json"
    else:
        path = Path("/proc/report.json")
    with pytest.raises(UserError) as raised:
        check_writable(path)
    assert str(path) in str(raised.value)


def test_check_writable_leaves_nothing_behind(tmp_path: Path) -> None:
    """No probe file, and no folder made before the command has anything to write."""
    check_writable(tmp_path / "out" / "nested" / "report.json")
    assert list(tmp_path.iterdir()) == []
