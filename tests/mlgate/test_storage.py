"""Paths and object URIs opened the same way (`mlgate.storage`), against moto's S3 server.

The server enforces IAM (support.s3), so a missing bucket or object, an unknown key, a wrong
secret and a user without a policy get the answers AWS gives, and each must come back as one
line naming the object and never a credential. An endpoint that does not answer is abandoned
within the configured bounds. Outputs appear whole under their key or not at all, and neither
a staged copy nor a temporary key outlives a failure or SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlgate import storage, termination
from mlgate.cli import main
from mlgate.errors import UsageError, UserError
from mlgate.storage import Origin, Output, Uri, location
from support.mlflow_server import free_port
from support.s3 import Bucket, MotoS3, no_aws_lookups

AZURE = "data@acct.dfs.core.windows.net"
GCS = "google::cloud::Status"
ALLOW_READ = {
    "Version": "2012-10-17",
    # moto names HEAD requests s3:HeadObject (AWS counts them as s3:GetObject)
    "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:Head*"], "Resource": "*"}],
}


# -- what a data flag means ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("data/train.parquet", Path("data/train.parquet")),
        ("/abs/x.parquet", Path("/abs/x.parquet")),
        ("file:///abs/my%20x.parquet", Path("/abs/my x.parquet")),
        ("C:\\data\\x.parquet", Path("C:\\data\\x.parquet")),
    ],
)
def test_paths_stay_paths(text: str, expected: Path) -> None:
    assert location(text) == expected
    assert isinstance(location(text), Path)


@pytest.mark.parametrize(
    ("text", "scheme", "bucket", "key"),
    [
        ("s3://data-bucket/months/2024-01.parquet", "s3", "data-bucket", "months/2024-01.parquet"),
        ("gs://b/x.parquet", "gs", "b", "x.parquet"),
        ("gcs://b/x.parquet", "gs", "b", "x.parquet"),
        (f"abfs://{AZURE}/m/x.parquet", "abfs", AZURE, "m/x.parquet"),
        (f"abfss://{AZURE}/x.parquet", "abfs", AZURE, "x.parquet"),
    ],
)  # fmt: skip
def test_object_uris_keep_their_text_and_name_their_object(
    text: str, scheme: str, bucket: str, key: str
) -> None:
    uri = location(text)
    assert isinstance(uri, Uri)
    assert str(uri) == text, "shown as written"
    assert (uri.scheme, uri.bucket, uri.key) == (scheme, bucket, key)
    assert uri.name == key.rsplit("/", 1)[-1], "named like a file"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("ftp://host/x.parquet", "unsupported URI scheme ftp://"),
        ("s3://just-a-bucket", "naming one object"),
        ("s3://bucket/folder/", "naming one object"),
        ("s3:///key", "naming one object"),
        ("s3://bucket/x.parquet?versionId=3", "no query"),
    ],
)
def test_a_uri_that_names_no_object_is_a_usage_error(text: str, says: str) -> None:
    with pytest.raises(UsageError, match=says):
        location(text)


def test_the_cli_refuses_a_bad_uri_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["train", "--train-data", "ftp://host/x.parquet"])
    assert exited.value.code == 2
    assert "unsupported URI scheme ftp://" in capsys.readouterr().err


def test_the_configuration_takes_a_uri_and_a_relative_path(tmp_path: Path) -> None:
    from mlgate.config import load_settings

    config = tmp_path / "mlgate.toml"
    config.write_text(
        '[data]\ntrain = "s3://data-bucket/train.parquet"\nvalidation = "v.parquet"\n'
    )
    settings = load_settings(config)
    train = settings.data_path("train")
    assert isinstance(train, Uri)
    assert train == "s3://data-bucket/train.parquet"
    assert settings.data_path("validation") == tmp_path / "v.parquet"
    config.write_text('[data]\ntrain = "s3://data-bucket"\n')
    with pytest.raises(UserError, match=r"data\.train"):
        load_settings(config)


def test_a_missing_credential_is_named_per_provider() -> None:
    for text, names in (
        ("s3://b/k", "AWS_ACCESS_KEY_ID"),
        ("gs://b/k", "GOOGLE_APPLICATION_CREDENTIALS"),
        ("abfs://c@a.dfs.core.windows.net/k", "AZURE_STORAGE_ACCOUNT_KEY"),
    ):
        uri = location(text)
        error = storage.failure(uri, PermissionError("AWS Error ACCESS_DENIED"), env={})
        assert str(error).startswith(f"{text}: no ")
        assert names in str(error)


@pytest.mark.parametrize(
    ("raised", "says"),
    [
        (OSError(f"{GCS}(PERMISSION_DENIED: 'x' denied)"), "access denied reading bucket 'b'"),
        (OSError(f"{GCS}(UNAVAILABLE: Retry policy exhausted)"), "cannot reach Google Cloud"),
        (FileNotFoundError("Path does not exist 'b/k'"), "no such object in bucket 'b'"),
    ],
)  # fmt: skip
def test_google_cloud_storage_errors_map_to_one_line(raised: OSError, says: str) -> None:
    """No GCS server here: the mapping of its errors, as pyarrow words them, alone."""
    error = storage.failure(
        location("gs://b/k.parquet"), raised, env={"GOOGLE_APPLICATION_CREDENTIALS": "/k.json"}
    )
    assert str(error).startswith(f"gs://b/k.parquet: {says}")
    assert "/k.json" not in str(error)


def test_google_and_azure_filesystems_are_made_without_a_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Made offline (no server of either here): bounded GCS retries; Azure's account from
    the URI, its key from AZURE_STORAGE_ACCOUNT_KEY."""
    import pyarrow.fs as pafs

    fs, path = storage.filesystem(location("gs://b/m/k.parquet"))
    assert isinstance(fs, pafs.GcsFileSystem)
    assert path == "b/m/k.parquet"
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", "a2V5")
    fs, path = storage.filesystem(location(f"abfs://{AZURE}/m/k.parquet"))
    assert isinstance(fs, pafs.AzureFileSystem)
    assert path == "data/m/k.parquet"


