"""A logged model's signature checked one batch at a time, with column operations.

MLflow's pyfunc `predict` enforces the signature on every call, and for a column declared as
any type (so that nulls and strings are served) it does so value by value:
at a million rows that costs ten times the model itself. `scorer` gives a function that does
what pyfunc's enforcement does, column by column with vectorized operations, and then calls
the model's own predict function, for the signatures where that is provably the same
(named columns of plain data types or any type, no parameters, no type hints). Any other
model, and any batch that the fast path would not pass unchanged, goes through pyfunc's
`predict` itself, so errors and served values are MLflow's own.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Predict = Callable[[pd.DataFrame], Any]


def scorer(model: Any) -> Predict:
    """`model.predict`, or an equivalent that enforces the signature per column."""
    plan = _Plan.of(model)
    if plan is None:
        return model.predict

    def predict(frame: pd.DataFrame) -> Any:
        data = plan.enforce(frame)
        return model.predict(frame) if data is None else plan.call(data)

    return predict


class _Plan:
    """The columns to enforce, and how the model's own predict function takes its input."""

    def __init__(self, specs: list[Any], predict_fn: Callable[..., Any]) -> None:
        self.specs = specs
        self.predict_fn = predict_fn
        parameter = inspect.signature(predict_fn).parameters.get("params")
        self.takes_params = bool(parameter and parameter.kind != inspect.Parameter.VAR_KEYWORD)

    @classmethod
    def of(cls, model: Any) -> _Plan | None:
        """A plan for a pyfunc model whose enforcement is plain column checks; else None."""
        pyfunc = sys.modules.get("mlflow.pyfunc")  # not imported: not a pyfunc model
        if pyfunc is None or not isinstance(model, pyfunc.PyFuncModel):
            return None
        from mlflow.types.schema import AnyType, DataType

        meta = model.metadata
        try:
            schema = meta.get_input_schema()
            plain = (
                schema is not None
                and not schema.is_tensor_spec()
                and schema.has_input_names()
                and meta.get_params_schema() is None
                and not meta._is_signature_from_type_hint()
                and not meta._is_type_hint_from_example()
                and all(isinstance(spec.type, (DataType, AnyType)) for spec in schema.inputs)
            )
        except AttributeError:  # an MLflow whose model metadata differs: pyfunc decides
            return None
        if not plain:
            return None
        return cls(list(schema.inputs), model._predict_fn)

    def enforce(self, frame: pd.DataFrame) -> pd.DataFrame | None:
        """The frame pyfunc would pass to the model, or None where pyfunc must decide (a
        missing column, a type it would refuse or convert value by value)."""
        from mlflow.types.schema import AnyType

        columns: dict[str, pd.Series] = {}
        for spec in self.specs:
            if spec.name not in frame:
                if spec.required:
                    return None
                continue
            values = frame[spec.name]
            if isinstance(spec.type, AnyType):
                column = _any_type(values)
            else:
                column = _data_type(spec.name, values, spec.type)
            if column is None:
                return None
            columns[spec.name] = column
        return pd.DataFrame(columns)

    def call(self, data: pd.DataFrame) -> Any:
        return self.predict_fn(data, params=None) if self.takes_params else self.predict_fn(data)


def _any_type(values: pd.Series) -> pd.Series:
    """What pyfunc makes of a column of any type: a new Series of the same values, its dtype
    inferred from them. Plain numpy numbers infer as int64 or float64 (Python ints of at most
    32 bits, or of int64, fit int64; floats widen exactly), booleans stay bool."""
    dtype = values.dtype
    if len(values) and isinstance(dtype, np.dtype):
        if dtype == np.int64 or (dtype.kind in "iu" and dtype.itemsize <= 4):
            return values.astype(np.int64)
        if dtype.kind == "f":
            return values.astype(np.float64)
        if dtype.kind == "b":
            return values.copy()
    return pd.Series(list(values), index=values.index, name=values.name)


def _data_type(name: str, values: pd.Series, declared: Any) -> pd.Series | None:
    """MLflow's own per-column conversion, with its one value-by-value case (int64 declared
    as a float, allowed when every value is 0 or 1) done vectorized; None where it refuses."""
    from mlflow.models.utils import _enforce_mlflow_datatype
    from mlflow.types.schema import DataType

    if values.dtype == object and declared not in (DataType.binary, DataType.string):
        values = values.infer_objects()
    target = declared.to_numpy()
    if values.dtype == np.int64 and target in (np.float32, np.float64):
        if values.isin([0, 1]).all():
            return values.astype(target)
        return None
    try:
        return _enforce_mlflow_datatype(name, values, declared)
    except Exception:  # pyfunc's own enforcement says why, in its words
        return None
