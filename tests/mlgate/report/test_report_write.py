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


def _summary_target(tmp_path: Path, kind: str) -> Path:
    if kind == "directory":
        (tmp_path / "summary").mkdir()
        return tmp_path / "summary"
    if kind == "parent-is-a-file":
        (tmp_path / "file").write_text("x", encoding="utf-8")
        return tmp_path / "file" / "summary.md"
    if kind == "full-device":
        return Path("/dev/full")
    return Path("/proc/mlgate-summary.md")


@pytest.mark.parametrize(
    "kind", ["directory", "parent-is-a-file", "full-device", "read-only-filesystem"]
)
def test_an_unwritable_step_summary_is_one_warning(tmp_path: Path, kind: str, capsys) -> None:
    """The summary is best effort: the command's own outcome stands."""
    from mlgate.report.markdown import write_step_summary

    target = _summary_target(tmp_path, kind)
    assert (
        write_step_summary("### Rollback\n\ndone\n", {"GITHUB_STEP_SUMMARY": str(target)}) is None
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("warning: GITHUB_STEP_SUMMARY")
    assert str(target) in err


@pytest.mark.parametrize(
    "where",
    ["name", "folder"],
)
def test_check_writable_refuses_a_component_over_255_bytes(tmp_path: Path, where: str) -> None:
    long = "r" * 256
    path = tmp_path / f"{long}.json" if where == "name" else tmp_path / long / "report.json"
    with pytest.raises(UserError) as raised:
        check_writable(path, path.with_suffix(".md"))
    message = str(raised.value)
    assert "\n" not in message
    assert "255 bytes" in message
