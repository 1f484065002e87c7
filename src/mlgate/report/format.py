"""Numbers, booleans, sizes and durations for people: one format each, across the comment."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from mlgate.report.escape import DASH, Md, text

DIGITS = 3


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def number(value: float | None, digits: int = DIGITS) -> Md:
    """1,234.568; "n/a" for NaN, ∞ for infinities, a dash for nothing."""
    if value is None:
        return Md(DASH)
    if math.isnan(value):
        return Md("n/a")
    if math.isinf(value):
        return Md("\u221e" if value > 0 else "-\u221e")
    return Md(f"{value:,.{digits}f}")


def signed(value: float | None, digits: int = DIGITS) -> Md:
    return Md(f"{value:+,.{digits}f}") if finite(value) else Md(DASH)


def percent(fraction: float | None) -> Md:
    """A fraction as a signed percentage: 0.043 → +4.3%."""
    return Md(f"{fraction * 100:+.1f}%") if finite(fraction) else Md(DASH)


def boolean(value: bool | None) -> Md:
    """The comment's one way to write a boolean value."""
    return Md(DASH if value is None else ("true" if value else "false"))


def size(n_bytes: int | None) -> Md:
    if n_bytes is None:
        return Md(DASH)
    if n_bytes < 1024:
        return Md(f"{n_bytes} B")
    if n_bytes < 1024**2:
        return Md(f"{n_bytes / 1024:,.1f} KB")
    if n_bytes < 1024**3:
        return Md(f"{n_bytes / 1024**2:,.2f} MB")
    return Md(f"{n_bytes / 1024**3:,.2f} GB")


def duration(seconds: float | None) -> Md:
    if not finite(seconds) or seconds < 0:
        return Md(DASH)
    if seconds < 1:
        return Md(f"{seconds * 1000:.0f} ms")
    if seconds < 60:
        return Md(f"{seconds:.1f} s")
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return Md(f"{minutes} min {rest:02d} s")
    hours, minutes = divmod(minutes, 60)
    return Md(f"{hours} h {minutes:02d} min")


def milliseconds(value: float | None) -> Md:
    return Md(f"{value:,.2f} ms") if finite(value) else Md(DASH)


def timestamp(raw: str) -> Md:
    try:
        moment = datetime.fromisoformat(raw.strip())
        if moment.tzinfo is None:
            return Md(moment.strftime("%Y-%m-%d %H:%M:%S"))
        return Md(moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
    except (ValueError, OverflowError):
        return text(raw, 40)


def param(value: object) -> str:
    """A hyperparameter as text, the same whether it came typed or as MLflow's stored string."""
    if value is None or value == "None":
        return "unset"
    if isinstance(value, bool) or value in ("True", "False"):
        return str(value).lower()
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    return str(value)


def short_param(value: object) -> str:
    """A searched value as a reviewer reads it: floats to 4 significant digits (0.06253)."""
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.4g}"
    return param(value)


def same_param(a: object, b: object) -> bool:
    """MLflow stores params as text, so a typed value and its string form are the same."""
    if param(a) == param(b):
        return True
    try:
        return float(str(a)) == float(str(b))
    except ValueError:
        return False


def finalize(value: object) -> str:
    """What the template environment does with every `{{ expression }}` it outputs.

    `Md` passes; numbers, booleans and None get the report's one format; everything else,
    `Markup` included, is escaped as untrusted text.
    """
    if isinstance(value, Md):
        return value
    if value is None:
        return DASH
    if isinstance(value, bool):
        return boolean(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return number(value)
    return text(value)
