"""Names that collide on the tracking server are one line, before any work, in every command
that uses them.

The names default to the plug-in's own `name`, so a collision can hide in a default: setting
`production_model` to the plug-in's name makes candidates and champion share one model, which
is what a separate production model exists to prevent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate import cli
from mlgate.config import load_settings
from mlgate.registry.lock import LOCK_SUFFIX
from support import diabetes

PLUGIN_NAME = diabetes.Diabetes.name

# (the [tracking] and [monitoring] lines, the setting the error names, the colliding name)
COLLISIONS = {
    "production is the plug-in's name, the candidates' default": (
        f'[tracking]\nproduction_model = "{PLUGIN_NAME}"\n',
        "tracking.production_model",
        PLUGIN_NAME,
    ),
    "the candidates are production's promotion lock": (
        f'[tracking]\nregistered_model = "team{LOCK_SUFFIX}"\nproduction_model = "team"\n',
        "tracking.registered_model",
        f"team{LOCK_SUFFIX}",
    ),
    "monitoring records into the training experiment (the plug-in's name)": (
        f'[monitoring]\nexperiment = "{PLUGIN_NAME}"\n',
        "monitoring.experiment",
        PLUGIN_NAME,
    ),
}

# Every command that reads or writes by these names; the files they would read do not exist, so
# a check that came after any work would fail on them instead.
COMMANDS = {
    "train": ["train"],
    "candidate": ["candidate"],
    "tune": ["tune"],
    "promote": ["promote", "--version", "1"],
    "rollback": ["rollback"],
    "monitor": ["monitor", "--current", "missing.parquet"],
    "serve-check": ["serve-check", "--model", "champion"],
    "predict": ["predict", "--model", "champion", "--data", "gone.parquet", "--out", "p.parquet"],
}


def config(tmp_path: Path, names: str) -> Path:
    path = tmp_path / "mlgate.toml"
    path.write_text(
        '[data]\ntrain = "data/missing-train.parquet"\nvalidation = "data/missing-val.parquet"\n'
        f'[model]\nplugin = "{diabetes.REFERENCE}"\n'
        '[tuning]\nspace.alpha = { kind = "float", low = 0.1, high = 1.0 }\n'
        f"{names}",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(COLLISIONS))
def test_colliding_names_are_one_line_before_any_work(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    case: str,
) -> None:
    names, setting, name = COLLISIONS[case]
    path = config(tmp_path, names)
    monkeypatch.chdir(tmp_path)
    # Nothing listens here: a command that got as far as connecting would fail differently.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    capsys.readouterr()
    code = cli.main(["--quiet", "--config", str(path), *COMMANDS[command]])
    err = capsys.readouterr().err.strip()
    assert code == 1, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"error: [tool.mlgate] {setting} {name!r}"), err
    assert not (tmp_path / "reports").exists()
    assert not (tmp_path / "p.parquet").exists()


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ("", (PLUGIN_NAME, PLUGIN_NAME, PLUGIN_NAME, f"{PLUGIN_NAME}-monitoring")),
        (
            '[tracking]\nproduction_model = "live"\n',
            (PLUGIN_NAME, PLUGIN_NAME, "live", f"{PLUGIN_NAME}-monitoring"),
        ),
        (
            '[tracking]\nexperiment = "runs"\nregistered_model = "cands"\n'
            'production_model = "prod"\n[monitoring]\nexperiment = "watch"\n',
            ("runs", "cands", "prod", "watch"),
        ),
    ],
    ids=["defaults", "production of its own", "every name set"],
)
def test_distinct_names_pass(tmp_path: Path, names: str, expected: tuple[str, ...]) -> None:
    found = load_settings(config(tmp_path, names)).names()
    assert (
        found.experiment,
        found.registered_model,
        found.production,
        found.monitoring_experiment,
    ) == expected
