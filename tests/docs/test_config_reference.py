"""The configuration reference page, generated from `mlgate.config` when the site is built,
documents every setting with its type, default and constraints, and its claims hold."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import BaseModel

from mlgate import config
from mlgate.errors import UserError
from mlgate.monitoring.current import CurrentDataConfig
from support.docs import ROOT


def _hook() -> ModuleType:
    """docs/hooks/config_reference.py, loaded by path as MkDocs loads it."""
    spec = importlib.util.spec_from_file_location(
        "_docs_config_reference", ROOT / "docs/hooks/config_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOK = _hook()
PAGE = HOOK.render()


def sections() -> list[tuple[str, type[BaseModel]]]:
    top = [
        (f"`[tool.mlgate.{name}]`", field.annotation)
        for name, field in config.Settings.model_fields.items()
        if name != "root"
    ]
    nested = [(m.__name__, m) for m in (config.Bound, config.FloatRange, config.IntRange)]
    return [*top, *nested, ("Choice", config.Choice), ("CurrentDataConfig", CurrentDataConfig)]


def table(title: str) -> dict[str, list[str]]:
    """The rows of one section's table: key -> its cells."""
    body = PAGE.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ") for line in body.splitlines() if line.startswith("| `")]
    return {re.match(r"\| `(\w+)`", row[0])[1]: row for row in rows}


@pytest.mark.parametrize(("title", "model"), sections(), ids=lambda v: getattr(v, "__name__", v))
def test_every_setting_has_a_row_with_its_default_and_constraints(
    title: str, model: type[BaseModel]
) -> None:
    rows = table(title)
    assert set(rows) == set(model.model_fields), title
    for name, field in model.model_fields.items():
        _, _, default, limits = rows[name]
        if field.is_required():
            assert default == "required"
        elif field.default is None:
            assert default == "unset"
        elif isinstance(field.default, bool):
            assert default == f"`{str(field.default).lower()}`"
        elif isinstance(field.default, int | float) and not isinstance(field.default, bool):
            assert default.strip("`").replace(",", "") == str(field.default), (name, default)
        for item in field.metadata:
            for attribute in ("ge", "gt", "le", "lt", "min_length", "max_length"):
                if hasattr(item, attribute):
                    assert str(getattr(item, attribute)) in limits, (name, item, limits)


def test_every_section_docstring_is_on_the_page() -> None:
    for title, model in sections():
        if model.__doc__:
            first = model.__doc__.strip().splitlines()[0]
            assert first in PAGE.split(f"\n## {title}\n", 1)[1], title


def test_the_documented_error_for_a_bad_value_is_the_real_one(tmp_path: Path) -> None:
    (example,) = re.findall(
        r"`(pyproject\.toml: \[tool\.mlgate\] [^`]+)`", HOOK.INTRO.replace("\n", " ")
    )
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.mlgate.gate]\nrelative_tolerance = 1.0\n", encoding="utf-8")
    with pytest.raises(UserError) as error:
        config.load_settings(pyproject)
    assert str(error.value) == example.replace("pyproject.toml", str(pyproject), 1)


@pytest.mark.parametrize("section", ["", "gate", "tuning.space.alpha"])
def test_unknown_keys_are_errors_as_the_page_says(tmp_path: Path, section: str) -> None:
    assert "**Unknown keys are errors**" in PAGE
    table_name = ".".join(filter(None, ["tool.mlgate", section]))
    body = 'kind = "float"\nlow = 0.1\nhigh = 1.0\n' if section.endswith("alpha") else ""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f"[{table_name}]\n{body}colour = 1\n", encoding="utf-8")
    with pytest.raises(UserError, match="colour"):
        config.load_settings(pyproject)
