"""Latency as a client sees it: the whole HTTP exchange with the scoring server."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from mlgate.report.document import Latency
from mlgate.serving.requests import records_body
from mlgate.serving.server import ScoringServer


def batch_of(frame: pd.DataFrame, rows: int) -> pd.DataFrame:
    """`rows` records cycled from `frame` (the logged example), so any batch size is possible."""
    return frame.iloc[np.arange(rows) % len(frame)].reset_index(drop=True)


def http_latency(server: ScoringServer, frame: pd.DataFrame, repeats: int) -> Latency | None:
    """p50/p95 over `repeats` requests after one warm-up; None if the server refuses them."""
    body = records_body(frame)
    try:
        if server.post(body).status != 200:
            return None
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            answer = server.post(body)
            samples.append((time.perf_counter() - start) * 1000)
            if answer.status != 200:
                return None
    except OSError:
        return None
    p50, p95 = np.percentile(samples, [50, 95])
    return Latency(batch_size=len(frame), p50_ms=float(p50), p95_ms=float(p95))
