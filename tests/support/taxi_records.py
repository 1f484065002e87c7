"""Raw records a client could send to the example model: every way a trip can be wrong."""

from __future__ import annotations

import numpy as np

INPUTS = ["PULocationID", "DOLocationID", "trip_distance"]

GARBAGE = {
    "zero-distance": (7, 42, 0.0),
    "negative-distance": (7, 42, -3.5),
    "nan-distance": (7, 42, np.nan),
    "missing-distance": (7, 42, None),
    "meter-fault-distance": (7, 42, 178_919.0),
    "huge-distance": (7, 42, 1e300),
    "infinite-distance": (7, 42, np.inf),
    "text-distance": (7, 42, "far"),
    "numeric-string-distance": (7, 42, "2.5"),
    "unseen-pair": (1, 2, 3.0),
    "ids-out-of-range": (999, -4, 3.0),
    "huge-ids": (1e15, 1e15, 3.0),
    "missing-ids": (None, np.nan, 3.0),
    "numeric-string-ids": ("7", "42", 3.0),
    "text-ids": ("Harlem", "JFK", 3.0),
    "everything-wrong": (None, "x", -1.0),
}
