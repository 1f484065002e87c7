"""Which model `serve-check` and `predict` mean: the champion, a version, or any MLflow URI."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.config import load_settings
from mlgate.errors import UserError
from mlgate.serving.command import model_uri


@pytest.fixture
def settings(pyproject):
    table = '[tool.mlgate.tracking]\nregistered_model = "rides"\nchampion_alias = "prod"\n'
    return load_settings(pyproject(table))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("champion", "models:/rides@prod"),
        ("prod", "models:/rides@prod"),
        ("7", "models:/rides/7"),
        ("models:/other/3", "models:/other/3"),
        ("runs:/abc/model", "runs:/abc/model"),
    ],
)
def test_model_names_resolve_to_uris(settings, given: str, expected: str) -> None:
    assert model_uri(settings, given) == expected


def test_an_existing_folder_is_served_from_disk(settings, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    assert model_uri(settings, str(folder)) == str(folder)


@pytest.mark.parametrize("given", ["latest", "v7", "no/such/folder"])
def test_anything_else_is_a_one_line_error(settings, given: str) -> None:
    with pytest.raises(UserError) as error:
        model_uri(settings, given)
    assert "\n" not in str(error.value)
    assert repr(given) in str(error.value)
    assert "champion" in str(error.value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("champion", "models:/rides-live@prod"),
        ("prod", "models:/rides-live@prod"),
        ("7", "models:/rides/7"),
    ],
)
def test_with_a_production_model_the_champion_lives_there(
    pyproject, given: str, expected: str
) -> None:
    table = (
        '[tool.mlgate.tracking]\nregistered_model = "rides"\nproduction_model = "rides-live"\n'
        'champion_alias = "prod"\n'
    )
    assert model_uri(load_settings(pyproject(table)), given) == expected
