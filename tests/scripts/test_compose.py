"""deploy/compose.yaml cannot run here (no Docker): check what it promises instead.

Its schema is checked in pre-commit (check-jsonschema's compose-spec); these tests check the
parts that make it the team server CONTRIBUTING describes, and that its image pins the
versions uv.lock locks.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def locked(package: str) -> str:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == package)


def test_mlflow_serves_basic_auth_on_postgres_and_s3(compose: dict) -> None:
    mlflow = compose["services"]["mlflow"]
    script = " ".join(mlflow["entrypoint"])
    assert "mlflow server --app-name basic-auth" in script
    assert "default_permission = NO_PERMISSIONS" in script
    assert re.search(r"--backend-store-uri \"postgresql\+psycopg://[^\"]+@postgres:5432/", script)
    assert "--artifacts-destination s3://mlflow/" in script
    assert "mlflow_auth" in script
    assert mlflow["environment"]["MLFLOW_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert mlflow["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert mlflow["depends_on"]["minio-bucket"]["condition"] == "service_completed_successfully"
    assert "CREATE DATABASE mlflow_auth" in (DEPLOY / "postgres" / "auth-database.sql").read_text()


def test_every_secret_is_required_never_defaulted(compose: dict) -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    variables = re.findall(r"(?<!\$)\$\{([^}]*)\}", text)
    assert variables, "the secrets come from the environment"
    assert all(re.fullmatch(r"[A-Z_]+:\?.+", v) for v in variables), variables
    assert "MLFLOW_FLASK_SERVER_SECRET_KEY" in compose["services"]["mlflow"]["environment"]


@pytest.mark.parametrize("package", ["mlflow", "psycopg"])
def test_the_server_image_pins_the_locked_versions(package: str) -> None:
    dockerfile = (DEPLOY / "mlflow" / "Dockerfile").read_text()
    pinned = re.search(rf'"{package}(\[[a-z]+\])?==([^"]+)"', dockerfile)
    assert pinned, dockerfile
    assert pinned.group(2) == locked(package)


def test_every_image_is_pinned_by_release_and_digest(compose: dict) -> None:
    images = {name: service.get("image") for name, service in compose["services"].items()}
    minio = {name: image for name, image in images.items() if image and "minio" in image}
    assert len(minio) == 2, images
    for image in minio.values():
        assert re.search(r":RELEASE\.\d{4}-\d\d-\d\dT[\d-]+Z@sha256:[0-9a-f]{64}$", image), image
    assert not [image for image in images.values() if image and image.endswith(":latest")]


def test_dependabot_proposes_the_image_updates() -> None:
    import yaml

    config = yaml.safe_load((DEPLOY.parent / ".github" / "dependabot.yml").read_text())
    watched = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    assert ("docker-compose", "/deploy") in watched
    assert ("docker", "/deploy/mlflow") in watched
