"""The example's pipeline: predictions stay inside the range of durations it was trained on.

Clipping the inputs keeps a linear model from extrapolating, but a distance at the top of the
training range still maps to whatever the fitted line says there; a duration prediction is only
plausible within the durations seen in training, so `predict` clips to that range as well.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline


class BoundedPipeline(Pipeline):
    """A scikit-learn Pipeline whose predictions are clipped to the training target's range."""

    def fit(self, X: Any, y: Any = None, **params: Any) -> BoundedPipeline:
        super().fit(X, y, **params)
        target = np.asarray(y, dtype=np.float64)
        target = target[np.isfinite(target)]
        self.target_low_ = float(target.min()) if len(target) else -np.inf
        self.target_high_ = float(target.max()) if len(target) else np.inf
        return self

    def predict(self, X: Any, **params: Any) -> np.ndarray:
        predictions = np.asarray(super().predict(X, **params), dtype=np.float64)
        low = getattr(self, "target_low_", -np.inf)
        high = getattr(self, "target_high_", np.inf)
        return np.clip(predictions, low, high)
