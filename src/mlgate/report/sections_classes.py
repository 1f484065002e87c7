"""The classifier section of the comment's view model: class balance, confusion matrices of
candidate and champion side by side, per-class figures, and the ROC and precision-recall
curves. A regressor's report carries no breakdown, so the section is None and stays empty."""

from __future__ import annotations

from dataclasses import dataclass

from mlgate.report import format as fmt
from mlgate.report.breakdown import Breakdown, ClassFigures, Curve
from mlgate.report.document import Champion, Report
from mlgate.report.escape import DASH, Md, code, mermaid
from mlgate.report.sections import Chart, champion_name
from mlgate.report.table import Table

MAX_MATRIX_CLASSES = 12
"""Wider confusion matrices do not fit a comment; the per-class table still shows them."""
MAX_CLASS_ROWS = 20
"""Classes listed by support; the rest are summed in one row."""


@dataclass(frozen=True)
class Classes:
    heading: Md
    balance: Table
    confusion_note: Md
    confusion: Table | None
    per_class: Table | None
    curves: list[Chart]


def classes(report: Report) -> Classes | None:
    """None unless the candidate is a classifier with a breakdown."""
    mine = report.candidate.breakdown if report.candidate else None
    if mine is None:
        return None
    champion = report.champion
    theirs = champion.breakdown if champion and champion.comparable else None
    if theirs is not None and theirs.classes != mine.classes:
        theirs = None  # another set of classes: its matrix would not line up
    name = champion_name(champion) if theirs is not None else None
    return Classes(
        heading=Md("Classes"),
        balance=_balance(mine),
        confusion_note=_confusion_note(mine, name),
        confusion=(
            _confusion(mine, theirs, name) if len(mine.classes) <= MAX_MATRIX_CLASSES else None
        ),
        per_class=_per_class(mine, theirs, name) if len(mine.classes) > 2 else None,
        curves=_curves(mine, theirs, champion),
    )


def _label(value: str) -> Md:
    return code(value, 40)


def _by_support(figures: list[ClassFigures]) -> tuple[list[ClassFigures], list[ClassFigures]]:
    ranked = sorted(figures, key=lambda f: (-f.support, f.label))
    return ranked[:MAX_CLASS_ROWS], ranked[MAX_CLASS_ROWS:]


def _balance(mine: Breakdown) -> Table:
    """Validation rows per class, most frequent first."""
    total = sum(f.support for f in mine.per_class) or 1
    shown, rest = _by_support(mine.per_class)
    rows = [[_label(f.label), Md(f"{f.support:,}"), _share(f.support, total)] for f in shown]
    if rest:
        support = sum(f.support for f in rest)
        rows.append([Md(f"{len(rest)} other classes"), Md(f"{support:,}"), _share(support, total)])
    return Table([Md("Class"), Md("Validation rows"), Md("Share")], "lrr", rows)


def _share(part: int, total: int) -> Md:
    return Md(f"{part / total * 100:.1f}%")


def _confusion_note(mine: Breakdown, champion: Md | None) -> Md:
    if len(mine.classes) > MAX_MATRIX_CLASSES:
        return Md(
            f"_{len(mine.classes)} classes: too many for a confusion matrix here; "
            "the per-class figures below show each class._"
        )
    whose = f"the candidate's predictions, then {champion}'s" if champion else "the candidate's"
    return Md(f"Confusion matrix on the validation rows: rows are the true class, columns {whose}.")


def _confusion(mine: Breakdown, theirs: Breakdown | None, champion: Md | None) -> Table:
    labels = [_label(c) for c in mine.classes]
    header = [Md("True class \u2193 \u00b7 candidate \u2192"), *labels]
    if theirs is not None:
        header += [Md(f"\u2016 {champion} \u2192"), *labels]
    rows = []
    for i, label in enumerate(labels):
        cells = [label, *(Md(f"{n:,}") for n in mine.confusion[i])]
        if theirs is not None:
            cells += [Md("\u2016"), *(Md(f"{n:,}") for n in theirs.confusion[i])]
        rows.append(cells)
    return Table(header, "l" + "r" * (len(header) - 1), rows)


def _per_class(mine: Breakdown, theirs: Breakdown | None, champion: Md | None) -> Table:
    """Precision, recall and F1 per class, with the champion's F1 beside; the classes past
    MAX_CLASS_ROWS by support are one row, weighted by their support."""
    their_f1 = {f.label: f.f1 for f in theirs.per_class} if theirs else {}
    shown, rest = _by_support(mine.per_class)
    header = [Md("Class"), Md("Support"), Md("Precision"), Md("Recall"), Md("F1")]
    header += [Md(f"{champion}'s F1")] if champion else []
    rows = []
    for f in shown:
        cells = [_label(f.label), Md(f"{f.support:,}"), *_figures(f.precision, f.recall, f.f1)]
        cells += [fmt.number(their_f1.get(f.label))] if champion else []
        rows.append(cells)
    if rest:
        rows.append(_rest_row(rest, their_f1, champion is not None))
    return Table(header, "l" + "r" * (len(header) - 1), rows)


def _figures(*values: float) -> list[Md]:
    return [fmt.number(v) for v in values]


def _rest_row(
    rest: list[ClassFigures], their_f1: dict[str, float], with_champion: bool
) -> list[Md]:
    support = sum(f.support for f in rest)

    def weighted(values: list[float]) -> float | None:
        if not support:
            return None
        return sum(v * f.support for v, f in zip(values, rest, strict=True)) / support

    cells = [
        Md(f"{len(rest)} other classes (weighted)"),
        Md(f"{support:,}"),
        fmt.number(weighted([f.precision for f in rest])),
        fmt.number(weighted([f.recall for f in rest])),
        fmt.number(weighted([f.f1 for f in rest])),
    ]
    if with_champion:
        known = [their_f1.get(f.label) for f in rest]
        value = weighted([v for v in known if v is not None]) if None not in known else None
        cells.append(fmt.number(value) if value is not None else Md(DASH))
    return cells


def _curves(mine: Breakdown, theirs: Breakdown | None, champion: Champion | None) -> list[Chart]:
    """ROC and precision-recall, the candidate in the first colour, the champion in the second."""
    charts = []
    for attr, title, axis in (
        ("roc", "ROC curve", "True-positive rate by false-positive rate"),
        ("pr", "Precision-recall curve", "Precision by recall"),
    ):
        curve: Curve | None = getattr(mine, attr)
        if curve is None:
            continue
        other: Curve | None = getattr(theirs, attr) if theirs else None
        if other is not None and other.x != curve.x:
            other = None
        whose = f" and {champion_name(champion)} (second)" if other is not None else ""
        charts.append(
            Chart(
                heading=Md(f"{title}: the candidate (first colour){whose}"),
                name=Md(mermaid(axis, 60)),
                title=Md(mermaid(title, 40)),
                labels=[Md(f'"{x:.2f}"') for x in curve.x],
                values=[Md(f"{y:.3f}") for y in curve.y],
                low=Md("0"),
                high=Md("1"),
                line=[Md(f"{y:.3f}") for y in other.y] if other is not None else None,
            )
        )
    return charts
