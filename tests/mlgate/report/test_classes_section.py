"""The comment's classifier section: class balance, confusion matrices side by side, per-class
figures and curves, built from breakdowns the task adapters compute on generated labels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from mlgate import tasks
from mlgate.report.breakdown import Breakdown
from mlgate.report.markdown import render_markdown
from mlgate.report.sections_classes import MAX_CLASS_ROWS, MAX_MATRIX_CLASSES
from support.report_cases import HOSTILE, assert_inert, make_report, table_after

ROWS = 600


def breakdown(k: int, seed: int, classes: list[Any] | None = None) -> dict[str, Any]:
    """A model's breakdown on ROWS labels of k classes with uneven priors, by its task."""
    rng = np.random.default_rng(seed)
    labels = classes or [f"c{i:02d}" for i in range(k)]
    prior = np.arange(1, k + 1, dtype=float)[::-1]
    truth = rng.choice(len(labels), size=ROWS, p=prior / prior.sum())
    scores = rng.random((ROWS, k)) + np.eye(k)[truth] * 0.4
    proba = scores / scores.sum(axis=1, keepdims=True)
    task = tasks.adapter("binary" if k == 2 else "multiclass")
    record = {"task": task.name, "classes": sorted(labels), "decision_threshold": 0.5}
    target = pd.Series(np.asarray(sorted(labels), dtype=object)[truth])
    raw = task.breakdown(target, proba, record)
    assert raw is not None
    return raw


def rendered(k: int, champion_classes: list[str] | None = None) -> tuple[str, dict, dict]:
    mine, theirs = breakdown(k, 1), breakdown(k, 2, champion_classes)
    report = make_report(candidate={"breakdown": mine}, champion={"breakdown": theirs})
    return render_markdown(report), mine, theirs


@pytest.mark.parametrize("k", [2, 3, 12, 13, 25])
def test_the_section_fits_the_number_of_classes(k: int) -> None:
    md, mine, theirs = rendered(k)
    section = md.split("#### Classes", 1)[1].split("\n#### ", 1)[0]

    balance = table_after(md, "#### Classes")[2:]
    assert len(balance) == min(k, MAX_CLASS_ROWS) + (k > MAX_CLASS_ROWS)
    rows = sum(int(row[1].replace(",", "")) for row in balance)
    assert rows == ROWS
    supports = [int(row[1].replace(",", "")) for row in balance[:MAX_CLASS_ROWS]]
    assert supports == sorted(supports, reverse=True)

    if k <= MAX_MATRIX_CLASSES:
        matrix = table_after(md, "Confusion matrix")[2:]
        assert len(matrix) == k
        mine_cells = [[int(c) for c in row[1 : k + 1]] for row in matrix]
        theirs_cells = [[int(c) for c in row[k + 2 :]] for row in matrix]
        assert mine_cells == mine["confusion"]
        assert theirs_cells == theirs["confusion"]
        assert sum(map(sum, mine_cells)) == ROWS
    else:
        assert "too many for a confusion matrix" in section

    if k > 2:
        header = next(line for line in section.splitlines() if "| Precision |" in line)
        assert header.rstrip("|").rsplit("|", 1)[1].strip() == "Champion v3's F1"
        per_class = table_after(md, "| Precision |")[1:]
        assert sum(int(row[1].replace(",", "")) for row in per_class) == ROWS
        if k > MAX_CLASS_ROWS:
            assert per_class[-1][0] == f"{k - MAX_CLASS_ROWS} other classes (weighted)"
    else:
        assert "| Precision |" not in section
    assert section.count("xychart-beta") == (2 if k == 2 else 0)


def test_a_champion_with_other_classes_is_not_set_beside_the_candidate() -> None:
    md, _, _ = rendered(3, champion_classes=["x", "y", "z"])
    assert "columns the candidate's." in md
    assert "\u2016" not in md
    assert "Champion v3's F1" not in md


def test_class_names_are_inert_text() -> None:
    hostile = breakdown(3, 1, classes=[HOSTILE, "b", "c"])
    md = render_markdown(make_report(candidate={"breakdown": hostile}))
    assert "#### Classes" in md
    assert_inert(md)


def test_a_regressor_has_no_classes_section() -> None:
    assert "#### Classes" not in render_markdown(make_report())


def _broken(change: str) -> dict[str, Any]:
    raw = breakdown(3, 1)
    if change == "not square":
        raw["confusion"] = raw["confusion"][:2]
    elif change == "negative count":
        raw["confusion"][0][0] = -1
    elif change == "classes out of order":
        raw["per_class"] = raw["per_class"][::-1]
    elif change == "curve outside [0, 1]":
        raw["roc"] = {"x": [0.0, 1.0], "y": [0.0, 1.5]}
    elif change == "curve of two lengths":
        raw["pr"] = {"x": [0.0, 0.5, 1.0], "y": [1.0, 0.5]}
    return raw


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("not square", "must be 3x3"),
        ("negative count", "cannot be negative"),
        ("classes out of order", "in order"),
        ("curve outside [0, 1]", "in [0, 1]"),
        ("curve of two lengths", "one y per x"),
    ],
)
def test_a_breakdown_from_an_artifact_is_checked(change: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Breakdown.model_validate(_broken(change))
