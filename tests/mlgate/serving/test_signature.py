"""The batch-wise signature check hands the model exactly what pyfunc's own enforcement
would, and refuses exactly what pyfunc refuses, with pyfunc's words."""

from __future__ import annotations

import decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from mlflow.models import Model, ModelSignature
from mlflow.pyfunc import PyFuncModel
from mlflow.types.schema import AnyType, ColSpec, DataType, ParamSchema, ParamSpec, Schema

from mlgate.serving import signature
from mlgate.serving.signature import scorer


class Echo:
    """A model that answers with the frame it was given, and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, data: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        self.calls += 1
        return data


def _model(*specs: ColSpec, params: ParamSchema | None = None) -> PyFuncModel:
    meta = Model(signature=ModelSignature(inputs=Schema(list(specs)), params=params))
    meta.add_flavor("python_function", loader_module="mlflow.sklearn")
    return PyFuncModel(model_meta=meta, model_impl=Echo())


ROWS = 6
COLUMNS: dict[str, pd.Series] = {
    "int64": pd.Series(np.arange(ROWS, dtype=np.int64) * 7),
    "int32": pd.Series(np.arange(ROWS, dtype=np.int32)),
    "uint16": pd.Series(np.arange(ROWS, dtype=np.uint16)),
    "uint64-large": pd.Series(np.full(ROWS, 2**63 + 5, dtype=np.uint64)),
    "zero-one": pd.Series(np.array([0, 1, 1, 0, 1, 0], dtype=np.int64)),
    "float32-nan": pd.Series(np.array([0.5, np.nan, 2.25, -1, 3, 1e-3], dtype=np.float32)),
    "float64-nan": pd.Series([0.1, np.nan, 2.0, -0.0, np.inf, 5.5]),
    "float64-ints-nan": pd.Series([1.0, np.nan, 2.0, 3.0, 4.0, 5.0]),
    "bool": pd.Series([True, False] * 3),
    "object-ints-none": pd.Series([1, None, 3, 4, 5, 6], dtype=object),
    "object-zero-one": pd.Series([0, 1, 1, 0, 1, 1], dtype=object),
    "object-mixed": pd.Series([1, "a", None, 2.5, "b", 3], dtype=object),
    "strings": pd.Series(["a", None, "c", "d", "e", "f"]),
    "categories": pd.Series(["x", "y", "x", "z", "y", "x"], dtype="category"),
    "datetimes": pd.Series(pd.date_range("2024-01-01", periods=ROWS, freq="h")),
    "decimals": pd.Series([decimal.Decimal(i) / 4 for i in range(ROWS)], dtype=object),
}
DECLARED: dict[str, Any] = {
    "any": AnyType(),
    "double": DataType.double,
    "float": DataType.float,
    "long": DataType.long,
    "integer": DataType.integer,
    "string": DataType.string,
    "boolean": DataType.boolean,
    "datetime": DataType.datetime,
}


def _outcome(model: PyFuncModel, predict, frame: pd.DataFrame) -> pd.DataFrame | str:
    try:
        return predict(frame)
    except MlflowException as exc:
        return f"refused: {exc.message}"


@pytest.mark.parametrize("declared", DECLARED.values(), ids=DECLARED.keys())
@pytest.mark.parametrize("column", COLUMNS.values(), ids=COLUMNS.keys())
def test_the_model_gets_what_pyfunc_would_give_it(declared: Any, column: pd.Series) -> None:
    frame = pd.DataFrame({"x": column, "extra": np.arange(ROWS)})
    model = _model(ColSpec(declared, "x"))
    ours = _outcome(model, scorer(model), frame)
    theirs = _outcome(model, model.predict, frame)
    if isinstance(theirs, str):
        assert ours == theirs
    else:
        assert isinstance(ours, pd.DataFrame)
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)


@pytest.mark.parametrize("rows", [0, 1, 5])
def test_several_columns_keep_the_signature_order_and_drop_the_rest(rows: int) -> None:
    model = _model(
        ColSpec(DataType.double, "distance"),
        ColSpec(AnyType(), "zone"),
        ColSpec(DataType.string, "note", required=False),
    )
    frame = pd.DataFrame(
        {
            "zone": pd.Series(range(rows), dtype=np.int32),
            "other": [1.0] * rows,
            "distance": np.linspace(0, 1, rows),
        }
    )
    pd.testing.assert_frame_equal(scorer(model)(frame), model.predict(frame))


def test_a_missing_required_column_is_pyfuncs_own_error() -> None:
    model = _model(ColSpec(DataType.double, "a"), ColSpec(DataType.double, "b"))
    frame = pd.DataFrame({"a": [1.0]})
    with pytest.raises(MlflowException) as ours:
        scorer(model)(frame)
    with pytest.raises(MlflowException) as theirs:
        model.predict(frame)
    assert ours.value.message == theirs.value.message
    assert "'b'" in ours.value.message


def test_columns_pyfunc_accepts_as_they_are_skip_pyfuncs_enforcement(monkeypatch) -> None:
    model = _model(ColSpec(AnyType(), "zone"), ColSpec(DataType.double, "distance"))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pyfunc's predict was called")

    monkeypatch.setattr(model, "predict", refuse)
    frame = pd.DataFrame({"zone": [1, 2, None], "distance": [0.5, 1.5, 2.5]})
    answer = scorer(model)(frame)
    assert list(answer.columns) == ["zone", "distance"]
    assert model._model_impl.calls == 1


NOT_PLAIN = {
    "params": lambda: _model(
        ColSpec(DataType.double, "a"), params=ParamSchema([ParamSpec("k", DataType.long, 1)])
    ),
    "no-signature": lambda: PyFuncModel(
        model_meta=Model().add_flavor("python_function", loader_module="x"), model_impl=Echo()
    ),
    "unnamed-columns": lambda: _model(ColSpec(DataType.double)),
    "not-pyfunc": Echo,
}


@pytest.mark.parametrize("make", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_other_models_are_scored_by_their_own_predict(make) -> None:
    model = make()
    assert signature._Plan.of(model) is None
    assert scorer(model) == model.predict
