"""The order of one heavy import, chosen for start-up time.

skops works out its trusted types when it is first imported, looking each scipy function up in
every module already loaded, in import order: after MLflow's two thousand or so modules that
scan costs 0.3-0.7 s more than before them. The processes that save or load scikit-learn
models (training, tuning, the scoring child and host) import it first.
"""

from __future__ import annotations


def skops_first() -> None:
    """Import skops now if it is installed (a model without it loads as before)."""
    try:
        import skops.io  # noqa: F401
    except ImportError:
        return
