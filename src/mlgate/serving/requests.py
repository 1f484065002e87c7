"""The serving contract's requests: the logged example in both DataFrame encodings, and the
malformed requests a client will eventually send.

Each check is one `ServingCheck` with a one-line detail of what was sent and what came back, so
the PR comment can show the failing request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlgate.report.document import ServingCheck
from mlgate.serving.server import Response, ScoringServer

if TYPE_CHECKING:
    from mlgate.tasks.base import Task

NOT_A_NUMBER = "not-a-number"


@dataclass(frozen=True)
class Example:
    """The logged serving example, the in-process outputs for it, the input schema, and the
    model's task (which says what its outputs look like and what a served answer must keep)."""

    frame: pd.DataFrame
    expected: np.ndarray | None  # None when the model refused its own example in-process
    numeric_columns: list[str]
    split_body: bytes
    task: Task
    record: dict[str, Any]  # the model's own task record (classes, threshold)


def records_body(frame: pd.DataFrame) -> bytes:
    return json.dumps({"dataframe_records": _jsonable(frame).to_dict(orient="records")}).encode()


def split_body(frame: pd.DataFrame) -> bytes:
    data = _jsonable(frame)
    payload = {"columns": list(data.columns), "data": data.to_numpy().tolist()}
    return json.dumps({"dataframe_split": payload}).encode()


def _jsonable(frame: pd.DataFrame) -> pd.DataFrame:
    """NaN as null, numpy scalars as Python numbers."""
    return frame.astype(object).where(frame.notna(), None)


def good_requests(server: ScoringServer, example: Example) -> list[ServingCheck]:
    bodies = {
        "dataframe_split": example.split_body,
        "dataframe_records": records_body(example.frame),
    }
    return [_good(server, name, body, example) for name, body in bodies.items()]


def post(server: ScoringServer, body: bytes) -> Response | str:
    """The answer, or why there was none (a timeout, a dropped connection)."""
    try:
        return server.post(body)
    except OSError as exc:
        return f"no answer within {server.request_timeout_s:g} s ({type(exc).__name__})"


def _good(server: ScoringServer, name: str, body: bytes, example: Example) -> ServingCheck:
    sent = f"POST /invocations {name} ({len(example.frame)} rows of the logged example)"
    answer = post(server, body)
    if isinstance(answer, str):
        return ServingCheck(name=name, passed=False, detail=f"{sent} → {answer}")
    if answer.status != 200:
        return ServingCheck(
            name=name, passed=False, detail=f"{sent} → {answer.status}: {answer.text()}"
        )
    try:
        predictions = example.task.as_outputs(answer.json()["predictions"], example.record)
    except (ValueError, KeyError, TypeError):
        return ServingCheck(
            name=name, passed=False, detail=f"{sent} → 200 without predictions: {answer.text()}"
        )
    if len(predictions) != len(example.frame):
        return ServingCheck(
            name=name,
            passed=False,
            detail=f"{sent} → {len(predictions)} predictions for {len(example.frame)} rows",
        )
    if example.expected is None:
        return ServingCheck(
            name=name,
            passed=False,
            detail=f"{sent} → 200, but the model refuses its own example in-process",
        )
    problem = example.task.check_served(predictions, example.expected, example.record)
    if problem is not None:
        return ServingCheck(name=name, passed=False, detail=f"{sent} → predictions: {problem}")
    return ServingCheck(
        name=name,
        passed=True,
        detail=f"{sent} → 200, {len(predictions)} predictions equal to in-process predict",
    )


def bad_requests(server: ScoringServer, example: Example) -> list[ServingCheck]:
    cases: dict[str, Callable[[], bytes | None]] = {
        "missing column": lambda: _missing_column(example.frame),
        "wrong type": lambda: _wrong_type(example),
        "empty body": lambda: b"",
        "not JSON": lambda: b"{this is not json",
    }
    checks = []
    for name, build in cases.items():
        body = build()
        if body is None:
            continue
        checks.append(_bad(server, name, body))
    return checks


def _missing_column(frame: pd.DataFrame) -> bytes | None:
    if frame.shape[1] == 0:
        return None
    return records_body(frame.drop(columns=frame.columns[0]))


def _wrong_type(example: Example) -> bytes | None:
    if not example.numeric_columns:
        return None
    frame = example.frame.astype(object)
    frame[example.numeric_columns[0]] = NOT_A_NUMBER
    return records_body(frame)


def _bad(server: ScoringServer, name: str, body: bytes) -> ServingCheck:
    sent = f"POST /invocations with {name}"
    answer = post(server, body)
    if isinstance(answer, str):
        return ServingCheck(name=name, passed=False, detail=f"{sent} → {answer}")
    alive = server.alive()
    passed = 400 <= answer.status < 500 and alive
    after = "server still serving" if alive else "server stopped answering /ping"
    return ServingCheck(
        name=name, passed=passed, detail=f"{sent} → {answer.status}: {answer.text(120)}; {after}"
    )


def first_failure(checks: list[ServingCheck]) -> str | None:
    failed = next((c for c in checks if not c.passed), None)
    return None if failed is None else f"{failed.name}: {failed.detail}"


def as_frame(value: Any) -> pd.DataFrame:
    return value if isinstance(value, pd.DataFrame) else pd.DataFrame(value)
