"""`train`, `monitor`, `predict` and `fetch-current` with their data in a bucket (moto's S3
server, IAM enforced), through the CLI as a user runs them.

One project trains from a versioned bucket (configured by URI), and its v1 is promoted once per
module; each test then works in that bucket with the AWS variables set for it alone. What must
hold: the data is read from the bucket, never from a leftover copy; the run, the report and
the version record the URI and the version id of exactly the objects read, so monitoring finds
the champion's reference there; predictions appear whole under their key, with nothing else
left in the bucket or on disk, whatever fails.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlgate.errors import EXIT_DRIFT
from mlgate.monitoring.document import load_monitoring
from mlgate.report.document import load_report
from mlgate.storage import TAG_ETAG, TAG_VERSION_ID
from support import diabetes
from support.project import Project
from support.s3 import Bucket, MotoS3
from support.stores import sqlite_store

pytestmark = pytest.mark.slow

ALLOW_READ = {
    "Version": "2012-10-17",
    # moto names HEAD requests s3:Head* (AWS counts them as s3:GetObject and s3:ListBucket)
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:Head*", "s3:List*"], "Resource": "*"}
    ],
}


@dataclass(frozen=True)
class Trained:
    project: Project
    bucket: Bucket
    versions: dict[str, str]  # the object version ids training read, by role


def staging_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("mlgate-*")}


def private_temp(patch: pytest.MonkeyPatch, folder: Path) -> None:
    """The commands' temporary folders go to `folder`, which nothing else running beside the
    test (another worker's commands) writes into."""
    folder.mkdir(parents=True, exist_ok=True)
    patch.setenv("TMPDIR", str(folder))
    patch.setattr(tempfile, "tempdir", str(folder))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, s3_server: MotoS3) -> Trained:
    root = tmp_path_factory.mktemp("bucket-project")
    bucket = s3_server.bucket(versioned=True)
    project = Project.create(root, sqlite_store(tmp_path_factory, "bucket-store"))
    versions = {}
    for role in ("train", "validation"):
        key = f"months/{role}.parquet"
        bucket.put(key, root / "data" / f"{role}.parquet")
        versions[role] = bucket.head(key)["VersionId"]
        (root / "data" / f"{role}.parquet").unlink()  # only the bucket holds the data
    config = project.config.read_text()
    config = config.replace('"data/train.parquet"', f'"{bucket.uri("months/train.parquet")}"')
    config = config.replace(
        '"data/validation.parquet"', f'"{bucket.uri("months/validation.parquet")}"'
    )
    project.config.write_text(config)
    with pytest.MonkeyPatch.context() as patch:
        project.enter(patch)
        bucket.enter(patch)
        private_temp(patch, tmp_path_factory.mktemp("bucket-commands-tmp"))
        before = staging_folders()
        assert project.cli("train") == 0
        assert project.cli("promote", "--version", "1") == 0
        assert staging_folders() == before, "no staged copy outlives the command"
    return Trained(project, bucket, versions)


