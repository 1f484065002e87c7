"""A Markdown table as the template sees it: escaped cells in rows, and how to align them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mlgate.report.escape import DASH, Md

MAX_ROWS = 50


@dataclass(frozen=True)
class Table:
    """`align` has one letter per column: "l" left, "r" right; `more` rows were left out."""

    header: list[Md]
    align: str
    rows: list[list[Md]] = field(default_factory=list)
    more: int = 0

    @property
    def separator(self) -> Md:
        return Md("|" + "|".join(":---" if a == "l" else "---:" for a in self.align) + "|")


def capped(header: list[Md], align: str, rows: list[list[Md]], limit: int = MAX_ROWS) -> Table:
    """Keep a long table readable: the first rows, and how many were left out."""
    return Table(header, align, rows[:limit], max(0, len(rows) - limit))


def bold(cells: Iterable[Md]) -> list[Md]:
    return [Md(f"**{c}**") if c != DASH else c for c in cells]
