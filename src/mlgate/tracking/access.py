"""A refusal from an auth-enabled tracking server, as one line that says who was refused what.

MLflow raises a multi-line exception that quotes the REST endpoint; a CI log reader needs the
user, the action and the registered model instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

from mlgate.errors import UserError

DENIED = "PERMISSION_DENIED"
UNAUTHENTICATED = "UNAUTHENTICATED"


class AccessDeniedError(UserError):
    """The tracking server refused this credential an operation."""


def _status(exc: BaseException) -> int | None:
    code = getattr(exc, "error_code", None)
    if code == DENIED:
        return 403
    if code == UNAUTHENTICATED:
        return 401
    # Some client helpers (copy_model_version) wrap a 403 into INTERNAL_ERROR.
    match = re.search(r"error code (40[13]) != 200", str(exc))
    return int(match.group(1)) if match else None


def _user() -> str:
    name = os.environ.get("MLFLOW_TRACKING_USERNAME", "").strip()
    return f"user {name!r}" if name else "this credential"


def as_user_error(exc: BaseException, action: str | None = None) -> AccessDeniedError | None:
    """The one-line error for a refused MLflow call, or None if `exc` is not a refusal."""
    if not type(exc).__module__.startswith("mlflow"):
        return None
    status = _status(exc)
    if status == 401:
        return AccessDeniedError(
            f"the tracking server rejected the credentials of {_user()} (HTTP 401): "
            "check MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
        )
    if status != 403:
        return None
    if action is None:
        endpoint = re.search(r"endpoint (\S+)", str(exc))
        action = f"call {endpoint.group(1)}" if endpoint else "do this"
    return AccessDeniedError(
        f"the tracking server refused {_user()} permission to {action} (HTTP 403): "
        "this credential lacks the grant (see CONTRIBUTING, team tracking server)"
    )


@contextmanager
def permission(action: str) -> Iterator[None]:
    """Turn a refusal inside the block into an AccessDeniedError naming `action`."""
    try:
        yield
    except Exception as exc:
        error = as_user_error(exc, action)
        if error is None:
            raise
        raise error from None
