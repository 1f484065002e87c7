"""Gradient-boosting libraries next to scikit-learn: LightGBM and XGBoost by import path.

Their scikit-learn estimators save through the same skops path as every other model, and that
is the choice made here rather than each library's own model file behind a custom pyfunc:
skops stores a `Booster` through the library's own `__getstate__`, which is the library's
native model format (LightGBM's model text, XGBoost's UBJSON bytes), and loads it back through
`__setstate__`, the library's own parser. No pickle is involved, so vouching for exactly the
types below (not the whole package) keeps "loading never runs untrusted code", and the model
stays one scikit-learn flavour that serving, the champion comparison and the clean-environment
install already handle. Anything else these libraries might put into a pipeline still needs
the plug-in's `trusted_types()`.

Both libraries are optional extras (`mlgate[lightgbm]`, `mlgate[xgboost]`): the default install
does not grow, and a model that holds one pins it in its logged requirements.
"""

from __future__ import annotations

import importlib.metadata

VOUCHED_TYPES: dict[str, frozenset[str]] = {
    # distribution: the exact types its scikit-learn estimators need skops to load
    "lightgbm": frozenset(
        {
            "lightgbm.basic.Booster",
            "lightgbm.sklearn.LGBMClassifier",
            "lightgbm.sklearn.LGBMRegressor",
            "collections.OrderedDict",  # LightGBM keeps its best scores in one
        }
    ),
    "xgboost": frozenset(
        {
            "xgboost.core.Booster",
            "xgboost.sklearn.XGBClassifier",
            "xgboost.sklearn.XGBRegressor",
        }
    ),
}
LIBRARY_TYPES = frozenset().union(*VOUCHED_TYPES.values())


def requirements(types: list[str]) -> list[str]:
    """Pins (`lightgbm==4.7.0`) for the libraries whose own types the model holds."""
    pins = []
    for distribution, vouched in VOUCHED_TYPES.items():
        own = {t for t in vouched if t.startswith(f"{distribution}.")}
        if own & set(types):
            pins.append(f"{distribution}=={importlib.metadata.version(distribution)}")
    return pins
