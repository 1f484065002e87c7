"""The zone-pair features: the same matrix as the classic dict-of-records one-hot encoding,
built as int32 CSR, and forgiving of ids and distances it has not seen."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction import DictVectorizer

from green_taxi.features import ZonePairDistance

INPUTS = ["PULocationID", "DOLocationID", "trip_distance"]


def _reference(
    train: pd.DataFrame, other: pd.DataFrame, max_zone_id: int = 300
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Brute force: DictVectorizer over `{"PU_DO": "pu_do", "trip_distance": d}` records, where
    a pair with an id outside [0, max_zone_id] (or missing) is left out, a distance that is
    missing, zero or negative is the median of the training's positive distances, and every
    distance is clipped to their range."""
    seen = [d for d in train["trip_distance"] if pd.notna(d) and d > 0]
    fill, low, high = float(np.median(seen)), min(seen), max(seen)

    def records(frame: pd.DataFrame) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for pu, do, distance in frame[INPUTS].itertuples(index=False):
            record: dict[str, object] = {}
            ids = [pu, do]
            if all(pd.notna(i) and 0 <= i <= max_zone_id for i in ids):
                record["PU_DO"] = f"{int(pu)}_{int(do)}"
            usable = pd.notna(distance) and distance > 0
            record["trip_distance"] = min(max(float(distance) if usable else fill, low), high)
            out.append(record)
        return out

    vectorizer = DictVectorizer()
    vectorizer.fit(records(train))
    return vectorizer.transform(records(other)), vectorizer.get_feature_names_out()


def _aligned(matrix: sp.spmatrix, names: np.ndarray, reference_names: np.ndarray) -> np.ndarray:
    """Dense copy of `matrix` with its columns reordered to `reference_names`."""
    assert sorted(names) == sorted(reference_names)
    position = {name: i for i, name in enumerate(names)}
    return matrix.toarray()[:, [position[name] for name in reference_names]]


def _assert_matches_reference(
    features: ZonePairDistance, train: pd.DataFrame, other: pd.DataFrame
) -> sp.csr_matrix:
    matrix = features.transform(other)
    expected, names = _reference(train, other, features.max_zone_id)
    got = _aligned(matrix, features.get_feature_names_out(), names)
    np.testing.assert_array_equal(got, expected.toarray())
    return matrix


def _frame(pu: list[float], do: list[float], distance: list[float], **kind: str) -> pd.DataFrame:
    frame = pd.DataFrame({"PULocationID": pu, "DOLocationID": do, "trip_distance": distance})
    return frame.astype(kind) if kind else frame


def test_matrix_shape_types_and_one_pair_per_row(trip_records) -> None:
    train = trip_records(400, seed=0)
    features = ZonePairDistance().fit(train)
    matrix = features.transform(train)
    pairs = train.groupby(["PULocationID", "DOLocationID"]).ngroups
    assert sp.issparse(matrix)
    assert matrix.format == "csr"
    assert matrix.shape == (400, pairs + 1)
    assert matrix.indices.dtype == np.int32
    assert matrix.indptr.dtype == np.int32
    assert (np.diff(matrix.indptr) == 2).all()
    assert features.get_feature_names_out()[-1] == "trip_distance"
    np.testing.assert_array_equal(matrix[:, -1].toarray().ravel(), train["trip_distance"])
    pair_part = matrix[:, :-1].toarray()
    assert set(np.unique(pair_part)) == {0.0, 1.0}
    np.testing.assert_array_equal(pair_part.sum(axis=1), np.ones(400))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_matrix_as_dictvectorizer_on_training_data(trip_records, seed: int) -> None:
    train = trip_records(300, seed=seed, zones=(1, 2, 3, 100, 265, 300))
    _assert_matches_reference(ZonePairDistance().fit(train), train, train)


def test_fit_on_one_frame_transform_another(trip_records) -> None:
    train = trip_records(200, seed=3, zones=(7, 42, 74))
    other = trip_records(200, seed=4, zones=(7, 42, 74, 129, 236))
    features = ZonePairDistance().fit(train)
    matrix = _assert_matches_reference(features, train, other)
    assert matrix.shape == (200, features.n_features_out_)
    seen = set(zip(train["PULocationID"], train["DOLocationID"], strict=True))
    unseen = [
        pair not in seen for pair in zip(other["PULocationID"], other["DOLocationID"], strict=True)
    ]
    assert any(unseen)
    np.testing.assert_array_equal(np.diff(matrix.indptr), np.where(unseen, 1, 2))


ODD_ROWS = {
    "unseen-pair": (42.0, 7.0),
    "pickup-above-max": (301.0, 7.0),
    "dropoff-above-max": (7.0, 1000.0),
    "negative-pickup": (-1.0, 42.0),
    "negative-dropoff": (42.0, -7.0),
    "missing-pickup": (np.nan, 42.0),
    "missing-dropoff": (7.0, np.nan),
    "huge-id": (1e12, 1e12),
}


