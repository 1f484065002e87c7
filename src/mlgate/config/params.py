"""Hyperparameter values, from `--param NAME=VALUE` or `[tool.mlgate.model] params`: read as
TOML scalars and refused, in one line, when no estimator could take them."""

from __future__ import annotations

import math
import tomllib
import unicodedata
from typing import Any

from mlgate.errors import UserError

MAX_PARAM_INT = 2**31 - 1
"""Larger integers overflow the C integers scikit-learn's compiled estimators take."""
MAX_PARAM_CHARS = 200
CONTROL = frozenset({"Cc", "Zl", "Zp"})
"""Unicode categories refused in a --param: control characters and line or paragraph breaks."""


def check_param_value(name: str, value: Any) -> None:
    """Refuse numbers no estimator can take (they fail deep inside a fit, or never finish)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int) and abs(value) > MAX_PARAM_INT:
        raise ValueError(f"{name}: {_short(value)} is beyond ±{MAX_PARAM_INT} (2**31 - 1)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name}: must be a finite number, got {value}")
    if isinstance(value, str) and len(value) > MAX_PARAM_CHARS:
        raise ValueError(f"{name}: value is longer than {MAX_PARAM_CHARS} characters")


def _short(value: Any) -> str:
    text = str(value) if not isinstance(value, int) or abs(value) < 10**30 else "a huge integer"
    return text if len(text) <= 40 else text[:39] + "\u2026"


def parse_param(text: str) -> tuple[str, str | int | float | bool | None]:
    """`max_depth=4` → ("max_depth", 4): values are read as TOML scalars, else kept as strings."""
    if any(unicodedata.category(c) in CONTROL for c in text):
        # A newline or an escape sequence would break (or forge) the one error line later.
        raise UserError(
            f"--param {_shown(text)}: control characters (newline, tab, escape…) are not "
            "allowed in a name or value"
        )
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"--param {_shown(text)}: expected NAME=VALUE, e.g. max_depth=4")
    if len(value.strip()) > MAX_PARAM_CHARS:
        raise UserError(f"--param {key.strip()}: value is longer than {MAX_PARAM_CHARS} characters")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    if isinstance(parsed, dict | list):
        raise UserError(f"--param {_shown(text)}: only scalar values are supported")
    if value.strip().lower() in {"none", "null"}:
        parsed = None
    try:
        check_param_value(key.strip(), parsed)
    except ValueError as exc:
        raise UserError(f"--param {exc}") from None
    return key.strip(), parsed


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:59] + "\u2026")
