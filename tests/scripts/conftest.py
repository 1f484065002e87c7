"""Fixtures for the scripts/ tests: the scripts loaded as modules."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _load(name: str) -> ModuleType:
    """Import scripts/<name>.py by path: scripts/ is not a package."""
    module_name = f"_scripts_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, SCRIPTS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def render_comments() -> ModuleType:
    return _load("render_comments")


@pytest.fixture(scope="session")
def calibrate_classifier_monitor() -> ModuleType:
    return _load("calibrate_classifier_monitor")


@pytest.fixture(scope="session")
def bench_comment_wait() -> ModuleType:
    return _load("bench_comment_wait")
