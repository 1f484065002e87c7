"""The adopt page's worked example, run as written: the plug-in code and the configuration it
shows are extracted from the page, and the result trains, registers and reports; every
`[tool.mlgate]` block on the page is valid configuration."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from mlgate.cli import main
from mlgate.report.document import load_report
from support import classifiers, diabetes

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "adopt.md"


def blocks(language: str, *, classifier: bool = False) -> list[str]:
    """The fenced code blocks of one language on the page, dedented: the worked example's, or
    with `classifier` those of the classifier variant (marked `<!-- classifier -->`)."""
    text = GUIDE.read_text(encoding="utf-8")
    pattern = rf"^(<!-- classifier -->\n)?( *)```{language}\n(.*?)^\2```"
    found = re.findall(pattern, text, flags=re.S | re.M)
    return [
        "".join(line[len(indent) :] for line in body.splitlines(True))
        for marked, indent, body in found
        if bool(marked) == classifier
    ]


def project(root: Path, package: str, plugin_code: str, configuration: str, monkeypatch) -> Path:
    """A project as the page lays it out: the plug-in in `src/<package>/plugin.py`, the
    configuration in `pyproject.toml`, an embedded store; returns the pyproject's path."""
    import mlflow

    folder = root / "src" / package
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "plugin.py").write_text(plugin_code)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(f'[project]\nname = "{package}"\nversion = "0.1.0"\n\n{configuration}')
    monkeypatch.syspath_prepend(str(root / "src"))
    monkeypatch.chdir(root)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return pyproject


@pytest.mark.slow
def test_worked_example_trains_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (plugin_code,) = blocks("python")
    (configuration,) = [b for b in blocks("toml") if "plugin = " in b]
    diabetes.write_months(tmp_path / "data")
    pyproject = project(tmp_path, "progression", plugin_code, configuration, monkeypatch)
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


def test_every_configuration_block_on_the_page_is_valid_together(tmp_path: Path) -> None:
    """The page's `[tool.mlgate…]` blocks, in one file, load (the plug-in is not imported)."""
    from mlgate.config import load_settings

    tables = [b for b in blocks("toml") if b.lstrip().startswith("[tool.mlgate")]
    assert len(tables) >= 2, "the configuration and the tuning space"
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "progression"\nversion = "0.1.0"\n\n' + "\n".join(tables),
        encoding="utf-8",
    )
    settings = load_settings(pyproject)
    assert settings.model.plugin == "progression.plugin:Progression"
    assert set(settings.tuning.space) <= {"alpha"}


@pytest.mark.slow
def test_the_classifier_variant_trains_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The page's binary LightGBM plug-in and configuration, on scikit-learn's breast-cancer
    data: it trains, registers and reports the classifier's metrics and classes."""
    (plugin_code,) = blocks("python", classifier=True)
    (configuration,) = blocks("toml", classifier=True)
    classifiers.write_months(tmp_path / "data", "binary")
    pyproject = project(tmp_path, "diagnosis", plugin_code, configuration, monkeypatch)

    assert main(["--config", str(pyproject), "train"]) == 0

    report = load_report(tmp_path / "reports" / "report.json")
    assert report.gate.metric == "roc_auc"
    assert report.gate.passed, report.gate.reasons
    assert report.candidate.estimator == "lightgbm.LGBMClassifier"
    assert report.candidate.breakdown is not None
    assert report.candidate.breakdown.classes == ["benign", "malignant"]
    assert report.candidate.params["decision_threshold"] == 0.4
    assert "ROC AUC" in capsys.readouterr().out
    sys.modules.pop("diagnosis.plugin", None)
    sys.modules.pop("diagnosis", None)
