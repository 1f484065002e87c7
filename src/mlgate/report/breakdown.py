"""A classifier's breakdown in the report document: confusion matrix, per-class figures and
curves, as the task adapter computed them on the validation rows.

The comment workflow reads reports that PR code wrote, so the shapes are checked here: a
square matrix over the listed classes, one entry per class, curves in [0, 1] on one grid.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_CLASSES = 1000
MAX_CURVE_POINTS = 101


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClassFigures(_Doc):
    label: str = Field(max_length=200)
    support: int = Field(ge=0)
    precision: float = Field(ge=0, le=1)
    recall: float = Field(ge=0, le=1)
    f1: float = Field(ge=0, le=1)


class Curve(_Doc):
    """`y` read off at each `x` of a shared grid (false-positive rate, or recall)."""

    x: list[float] = Field(min_length=2, max_length=MAX_CURVE_POINTS)
    y: list[float] = Field(min_length=2, max_length=MAX_CURVE_POINTS)

    @model_validator(mode="after")
    def _on_the_grid(self) -> Curve:
        if len(self.x) != len(self.y):
            raise ValueError("a curve needs one y per x")
        if any(not 0 <= v <= 1 for v in (*self.x, *self.y)):
            raise ValueError("curve points must lie in [0, 1]")
        return self


class Breakdown(_Doc):
    classes: list[str] = Field(min_length=2, max_length=MAX_CLASSES)
    confusion: list[list[int]]  # rows: true class, columns: predicted class
    per_class: list[ClassFigures]
    roc: Curve | None = None
    pr: Curve | None = None

    @model_validator(mode="after")
    def _square(self) -> Breakdown:
        k = len(self.classes)
        if len(self.confusion) != k or any(len(row) != k for row in self.confusion):
            raise ValueError(f"the confusion matrix must be {k}x{k}, one row per class")
        if any(n < 0 for row in self.confusion for n in row):
            raise ValueError("confusion counts cannot be negative")
        if [c.label for c in self.per_class] != self.classes:
            raise ValueError("per_class must list the classes in order")
        return self
