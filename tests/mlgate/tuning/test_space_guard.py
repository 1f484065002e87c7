"""A search space that the configured estimator (or the estimator choices) cannot take is refused
by `tune` and `candidate` in one line, before any data is read or any store is touched.

The case that motivated it: a space written for linear models (alpha, a choice of Lasso,
ElasticNet and Ridge) left in place after `model.estimator` became a gradient-boosted model
searched the linear models and registered one, without a word.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate import cli
from mlgate.config import load_settings
from mlgate.contract import NoOptions
from mlgate.tuning.job import check_space
from support import tuning_plugin

HGB = "sklearn.ensemble.HistGradientBoostingRegressor"
LASSO = "sklearn.linear_model.Lasso"
RIDGE = "sklearn.linear_model.Ridge"
LINEAR_SPACE = """
space.alpha = { kind = "float", low = 0.0001, high = 1.0, log = true }
space.l1_ratio = { kind = "float", low = 0.05, high = 0.95, estimators = ["sklearn.linear_model.ElasticNet"] }
[tuning.space.estimator]
kind = "categorical"
choices = ["sklearn.linear_model.Lasso", "sklearn.linear_model.ElasticNet", "sklearn.linear_model.Ridge"]
"""  # noqa: E501 - TOML inline tables stay on one line


def config(estimator: str, space: str) -> str:
    return (
        '[data]\ntrain = "data/train.parquet"\nvalidation = "data/validation.parquet"\n'
        f'[model]\nplugin = "{tuning_plugin.REFERENCE}"\nestimator = "{estimator}"\n'
        '[tracking]\nexperiment = "guarded"\nregistered_model = "guarded"\n'
        f'[tuning]\nenabled = true\nsampler = "random"\nn_trials = 2\n{space}'
    )


# (configured estimator, space, what the one line must name)
REFUSED = {
    "a linear space left beside a boosted model": (
        HGB,
        LINEAR_SPACE,
        ["tuning.space.estimator", HGB, LASSO],
    ),
    "a parameter the configured estimator does not take": (
        HGB,
        'space.alpha = { kind = "float", low = 0.01, high = 1.0 }\n',
        ["tuning.space.alpha", "HistGradientBoostingRegressor", "'alpha'"],
    ),
    "a parameter one of the estimator choices does not take": (
        LASSO,
        'space.alpha = { kind = "float", low = 0.01, high = 1.0 }\n'
        f'space.estimator = {{ kind = "categorical", choices = ["{LASSO}", "{HGB}"] }}\n',
        ["tuning.space.alpha", f"HistGradientBoostingRegressor ({HGB})", "estimators = [...]"],
    ),
    "a parameter offered to an estimator that does not take it": (
        LASSO,
        f'space.estimator = {{ kind = "categorical", choices = ["{LASSO}", "{RIDGE}"] }}\n'
        'space.selection = { kind = "categorical", choices = ["cyclic", "random"], '
        f'estimators = ["{LASSO}", "{RIDGE}"] }}\n',
        ["tuning.space.selection", f"Ridge ({RIDGE})", "'selection'"],
    ),
    "a parameter a step of the plug-in's pipeline does not take": (
        LASSO,
        'space.scale__centre = { kind = "categorical", choices = [true, false] }\n',
        ["tuning.space.scale__centre", "'scale'", "StandardScaler", "'centre'"],
    ),
    "a step the pipeline does not have": (
        LASSO,
        'space.impute__strategy = { kind = "categorical", choices = ["mean"] }\n',
        ["tuning.space.impute__strategy", "no step 'impute'", "scale, estimator"],
    ),
    "an estimator choice that is not an estimator": (
        LASSO,
        'space.alpha = { kind = "float", low = 0.01, high = 1.0 }\n'
        f'space.estimator = {{ kind = "categorical", choices = ["{LASSO}", "sklearn.nope.M"] }}\n',
        ["tuning.space.estimator 'sklearn.nope.M'", "cannot import sklearn.nope"],
    ),
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the tiny plug-in's data and a tracking store that does not exist yet."""
    tuning_plugin.write_months(tmp_path / "data", rows=60)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


@pytest.mark.parametrize("command", ["tune", "candidate"])
@pytest.mark.parametrize("case", list(REFUSED))
def test_a_space_the_estimators_cannot_take_is_one_line_before_any_work(
    project: Path, command: str, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    estimator, space, named = REFUSED[case]
    path = project / "mlgate.toml"
    path.write_text(config(estimator, space), encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["--quiet", "--config", str(path), command]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: [tool.mlgate] tuning.space."), err
    for word in named:
        assert word in err, (word, err)
    assert not (project / "mlflow.db").exists(), "no store is created for a refused space"
    assert not (project / "reports").exists(), "no report is written for a refused space"


@pytest.mark.parametrize(
    ("estimator", "space"),
    [
        (HGB, 'space.learning_rate = { kind = "float", low = 0.01, high = 0.3, log = true }\n'),
        (LASSO, LINEAR_SPACE),
        (RIDGE, 'space.scale__with_mean = { kind = "categorical", choices = [true, false] }\n'),
        (
            HGB,
            f'space.estimator = {{ kind = "categorical", choices = ["{LASSO}", "{HGB}"] }}\n'
            f'space.alpha = {{ kind = "float", low = 0.1, high = 1.0, estimators = ["{LASSO}"] }}\n'
            f'space.max_depth = {{ kind = "int", low = 2, high = 6, estimators = ["{HGB}"] }}\n',
        ),
    ],
    ids=["boosted", "linear", "pipeline step", "selection with conditional parameters"],
)
def test_a_space_the_estimators_take_passes_the_guard(
    project: Path, estimator: str, space: str
) -> None:
    path = project / "mlgate.toml"
    path.write_text(config(estimator, space), encoding="utf-8")
    settings = load_settings(path)
    check_space(settings, settings.tuning, tuning_plugin.TinyPlugin(NoOptions()))
