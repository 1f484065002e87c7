"""`mlgate candidate`, the PR workflow's one step: train, or tune when enabled."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from mlgate import cli
from mlgate.commands import candidate

ENABLED = """
[tool.mlgate.tuning]
enabled = {enabled}
space.alpha = {{ kind = "float", low = 0.01, high = 1.0 }}
"""


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []

    def record(name: str) -> Callable[[argparse.Namespace], int]:
        def command(args: argparse.Namespace) -> int:
            made.append(name)
            return 0

        return command

    monkeypatch.setattr(candidate, "cmd_train", record("train"))
    monkeypatch.setattr(candidate, "cmd_tune", record("tune"))
    return made


@pytest.mark.parametrize(("enabled", "expected"), [("false", "train"), ("true", "tune")])
def test_candidate_runs_what_the_configuration_says(
    pyproject: Callable[..., Path], calls: list[str], enabled: str, expected: str
) -> None:
    path = pyproject(ENABLED.format(enabled=enabled))
    assert cli.main(["--config", str(path), "candidate", "--fallback-local"]) == 0
    assert calls == [expected]


def test_a_hand_picked_param_is_refused_when_the_search_chooses(
    pyproject: Callable[..., Path], calls: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = pyproject(ENABLED.format(enabled="true"))
    assert cli.main(["--config", str(path), "candidate", "--param", "alpha=0.5"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: --param: ")
    assert "tuning.enabled" in error
    assert calls == []


def test_without_a_tuning_table_candidate_trains(
    pyproject: Callable[..., Path], calls: list[str]
) -> None:
    assert cli.main(["--config", str(pyproject("")), "candidate"]) == 0
    assert calls == ["train"]
