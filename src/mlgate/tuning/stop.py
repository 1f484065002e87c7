"""The search's safe points: between trials and between folds.

A SIGTERM handler that raised at once could cut a write to the Optuna storage or the tracking
store in half, which leaves SQLite locked; the handler only records the signal
(`mlgate.termination`), and the search stops here, exiting 143.
"""

from __future__ import annotations

from mlgate import termination


def check() -> None:
    """Raise `termination.Terminated` here, at a safe point, if SIGTERM arrived."""
    termination.check()
