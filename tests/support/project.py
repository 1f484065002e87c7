"""A project folder driven through the CLI, with its own experiment and registered model.

Tests that share one MLflow store (or one server) keep apart by these unique names. The project
uses the tests' own model plug-in (`support.diabetes`) on data that scikit-learn ships, so the
lifecycle tests never depend on the example model.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mlgate.cli import main
from mlgate.contract import Dataset
from mlgate.registry import versions as registry
from support import diabetes

if TYPE_CHECKING:
    from mlflow import MlflowClient


TESTS_DIR = Path(__file__).resolve().parents[1]
DEFAULT_ALPHA = 10.0
"""The project's configured Lasso alpha; on the bundled data 30 fits worse and 1 better."""
RMSE_BOUND = 80.0


@dataclass(frozen=True)
class Project:
    root: Path
    uri: str
    name: str

    @classmethod
    def create(
        cls,
        root: Path,
        uri: str,
        *,
        tracking: str = "",
        extra: str = "",
        latency_batch: int = 32,
        alpha: float = DEFAULT_ALPHA,
    ) -> Project:
        """`tracking`: extra lines for the [tracking] table; `extra`: more TOML at the end."""
        project = cls(root, uri, f"models-{uuid.uuid4().hex[:8]}")
        root.mkdir(parents=True, exist_ok=True)
        diabetes.write_months(root / "data")
        project.config.write_text(
            '[data]\ntrain = "data/train.parquet"\nvalidation = "data/validation.parquet"\n'
            f'[model]\nplugin = "{diabetes.REFERENCE}"\n'
            f'estimator = "sklearn.linear_model.Lasso"\nparams = {{ alpha = {alpha} }}\n'
            f"[gate]\nbounds = {{ root_mean_squared_error = {{ max = {RMSE_BOUND} }} }}\n"
            f'[tracking]\nexperiment = "{project.name}"\nregistered_model = "{project.name}"\n'
            f"{tracking}[report]\nlatency_batch = {latency_batch}\nlatency_repeats = 3\n{extra}",
            encoding="utf-8",
        )
        return project

    def data(self, role: str) -> Dataset:
        """The cleaned file for `role` ("train", "validation"), as the plug-in loads it."""
        plugin = diabetes.Diabetes(diabetes.DiabetesOptions())
        return plugin.load(self.root / "data" / f"{role}.parquet")

    @property
    def config(self) -> Path:
        return self.root / "mlgate.toml"

    def enter(self, monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
        """Work in the project folder against its store, plus any extra environment."""
        import mlflow

        monkeypatch.chdir(self.root)
        for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            monkeypatch.setenv(key, self.uri)
        if self.uri:
            mlflow.set_tracking_uri(self.uri)
        for key, value in env.items():
            monkeypatch.setenv(key, value)

    def process_env(self) -> dict[str, str]:
        """The environment for a `mlgate` subprocess: this store, and the tests' plug-in
        importable the way a team's own package would be installed."""
        path = [str(TESTS_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
        return {
            **os.environ,
            "MLFLOW_TRACKING_URI": self.uri,
            "PYTHONPATH": os.pathsep.join(path),
        }

    def cli(self, *args: str) -> int:
        """The command as a user runs it, minus the progress lines (tests read the result)."""
        return main(["--quiet", "--config", str(self.config), *args])

    def client(self) -> MlflowClient:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def champion(self) -> str | None:
        current = registry.champion(self.client(), self.name, "champion")
        return None if current is None else str(current.version)

    def tags(self, version: str) -> dict[str, str]:
        return dict(self.client().get_model_version(self.name, version).tags)
