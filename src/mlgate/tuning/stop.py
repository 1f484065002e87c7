"""A stop asked for by a signal, honoured at the search's safe points.

A SIGTERM handler that raised at once could cut a write to the Optuna storage or the tracking
store in half, which leaves SQLite locked; the handler only sets `STOP`, and the search raises
between folds or trials.
"""

from __future__ import annotations

import threading

STOP = threading.Event()


def check() -> None:
    """Raise KeyboardInterrupt here, at a safe point, if a stop was asked for."""
    if STOP.is_set():
        raise KeyboardInterrupt