@pytest.mark.parametrize(("pu", "do"), ODD_ROWS.values(), ids=ODD_ROWS.keys())
def test_unknown_pair_gets_only_the_distance_column(pu: float, do: float) -> None:
    train = _frame([7, 42, 7], [42, 42, 7], [1.0, 2.0, 3.0])
    features = ZonePairDistance().fit(train)
    other = _frame([pu, 7], [do, 42], [2.5, 1.5])
    matrix = _assert_matches_reference(features, train, other)
    assert matrix.shape == (2, 4)
    assert matrix[0].nnz == 1
    assert matrix[0, 3] == 2.5
    assert matrix[1].nnz == 2


def test_out_of_range_ids_in_training_get_no_pair_column() -> None:
    train = _frame([7, 301, -3, 7], [42, 7, 7, 42], [1.0, 2.0, 3.0, 4.0])
    features = ZonePairDistance().fit(train)
    assert list(features.get_feature_names_out()) == ["PU_DO=7_42", "trip_distance"]
    _assert_matches_reference(features, train, train)


@pytest.mark.parametrize("max_zone_id", [10, 300, 1000])
def test_max_zone_id_bounds_the_pairs(max_zone_id: int) -> None:
    train = _frame([0, 10, 11, 300, 999], [10, 0, 1, 300, 999], [1.0] * 5)
    features = ZonePairDistance(max_zone_id=max_zone_id).fit(train)
    _assert_matches_reference(features, train, train)
    in_range = sum(
        1
        for pu, do in [(0, 10), (10, 0), (11, 1), (300, 300), (999, 999)]
        if max(pu, do) <= max_zone_id
    )
    assert features.n_features_out_ == in_range + 1


def test_missing_distance_is_the_training_median() -> None:
    train = _frame([7, 7, 42, 42, 42], [7, 42, 7, 42, 42], [1.0, 9.0, 2.0, np.nan, 4.0])
    features = ZonePairDistance().fit(train)
    other = _frame([7, 500], [7, 500], [np.nan, np.nan])
    matrix = _assert_matches_reference(features, train, other)
    np.testing.assert_array_equal(matrix[:, -1].toarray().ravel(), [3.0, 3.0])
    assert np.isfinite(matrix.data).all()


ID_KINDS = {
    "int64": {"PULocationID": "int64", "DOLocationID": "int64"},
    "int32": {"PULocationID": "int32", "DOLocationID": "int32"},
    "float64": {"PULocationID": "float64", "DOLocationID": "float64"},
    "nullable-Int64": {"PULocationID": "Int64", "DOLocationID": "Int64"},
    "float32-distance": {"trip_distance": "float32"},
}


@pytest.mark.parametrize("kind", ID_KINDS.values(), ids=ID_KINDS.keys())
def test_id_and_distance_dtypes_give_the_same_matrix(trip_records, kind: dict[str, str]) -> None:
    train = trip_records(150, seed=5)
    other = trip_records(150, seed=6, zones=(7, 42, 74, 129, 236, 264))
    expected = ZonePairDistance().fit(train).transform(other)
    features = ZonePairDistance().fit(train.astype(kind))
    got = features.transform(other.astype(kind))
    assert got.indices.dtype == np.int32
    np.testing.assert_allclose(got.toarray(), expected.toarray(), rtol=1e-6)


def test_nullable_ids_with_missing_values() -> None:
    train = _frame([7, 42, 7], [42, 42, 7], [1.0, 2.0, 3.0], PULocationID="Int64")
    other = _frame([7, None], [42, 42], [2.0, 3.0])
    other["PULocationID"] = other["PULocationID"].astype("Int64")
    matrix = ZonePairDistance().fit(train).transform(other)
    np.testing.assert_array_equal(np.diff(matrix.indptr), [2, 1])


def test_empty_frame_transforms_to_zero_rows(trip_records) -> None:
    train = trip_records(50)
    features = ZonePairDistance().fit(train)
    matrix = features.transform(train.iloc[:0])
    assert matrix.shape == (0, features.n_features_out_)


def test_pickle_round_trip_keeps_the_fitted_state(trip_records) -> None:
    train = trip_records(200, seed=7)
    other = trip_records(100, seed=8, zones=(7, 42, 300))
    features = ZonePairDistance(max_zone_id=300).fit(train)
    restored = pickle.loads(pickle.dumps(features))
    assert restored.get_params() == features.get_params()
    np.testing.assert_array_equal(
        restored.get_feature_names_out(), features.get_feature_names_out()
    )
    np.testing.assert_array_equal(
        restored.transform(other).toarray(), features.transform(other).toarray()
    )


def test_clone_gives_an_unfitted_copy_with_the_same_params() -> None:
    features = ZonePairDistance(max_zone_id=50).fit(_frame([1], [2], [1.0]))
    copy = clone(features)
    assert copy.get_params() == {"max_zone_id": 50}
    assert not hasattr(copy, "pair_codes_")


def test_transform_before_fit_is_an_error() -> None:
    with pytest.raises(NotFittedError):
        ZonePairDistance().transform(_frame([1], [2], [1.0]))
