"""CONTRIBUTING's worked example, run as written: the plug-in code and the configuration it
shows are extracted from the guide, and the result trains, registers and reports."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from mlgate.cli import main
from mlgate.report.document import load_report
from support import diabetes

GUIDE = Path(__file__).resolve().parents[2] / "CONTRIBUTING.md"


def blocks(language: str) -> list[str]:
    """The fenced code blocks of one language in the adaptation section, dedented."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("## Adapt the template to your own model") :]
    section = section[: section.index("\n## ", 5)]
    found = re.findall(rf"^( *)```{language}\n(.*?)^\1```", section, flags=re.S | re.M)
    return [
        "".join(line[len(indent) :] for line in body.splitlines(True)) for indent, body in found
    ]


@pytest.mark.slow
def test_worked_example_trains_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import mlflow

    (plugin_code,) = blocks("python")
    configuration = blocks("toml")[-1]
    package = tmp_path / "src" / "progression"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(plugin_code)
    diabetes.write_months(tmp_path / "data")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f'[project]\nname = "progression"\nversion = "0.1.0"\n\n{configuration}')
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    capsys.readouterr()

    assert main(["--config", str(pyproject), "train"]) == 0

    report = load_report(tmp_path / "reports" / "report.json")
    assert report.model.title == "Disease progression model report"
    assert report.model.unit == "pts"
    assert report.gate.passed, report.gate.reasons
    assert "RMSE (pts)" in capsys.readouterr().out
    assert {d.role: d.rows for d in report.data}["train"] == diabetes.TRAIN_ROWS
    sys.modules.pop("progression.plugin", None)
    sys.modules.pop("progression", None)
