"""Fresh MLflow sqlite stores for tests, without paying for the schema migrations each time."""

from __future__ import annotations

import shutil

import pytest


def sqlite_store(factory: pytest.TempPathFactory, name: str) -> str:
    """A fresh migrated sqlite store: a copy of one made once per session (making one takes
    seconds)."""
    from mlflow import MlflowClient

    template = factory.getbasetemp() / "mlflow-template" / "mlflow.db"
    if not template.exists():
        template.parent.mkdir(exist_ok=True)
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(template.parent)
            uri = f"sqlite:///{template}"
            MlflowClient(tracking_uri=uri, registry_uri=uri).search_experiments()
    folder = factory.mktemp(name)
    shutil.copyfile(template, folder / "mlflow.db")
    return f"sqlite:///{folder / 'mlflow.db'}"
