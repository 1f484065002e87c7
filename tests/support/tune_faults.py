"""A worker that dies in the middle of a shared search, for the tuning workflow's test.

`DyingDiabetes` is `support.diabetes` with one more pipeline step, `DieOnce`: when the variable
`TUNE_DIE_MARKER` names a file that does not exist yet, the first fit to create it (in any
process) kills its own process with SIGKILL, as a lost runner would: nothing is recorded, the
trial (or refit) it ran stays claimed. With `TUNE_DIE_MIN_ROWS`, only a fit on at least that
many rows counts (the refit on the whole training data, not a cross-validation fold). Every
other fit, and every fit without the variable, passes the data through unchanged.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin

from support.diabetes import Diabetes

REFERENCE = "support.tune_faults:DyingDiabetes"
MARKER_ENV = "TUNE_DIE_MARKER"
MIN_ROWS_ENV = "TUNE_DIE_MIN_ROWS"


class DieOnce(TransformerMixin, BaseEstimator):
    """Passes the features through; kills the first process that fits it when armed."""

    def fit(self, features: Any, target: Any = None) -> DieOnce:
        marker = os.environ.get(MARKER_ENV, "")
        if marker and len(features) >= int(os.environ.get(MIN_ROWS_ENV, "0")):
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return self
            os.kill(os.getpid(), signal.SIGKILL)
        return self

    def transform(self, features: Any) -> Any:
        return features


class DyingDiabetes(Diabetes):
    def feature_steps(self) -> list[tuple[str, Any]]:
        return [*super().feature_steps(), ("die", DieOnce())]

    def trusted_types(self) -> list[str]:
        return [f"{DieOnce.__module__}.{DieOnce.__qualname__}"]
