"""One fit within its time budget (`[model] max_fit_seconds`)."""

from __future__ import annotations

import threading
import time
from typing import Any

from mlgate.contract import Dataset
from mlgate.errors import UserError


def fit_within(pipeline: Any, data: Dataset, target: Any, seconds: float) -> None:
    """Fit in a worker thread and wait at most `seconds` for it.

    A fit that never converges (say `tol=0` with a huge `max_iter`) cannot be interrupted
    from inside scikit-learn; past the budget the job fails (the run is marked FAILED) and the
    daemon thread ends with the process.
    """
    failure: list[BaseException] = []

    def fit() -> None:
        try:
            pipeline.fit(data.features, target)
        except BaseException as exc:  # handed to the waiting thread
            failure.append(exc)

    worker = threading.Thread(target=fit, name="mlgate-fit", daemon=True)
    deadline = time.monotonic() + seconds
    worker.start()
    while worker.is_alive():
        left = deadline - time.monotonic()
        if left <= 0:
            raise UserError(
                f"model.max_fit_seconds: the fit did not finish within {seconds:g} s; it was "
                "stopped and nothing was registered (raise [model] max_fit_seconds, or give "
                "the estimator fewer iterations)"
            )
        worker.join(min(left, 0.25))  # short waits, so SIGTERM is handled promptly
    if failure:
        exc = failure[0]
        if isinstance(exc, TypeError | ValueError | OverflowError):
            raise UserError(f"model.params: {first_line(exc)}") from None
        raise exc


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
