"""The JSON report and its Markdown: rehearsed before a version is registered, then written
together.

A version registered with no report (or a report.json without its report.md) is half a
result. So the training job renders both documents and writes them in full to their `.tmp`
siblings before registering (a missing or broken template, a full disk, a device in the way
all fail there), and after registering it writes them again with the version and moves both
into place, with nothing in between that can fail for want of space.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from mlgate.errors import UserError
from mlgate.report.document import Report, check_writable


class ReportOutputs:
    """Where `train` puts its report, and how the Markdown is rendered from it."""

    def __init__(self, json_path: Path, markdown_path: Path, render: Callable[[Report], str]):
        self.json_path = json_path
        self.markdown_path = markdown_path
        self._render = render
        check_writable(json_path, markdown_path)

    def _pairs(self, report: Report) -> list[tuple[Path, str, str]]:
        text = report.model_dump_json(indent=2) + "\n"
        markdown = self._render(report)
        return [
            (self.json_path, text, "the report"),
            (self.markdown_path, markdown, "the Markdown report"),
        ]

    def rehearse(self, report: Report) -> None:
        """Render both documents and write them in full beside their targets, then remove them."""
        try:
            for path, text, what in self._pairs(report):
                _stage(path, text, what)
        finally:
            self.discard()

    def commit(self, report: Report) -> None:
        """Write both documents, then move both into place; on failure neither is changed."""
        try:
            staged = [(_stage(path, text, what), path) for path, text, what in self._pairs(report)]
            for tmp, path in staged:
                os.replace(tmp, path)
        except OSError as exc:
            raise UserError(f"{self.json_path}: cannot write the report ({_reason(exc)})") from None
        finally:
            self.discard()

    def remove(self) -> None:
        """Take written documents back (a registration that was undone has no report)."""
        for path in (self.json_path, self.markdown_path):
            path.unlink(missing_ok=True)

    def discard(self) -> None:
        for path in (self.json_path, self.markdown_path):
            tmp = _tmp(path)
            if tmp.is_file():
                tmp.unlink()


def _tmp(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def _stage(path: Path, text: str, what: str) -> Path:
    """`text` in `path`'s .tmp sibling, on disk (flushed and synced), so space is proven."""
    tmp = _tmp(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise UserError(f"{path}: cannot write {what} ({_reason(exc)})") from None
    return tmp


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc).splitlines()[0]