def test_writing_to_s3_without_the_s3_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # `import boto3` fails, as when missing
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # never AWS
    with pytest.raises(UserError, match=r"mlgate\[s3\]") as missing:
        storage.check_output(location("s3://b/out.parquet"))
    assert one_line(missing.value).startswith("writing to s3:// needs boto3")


# -- against the S3 server -------------------------------------------------------------------


def parquet(path: Path, rows: int = 50) -> Path:
    pq.write_table(pa.table({"a": list(range(rows)), "b": [i % 3 for i in range(rows)]}), path)
    return path


@pytest.mark.slow
def test_an_object_is_staged_read_and_its_copy_removed(bucket: Bucket, tmp_path: Path) -> None:
    uri = location(bucket.put("months/x.parquet", parquet(tmp_path / "x.parquet")))
    with storage.local_copy(uri) as (path, origin):
        assert path.name == "x.parquet", "the copy keeps the object's name and suffix"
        assert pq.read_table(path).num_rows == 50
        seen = path
    assert not seen.exists()
    assert not seen.parent.exists()
    assert origin is not None
    assert origin.uri == str(uri)
    assert origin.etag == bucket.head("months/x.parquet")["ETag"].strip('"')
    assert origin.version_id is None, "the bucket is not versioned"


@pytest.mark.slow
def test_a_versioned_object_records_the_version_that_was_read(
    s3_server: MotoS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    versioned = s3_server.bucket(versioned=True)
    versioned.enter(monkeypatch)
    uri = location(versioned.put("x.parquet", parquet(tmp_path / "x.parquet", 10)))
    first = versioned.head("x.parquet")["VersionId"]
    with storage.local_copy(uri) as (_, origin):
        pass
    assert origin == Origin(str(uri), first, versioned.head("x.parquet")["ETag"].strip('"'))
    versioned.put("x.parquet", parquet(tmp_path / "y.parquet", 20))
    with storage.local_copy(uri) as (path, again):
        assert pq.read_table(path).num_rows == 20
    assert again is not None
    assert again.version_id not in (None, first)


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text
    return text


@pytest.mark.slow
def test_a_missing_bucket_and_a_missing_object_are_named(bucket: Bucket) -> None:
    with pytest.raises(UserError) as missing:
        storage.download(location("s3://no-such-bucket-here/x.parquet"), Path("/nonexistent"))
    assert one_line(missing.value) == (
        "s3://no-such-bucket-here/x.parquet: bucket 'no-such-bucket-here' does not exist"
    )
    with pytest.raises(UserError) as gone, storage.local_copy(location(bucket.uri("no/x"))):
        pass
    assert one_line(gone.value) == (
        f"{bucket.uri('no/x')}: no such object in bucket '{bucket.name}'"
    )


@pytest.mark.slow
def test_denied_access_names_the_bucket_and_the_variable_never_the_secret(
    bucket: Bucket, s3_server: MotoS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    uri = location(bucket.put("x.parquet", parquet(tmp_path / "x.parquet")))
    nobody = s3_server.user()  # a user with no policy at all
    bucket.enter(monkeypatch, nobody)
    with pytest.raises(UserError) as denied, storage.local_copy(uri):
        pass
    text = one_line(denied.value)
    assert text == (
        f"{uri}: access denied reading bucket '{bucket.name}' with the credentials of "
        "AWS_ACCESS_KEY_ID"
    )
    assert nobody.secret_access_key not in text
    assert nobody.access_key_id not in text


@pytest.mark.slow
def test_a_reader_may_read_but_not_write(
    bucket: Bucket, s3_server: MotoS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    uri = location(bucket.put("x.parquet", parquet(tmp_path / "x.parquet")))
    bucket.enter(monkeypatch, s3_server.user(ALLOW_READ))
    with storage.local_copy(uri) as (path, _):
        assert path.is_file()
    out = Output(location(bucket.uri("out/y.parquet")))
    parquet(out.local)
    with pytest.raises(UserError) as denied:
        out.commit()
    out.discard()
    assert one_line(denied.value) == (
        f"{bucket.uri('out/y.parquet')}: access denied writing to bucket '{bucket.name}' with "
        "the credentials of AWS_ACCESS_KEY_ID"
    )
    assert bucket.keys("out/") == [], "no object, partial or temporary, was left"
    assert not out.local.parent.exists()


@pytest.mark.slow
@pytest.mark.parametrize("wrong", ["secret", "key"])
def test_rejected_credentials_are_one_line_without_the_secret(
    bucket: Bucket, s3_server: MotoS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, wrong: str
) -> None:
    uri = location(bucket.put("x.parquet", parquet(tmp_path / "x.parquet")))
    keys = s3_server.admin
    secret = "Wr0ngSecretWr0ngSecretWr0ngSecret0000000"
    bad = type(keys)(keys.access_key_id if wrong == "secret" else "AKIAUNKNOWNKEY000000", secret)
    bucket.enter(monkeypatch, bad)
    with pytest.raises(UserError) as rejected, storage.local_copy(uri):
        pass
    text = one_line(rejected.value)
    assert text == (
        f"{uri}: S3 rejected the credentials of AWS_ACCESS_KEY_ID (unknown key, wrong secret "
        "or expired token)"
    )
    assert secret not in text


@pytest.mark.slow
def test_no_credentials_at_all_says_which_variables_to_set(
    bucket: Bucket, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    uri = location(bucket.put("x.parquet", parquet(tmp_path / "x.parquet")))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    started = time.monotonic()
    with pytest.raises(UserError) as missing, storage.local_copy(uri):
        pass
    assert time.monotonic() - started < 30
    assert one_line(missing.value) == (
        f"{uri}: no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "(or AWS_PROFILE) (docs/storage.md)"
    )


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    server.close()


@pytest.mark.parametrize(
    "kind", ["closed port", pytest.param("silent server", marks=pytest.mark.slow)]
)
def test_an_endpoint_that_does_not_answer_is_abandoned_within_bounds(
    kind: str, silent_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}" if kind == "closed port" else silent_endpoint
    for key, value in no_aws_lookups().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE000000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-never-printed")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(storage, "REQUEST_TIMEOUT_S", 1.0)
    monkeypatch.setattr(storage, "CONNECT_TIMEOUT_S", 1.0)
    monkeypatch.setattr(storage, "ATTEMPTS", 2)
    started = time.monotonic()
    with pytest.raises(UserError) as unreachable, storage.local_copy(location("s3://b-x/x.bin")):
        pass
    took = time.monotonic() - started
    assert took < 15, f"{kind}: {took:.1f} s"
    assert one_line(unreachable.value) == (
        f"s3://b-x/x.bin: cannot reach the S3 endpoint {endpoint} "
        "(AWS_ENDPOINT_URL): gave up after 2 attempts"
    )
    assert "s3cr3t" not in str(unreachable.value)


@pytest.mark.slow
def test_an_output_appears_whole_under_its_key_and_nothing_else_stays(bucket: Bucket) -> None:
    target = location(bucket.uri("predictions/out.parquet"))
    storage.check_output(target)
    out = Output(target)
    parquet(out.local, 1000)
    assert bucket.keys() == [], "nothing in the bucket before the commit"
    out.commit()
    out.discard()
    assert bucket.keys() == ["predictions/out.parquet"]
    bucket.get("predictions/out.parquet", out.local.parent.parent / "back.parquet")
    assert not out.local.parent.exists()


@pytest.mark.slow
def test_an_output_to_a_missing_bucket_is_refused_before_any_work(bucket: Bucket) -> None:
    with pytest.raises(UserError) as refused:
        storage.check_output(location("s3://no-such-bucket-here/out.parquet"))
    assert one_line(refused.value) == (
        "s3://no-such-bucket-here/out.parquet: bucket 'no-such-bucket-here' does not exist"
    )
    bucket.server.client().put_object(Bucket=bucket.name, Key="folder/inside.parquet", Body=b"x")
    with pytest.raises(UserError, match="is a folder"):
        storage.check_output(location(bucket.uri("folder")))


@pytest.mark.slow
def test_sigterm_during_an_upload_leaves_no_object_and_exits_143(
    bucket: Bucket, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(storage, "CHUNK_BYTES", 64 * 1024)
    target = location(bucket.uri("out.bin"))
    out = Output(target)
    out.local.write_bytes(os.urandom(2 * 1024 * 1024))
    sent = []
    real = storage.filesystem

    def filesystem(uri: Uri, env=os.environ):  # SIGTERM once the upload has begun
        fs, path = real(uri, env)

        class Stream:
            def __init__(self, inner):
                self.inner = inner

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return self.inner.__exit__(*exc)

            def write(self, chunk):
                self.inner.write(chunk)
                if not sent:
                    sent.append(True)
                    os.kill(os.getpid(), signal.SIGTERM)

        class Wrapped:
            def open_output_stream(self, key):
                return Stream(fs.open_output_stream(key))

            def __getattr__(self, name):
                return getattr(fs, name)

        return Wrapped(), path

    monkeypatch.setattr(storage, "filesystem", filesystem)

    def commit() -> None:
        with termination.deferred():
            try:
                out.commit()
            finally:
                out.discard()

    with pytest.raises(termination.Terminated):
        commit()
    assert sent
    assert bucket.keys() == [], "neither the target nor the temporary key is kept"
    assert not out.local.exists()


@pytest.mark.slow
def test_sigterm_while_staging_stops_at_once_and_removes_the_copy(
    bucket: Bucket, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    uri = location(bucket.put("x.parquet", parquet(tmp_path / "x.parquet")))
    copies: list[Path] = []
    real = storage.download

    def slow_download(source: Uri, local: Path) -> Origin:
        origin = real(source, local)  # the copy exists...
        copies.append(local)
        os.kill(os.getpid(), signal.SIGTERM)  # ...when the job is cancelled, mid-download
        time.sleep(30)
        return origin

    monkeypatch.setattr(storage, "download", slow_download)
    started = time.monotonic()
    with pytest.raises(termination.Terminated), storage.local_copy(uri):
        pytest.fail("the block must not run: SIGTERM arrived while downloading")
    assert time.monotonic() - started < 10, "the download was cut, not waited for"
    assert copies
    assert not copies[0].parent.exists()


@pytest.mark.slow
def test_sigterm_while_the_copy_is_read_is_acted_on_once_it_is_removed(
    bucket: Bucket, tmp_path: Path
) -> None:
    uri = location(bucket.put("x.parquet", parquet(tmp_path / "x.parquet")))
    seen: list[Path] = []

    def read() -> None:
        with storage.local_copy(uri) as (path, _):
            os.kill(os.getpid(), signal.SIGTERM)
            seen.append(path)
            assert pq.read_table(path).num_rows == 50, "the read is not cut half-way"
            seen.append(path)

    with pytest.raises(termination.Terminated):
        read()
    assert len(seen) == 2
    assert not seen[0].parent.exists()


@pytest.mark.slow
def test_in_a_versioned_bucket_only_the_output_has_versions(
    s3_server: MotoS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    versioned = s3_server.bucket(versioned=True)
    versioned.enter(monkeypatch)
    out = Output(location(versioned.uri("runs/out.parquet")))
    parquet(out.local)
    out.commit()
    out.discard()
    listed = versioned.server.client().list_object_versions(Bucket=versioned.name)
    keys = [v["Key"] for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]]
    assert keys == ["runs/out.parquet"], "the temporary key left no version nor delete marker"
