"""A project folder driven through the CLI, with its own experiment and registered model.

Tests that share one MLflow store (or one server) keep apart by these unique names.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from trip_duration.cli import main
from trip_duration.registry import versions as registry

if TYPE_CHECKING:
    from mlflow import MlflowClient


@dataclass(frozen=True)
class Project:
    root: Path
    uri: str
    name: str

    @classmethod
    def create(
        cls, root: Path, uri: str, *, tracking: str = "", extra: str = "", latency_batch: int = 32
    ) -> Project:
        """`tracking`: extra lines for the [tracking] table; `extra`: more TOML at the end."""
        project = cls(root, uri, f"trips-{uuid.uuid4().hex[:8]}")
        root.mkdir(parents=True, exist_ok=True)
        project.config.write_text(
            f'[tracking]\nexperiment = "{project.name}"\nregistered_model = "{project.name}"\n'
            f'{tracking}[model]\nplugin = "green_taxi.plugin:GreenTaxi"\n'
            f"[report]\nlatency_batch = {latency_batch}\nlatency_repeats = 3\n{extra}",
            encoding="utf-8",
        )
        return project

    @property
    def config(self) -> Path:
        return self.root / "trip-duration.toml"

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

    def cli(self, *args: str) -> int:
        return main(["--config", str(self.config), *args])

    def client(self) -> MlflowClient:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def champion(self) -> str | None:
        current = registry.champion(self.client(), self.name, "champion")
        return None if current is None else str(current.version)

    def tags(self, version: str) -> dict[str, str]:
        return dict(self.client().get_model_version(self.name, version).tags)
