"""`[tool.mlgate.monitoring]`: defaults, validation, one-line errors naming the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlgate.config import load_settings
from mlgate.errors import UserError


def test_defaults_without_a_section(pyproject: Callable[..., Path]) -> None:
    settings = load_settings(pyproject())
    assert settings.monitoring.psi_warn < settings.monitoring.psi_alert
    assert settings.monitoring.issue_label == "model-drift"


def test_values_are_read(pyproject: Callable[..., Path]) -> None:
    table = '[tool.mlgate.monitoring]\npsi_alert = 0.3\ntop_k = 5\nissue_label = "drift"\n'
    settings = load_settings(pyproject(table))
    assert (settings.monitoring.psi_alert, settings.monitoring.top_k) == (0.3, 5)
    assert settings.monitoring.issue_label == "drift"


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("psi_warn = 0.3", "monitoring: Value error, psi_warn must be below psi_alert"),
        ("bins = 1", "monitoring.bins"),
        ("top_k = 0", "monitoring.top_k"),
        ("p_value = 1.5", "monitoring.p_value"),
        ("performance_tolerance = -0.1", "monitoring.performance_tolerance"),
        ("psi_alrt = 0.3", "monitoring.psi_alrt"),
        ('issue_label = ""', "monitoring.issue_label"),
    ],
)
def test_bad_values_name_the_key(pyproject: Callable[..., Path], line: str, key: str) -> None:
    path = pyproject(f"[tool.mlgate.monitoring]\n{line}\n")
    with pytest.raises(UserError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert key in message
    assert str(path) in message
    assert "\n" not in message