@pytest.fixture
def world(trained: Trained, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Trained:
    trained.project.enter(monkeypatch)
    trained.bucket.enter(monkeypatch)
    private_temp(monkeypatch, tmp_path / "tmp")
    return trained


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The command's one error line (MLflow may warn on lines of its own)."""
    lines = [line for line in capsys.readouterr().err.splitlines() if "error" in line.lower()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0].removeprefix("error: ")


def test_train_records_the_uri_and_version_of_each_object_it_read(world: Trained) -> None:
    project, bucket = world.project, world.bucket
    report = load_report(project.root / "reports" / "report.json")
    data = {d.role: d for d in report.data}
    for role in ("train", "validation"):
        assert data[role].path == bucket.uri(f"months/{role}.parquet")
        assert data[role].version_id == world.versions[role]
        assert data[role].etag == bucket.head(f"months/{role}.parquet")["ETag"].strip('"')
    # The rows are the plug-in's own reading of the same file, wherever it was read from.
    local = diabetes.Diabetes(diabetes.DiabetesOptions())
    with tempfile.TemporaryDirectory() as folder:
        copy = bucket.get("months/train.parquet", Path(folder) / "train.parquet")
        assert data["train"].rows == local.load(copy).rows

    tags = project.tags(report.candidate.version)
    assert tags["data.train.uri"] == bucket.uri("months/train.parquet")
    assert tags["data.train.version_id"] == world.versions["train"]
    assert tags["data.validation.version_id"] == world.versions["validation"]
    assert tags["data.train.digest"] == data["train"].digest

    run = project.client().get_run(report.candidate.run_id)
    inputs = {
        {t.key: t.value for t in i.tags}["mlflow.data.context"]: i
        for i in run.inputs.dataset_inputs
    }
    logged = inputs["training"]
    assert logged.dataset.source_type == "s3"
    assert bucket.uri("months/train.parquet") in logged.dataset.source
    assert logged.dataset.digest == data["train"].digest
    assert {t.key: t.value for t in logged.tags}[TAG_VERSION_ID] == world.versions["train"]
    assert TAG_ETAG in {t.key for t in logged.tags}
    markdown = (project.root / "reports" / "report.md").read_text(encoding="utf-8")
    assert bucket.uri("months/train.parquet")[-40:] in markdown, "the comment names the object"


def test_monitor_reads_the_current_month_and_the_champion_reference_from_the_bucket(
    world: Trained, tmp_path: Path
) -> None:
    project, bucket = world.project, world.bucket
    current = bucket.put("incoming/2024-05.parquet", month(tmp_path / "current.parquet"))
    out = tmp_path / "monitoring"
    assert project.cli("monitor", "--current", current, "--out", str(out)) in (0, EXIT_DRIFT)
    report = load_monitoring(out / "monitoring.json")
    assert report.reference.origin == "champion training data"
    assert report.reference.path == bucket.uri("months/train.parquet")
    assert report.reference.version_id == world.versions["train"]
    assert report.current.path == current
    assert report.current.version_id == bucket.head("incoming/2024-05.parquet")["VersionId"]


def test_monitor_takes_a_given_reference_from_the_bucket(world: Trained, tmp_path: Path) -> None:
    project, bucket = world.project, world.bucket
    reference = bucket.put("given/reference.parquet", month(tmp_path / "r.parquet", seed=7))
    current = bucket.put("given/current.parquet", month(tmp_path / "c.parquet"))
    out = tmp_path / "monitoring"
    code = project.cli("monitor", "--current", current, "--reference", reference, "--out", str(out))
    assert code in (0, EXIT_DRIFT)
    report = load_monitoring(out / "monitoring.json")
    assert report.reference.origin == "given"
    assert report.reference.path == reference
    assert report.reference.version_id == bucket.head("given/reference.parquet")["VersionId"]


def test_monitor_names_a_reference_object_replaced_since_training(
    world: Trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, bucket = world.project, world.bucket
    key = "months/train.parquet"
    original = bucket.get(key, tmp_path / "original.parquet")
    current = bucket.put("incoming/any.parquet", month(tmp_path / "current.parquet"))
    try:
        bucket.put(key, month(tmp_path / "other.parquet", seed=11))
        replaced = bucket.head(key)["VersionId"]
        capsys.readouterr()
        assert project.cli("monitor", "--current", current, "--out", str(tmp_path / "m")) == 1
        error = one_error(capsys)
        assert error.startswith(f"{bucket.uri(key)}: digest ")
        assert (
            f"version {world.versions['train']} trained the champion, version {replaced} is "
            "there now" in error
        )
    finally:
        bucket.put(key, original)


def month(path: Path, seed: int = 5) -> Path:
    rows = diabetes.frame().iloc[: diabetes.TRAIN_ROWS]
    rng = np.random.default_rng(seed)
    rows.iloc[rng.integers(0, len(rows), 200)].reset_index(drop=True).to_parquet(path)
    return path


def test_predict_streams_from_the_bucket_and_publishes_the_whole_output(
    world: Trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, bucket = world.project, world.bucket
    source = bucket.put("score/in.parquet", month(tmp_path / "in.parquet"))
    target = bucket.uri("score/out/predictions.parquet")
    before = staging_folders()
    assert project.cli("predict", "--data", source, "--out", target) == 0
    assert target in capsys.readouterr().out
    assert bucket.keys("score/") == ["score/in.parquet", "score/out/predictions.parquet"]
    assert staging_folders() == before
    local = tmp_path / "local.parquet"
    assert project.cli("predict", "--data", str(tmp_path / "in.parquet"), "--out", str(local)) == 0
    scored = pd.read_parquet(bucket.get("score/out/predictions.parquet", tmp_path / "got.parquet"))
    pd.testing.assert_frame_equal(scored, pd.read_parquet(local))


def test_predict_denied_the_write_leaves_nothing_anywhere(
    world: Trained,
    s3_server: MotoS3,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project, bucket = world.project, world.bucket
    source = bucket.put("denied/in.parquet", month(tmp_path / "in.parquet"))
    reader = s3_server.user(ALLOW_READ)
    bucket.enter(monkeypatch, reader)
    before = staging_folders()
    capsys.readouterr()
    target = bucket.uri("denied/out/predictions.parquet")
    assert project.cli("predict", "--data", source, "--out", target) == 1
    assert one_error(capsys) == (
        f"{target}: access denied writing to bucket '{bucket.name}' with the credentials of "
        "AWS_ACCESS_KEY_ID"
    )
    assert bucket.keys("denied/") == ["denied/in.parquet"]
    assert staging_folders() == before
    assert reader.secret_access_key not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--train-data", "s3://{bucket}/months/nothing.parquet"], "no such object in bucket"),
        (["--val-data", "s3://no-such-bucket-x1/v.parquet"], "bucket 'no-such-bucket-x1' does not"),
    ],
)
def test_train_with_a_missing_object_or_bucket_is_one_line_and_registers_nothing(
    world: Trained, capsys: pytest.CaptureFixture[str], flags: list[str], says: str
) -> None:
    project = world.project
    before = project.client().search_model_versions(f"name = '{project.name}'")
    capsys.readouterr()
    given = [flag.format(bucket=world.bucket.name) for flag in flags]
    assert project.cli("train", *given) == 1
    error = one_error(capsys)
    assert error.startswith(given[1] + ": ")
    assert says in error
    assert project.client().search_model_versions(f"name = '{project.name}'") == before


def test_fetch_current_leaves_the_month_in_the_bucket(world: Trained, tmp_path: Path) -> None:
    project, bucket = world.project, world.bucket
    script = tmp_path / "fetch.py"
    script.write_text(
        "import sys, shutil\nshutil.copy(sys.argv[1], sys.argv[2])\n", encoding="utf-8"
    )
    source = month(tmp_path / "fetched.parquet")
    config = project.root / "fetch.toml"
    config.write_text(
        project.config.read_text()
        + f'[monitoring.current]\ncommand = ["{sys.executable}", "{script}", "{source}", '
        '"{out}"]\n',
        encoding="utf-8",
    )
    target = bucket.uri("fetched/2024-06.parquet")
    from mlgate.cli import main

    assert main(["--quiet", "--config", str(config), "fetch-current", "--out", target]) == 0
    assert bucket.keys("fetched/") == ["fetched/2024-06.parquet"]
    assert os.path.getsize(source) == bucket.head("fetched/2024-06.parquet")["ContentLength"]
