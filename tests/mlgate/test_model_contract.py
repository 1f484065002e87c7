"""The model contract: how the configuration names a plug-in, and what a plug-in must deliver.

Run on the tests' own plug-in (`support.diabetes`), so these hold for any team's model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from mlgate.config import Settings
from mlgate.contract import Dataset, ModelPlugin, Target, load_plugin
from mlgate.errors import UserError
from support import diabetes

BAD_REFERENCES = {
    "no-colon": ("support.diabetes.Diabetes", "expected 'package.module:ClassName'"),
    "empty-class": ("support.diabetes:", "expected 'package.module:ClassName'"),
    "missing-module": ("support.nowhere:Diabetes", "cannot import support.nowhere"),
    "missing-class": ("support.diabetes:Nothing", "not a subclass"),
    "not-a-plugin": ("support.diabetes:DiabetesOptions", "not a subclass"),
    "a-function": ("support.diabetes:write_months", "not a subclass"),
}


@pytest.mark.parametrize(("reference", "why"), BAD_REFERENCES.values(), ids=BAD_REFERENCES)
def test_bad_plugin_reference_is_one_line_naming_the_setting(reference: str, why: str) -> None:
    with pytest.raises(UserError) as error:
        load_plugin(reference, {})
    message = str(error.value)
    assert "\n" not in message
    assert "model.plugin" in message
    assert repr(reference) in message
    assert why in message


@pytest.mark.parametrize(
    ("options", "key"),
    [({"max_progression": -1}, "max_progression"), ({"min_minutes": 1}, "min_minutes")],
    ids=["bad-value", "unknown-key"],
)
def test_plugin_options_are_validated_by_the_plugin(options: dict, key: str) -> None:
    with pytest.raises(UserError) as error:
        load_plugin(diabetes.REFERENCE, options)
    message = str(error.value)
    assert "\n" not in message
    assert f"model.options.{key}" in message


def test_configured_plugin_gets_its_options() -> None:
    plugin = load_plugin(diabetes.REFERENCE, {"max_progression": 250})
    assert isinstance(plugin, ModelPlugin)
    assert plugin.options.max_progression == 250


def test_load_gives_raw_features_and_target_without_implausible_rows(tmp_path: Path) -> None:
    train, _ = diabetes.write_months(tmp_path, dirty_rows=4)
    data = load_plugin(diabetes.REFERENCE, {}).load(train)

    assert isinstance(data, Dataset)
    assert data.rows_raw == diabetes.TRAIN_ROWS + 4
    assert data.rows == diabetes.TRAIN_ROWS, "the implausible targets are dropped"
    assert (data.target >= 0).all()
    assert list(data.features.columns) == list(diabetes.FEATURES)
    assert list(data.frame.columns) == [*diabetes.FEATURES, diabetes.TARGET]
    pd.testing.assert_series_equal(
        data.frame[diabetes.TARGET], data.target, check_names=False, check_index=False
    )


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda path: path.unlink(), "not found"),
        (lambda path: path.write_bytes(b"PAR1 not really"), "not a readable parquet"),
        (
            lambda path: pd.read_parquet(path).drop(columns=["bmi"]).to_parquet(path),
            "missing required column(s) bmi",
        ),
        (
            lambda path: pd.read_parquet(path).assign(progression=-5.0).to_parquet(path),
            "no rows left",
        ),
    ],
    ids=["missing", "corrupt", "missing-column", "nothing-plausible"],
)
def test_bad_file_is_one_line_naming_it(tmp_path: Path, damage, problem: str) -> None:
    train, _ = diabetes.write_months(tmp_path)
    damage(train)
    with pytest.raises(UserError) as error:
        load_plugin(diabetes.REFERENCE, {}).load(train)
    message = str(error.value)
    assert "\n" not in message
    assert str(train) in message
    assert problem in message


def _settings(tracking: dict[str, str]) -> Settings:
    return Settings.model_validate({"model": {"plugin": diabetes.REFERENCE}, "tracking": tracking})


@pytest.mark.parametrize(
    ("tracking", "expected"),
    [
        ({}, ("diabetes", "diabetes", "diabetes")),
        ({"production_model": "diabetes-prod"}, ("diabetes", "diabetes", "diabetes-prod")),
        (
            {"experiment": "e", "registered_model": "c", "production_model": "p"},
            ("e", "c", "p"),
        ),
    ],
    ids=["plugin-names", "plugin-candidates-own-production", "all-configured"],
)
def test_tracking_names_default_to_the_plugin_name(
    tracking: dict[str, str], expected: tuple[str, str, str]
) -> None:
    settings = _settings(tracking)
    assert (settings.experiment, settings.registered_model, settings.production) == expected


def test_production_model_equal_to_the_plugin_name_is_one_line() -> None:
    settings = _settings({"production_model": diabetes.Diabetes.name})
    with pytest.raises(UserError) as error:
        _ = settings.production
    assert "\n" not in str(error.value)
    assert "tracking.production_model 'diabetes'" in str(error.value)


@pytest.mark.parametrize("name", [None, "", "Has Spaces", "UPPER", "x" * 64, 7])
def test_a_plugin_without_a_usable_name_is_refused(
    name: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = type("Broken", (diabetes.Diabetes,), {"name": name})
    monkeypatch.setattr(sys.modules[diabetes.__name__], "Broken", broken, raising=False)
    with pytest.raises(UserError) as error:
        load_plugin(f"{diabetes.__name__}:Broken", {})
    assert "\n" not in str(error.value)
    assert "Broken.name must be a short lowercase name" in str(error.value)


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"title": None}, "Broken.title must be the report's title"),
        ({"title": 3}, "Broken.title must be the report's title"),
        ({"target": "duration"}, "Broken.target must be a mlgate.contract.Target"),
        ({"load": None}, "Broken does not implement feature_steps, load"),
    ],
    ids=["no-title", "title-not-text", "target-not-a-target", "abstract-load"],
)
def test_a_plugin_missing_part_of_the_contract_is_refused_before_any_work(
    attributes: dict[str, object], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = type("Broken", (diabetes.Diabetes,), attributes)
    if attributes.get("load", "") is None:
        # As a plug-in that never wrote `load`: the method is still abstract.
        broken = type(
            "Broken", (ModelPlugin,), {"name": "b", "title": "t", "target": Target("y", "", "Y")}
        )
    monkeypatch.setattr(sys.modules[diabetes.__name__], "Broken", broken, raising=False)
    with pytest.raises(UserError) as error:
        load_plugin(f"{diabetes.__name__}:Broken", {})
    assert "\n" not in str(error.value)
    assert message in str(error.value)
