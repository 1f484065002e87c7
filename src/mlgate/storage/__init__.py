"""Data files on this machine or in object storage, opened the same way.

Every data flag (and `[tool.mlgate.data]`) takes a local path or a URI: `s3://bucket/key`,
`gs://bucket/key` or `abfs://container@account.dfs.core.windows.net/path`, opened with
pyarrow's own filesystems. Credentials are each provider's standard environment (AWS_*,
GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*); `AWS_ENDPOINT_URL` points at an
S3-compatible server (MinIO). Nothing here prints a credential.

Why the shapes below:

- A model plug-in reads a local `Path` (the contract stays as simple as it was), so an object
  is staged: copied whole to a private temporary folder, handed to the plug-in, and removed on
  every way out (an error, SIGTERM). The `Dataset` then names the URI, not the copy, and the
  object's version id (a versioned S3 bucket) or ETag comes from the very response that
  carried its bytes, so lineage can never name a version other than the one read.
- Batch scoring streams its input by row group instead (ranged reads, flat memory).
- An output in a bucket is written locally first, uploaded under a temporary key beside the
  target, then copied onto the target key server-side and the temporary key deleted: a
  reader never sees a partial object under the target, and a failure or SIGTERM leaves
  nothing behind (the temporary key is deleted on the way out). On S3 the copy and the
  delete are boto3's (the `s3` extra): a multipart copy past 5 GB, and no folder marker.
- Every request is bounded: connect and request timeouts and a few retries, so an
  unreachable endpoint or a missing credential is one line within a minute, never a hang.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import termination
from mlgate.errors import UserError
from mlgate.storage.failures import (
    AWS_CREDENTIAL_SOURCES,
    bucket_phrase,
    failure,
    first_line,
    is_provider_error,
)
from mlgate.storage.lineage import TAG_ETAG, TAG_VERSION_ID, dataset_source, input_tags
from mlgate.storage.uri import PROVIDERS, SCHEMES, Location, Uri, argument, location, shown

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.fs as pafs

__all__ = [
    "AWS_CREDENTIAL_SOURCES",
    "PROVIDERS",
    "SCHEMES",
    "TAG_ETAG",
    "TAG_VERSION_ID",
    "Location",
    "Uri",
    "argument",
    "dataset_source",
    "failure",
    "input_tags",
    "location",
    "shown",
]

CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 20.0
"""S3: a request that moves no byte for this long is abandoned (and retried)."""
ATTEMPTS = 3
GCS_RETRY_LIMIT_S = 60.0
CHUNK_BYTES = 8 * 1024 * 1024
AZURE_KEYS = ("AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_ACCESS_KEY", "AZURE_STORAGE_KEY")


# -- filesystems ----------------------------------------------------------------------------


def endpoint(env: Mapping[str, str] = os.environ) -> str | None:
    """The S3-compatible server's URL, from the AWS SDKs' own variables."""
    return (env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or "").strip() or None


def filesystem(uri: Uri, env: Mapping[str, str] = os.environ) -> tuple[pafs.FileSystem, str]:
    """pyarrow's filesystem for `uri` and the object's path in it, with bounded requests."""
    import pyarrow.fs as pafs

    try:
        if uri.scheme == "s3":
            return _s3(uri, env), f"{uri.bucket}/{uri.key}"
        if uri.scheme == "gs":
            return pafs.GcsFileSystem(
                retry_time_limit=timedelta(seconds=GCS_RETRY_LIMIT_S)
            ), f"{uri.bucket}/{uri.key}"
        return _azure(uri, env)
    except (ImportError, AttributeError) as exc:
        raise UserError(
            f"{uri}: this pyarrow cannot open {uri.provider} ({first_line(exc)}); "
            "install a pyarrow build with it (the wheels on PyPI have S3, GCS and Azure)"
        ) from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{uri}: cannot open {uri.provider} ({first_line(exc)})") from None


def _s3(uri: Uri, env: Mapping[str, str]) -> pafs.S3FileSystem:
    import pyarrow.fs as pafs

    options: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "request_timeout": REQUEST_TIMEOUT_S,
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=ATTEMPTS),
    }
    url = endpoint(env)
    region = (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "").strip()
    if url:
        options["endpoint_override"] = url
        # An S3-compatible server takes any region; path-style addressing is its default.
        options["region"] = region or "us-east-1"
    elif region:
        options["region"] = region
    else:
        with contextlib.suppress(OSError):
            options["region"] = pafs.resolve_s3_region(uri.bucket)
    return pafs.S3FileSystem(**options)


def _azure(uri: Uri, env: Mapping[str, str]) -> tuple[pafs.FileSystem, str]:
    """`abfs://container@account.dfs.core.windows.net/path`: pyarrow parses the URI; an
    account key from AZURE_STORAGE_* is passed on (else Azure's default credential chain)."""
    import pyarrow.fs as pafs

    account_key = next((env[k] for k in AZURE_KEYS if env.get(k)), None)
    container, _, host = uri.bucket.partition("@")
    account = host.split(".", 1)[0] or env.get("AZURE_STORAGE_ACCOUNT_NAME", "")
    if account_key and account and container:
        return pafs.AzureFileSystem(account, account_key=account_key), f"{container}/{uri.key}"
    fs, path = pafs.FileSystem.from_uri(str(uri))
    return fs, path


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """What was read: the URI as given, and the object's identity at the time it was read."""

    uri: str
    version_id: str | None = None  # a versioned bucket's version of the object
    etag: str | None = None  # the object's ETag (a content hash for simple uploads)


@contextmanager
def local_copy(value: Location) -> Iterator[tuple[Path, Origin | None]]:
    """A local path to read `value` from: the path itself, or a private copy of the object
    that is removed when the block ends, however it ends.

    SIGTERM while the object downloads stops at once; while the caller reads the copy it is
    acted on when the block ends, after the copy is gone (`mlgate.termination`).
    """
    if not isinstance(value, Uri):
        yield value, None
        return
    with termination.deferred():
        folder = Path(tempfile.mkdtemp(prefix="mlgate-object-"))
        try:
            local = folder / (value.name or "object")
            with termination.interruptible():
                origin = download(value, local)
            yield local, origin
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def download(uri: Uri, local: Path) -> Origin:
    """Copy the object to `local` in chunks; its version id and ETag come from the same
    response as its bytes."""
    fs, path = filesystem(uri)
    try:
        with fs.open_input_stream(path) as source, local.open("wb") as target:
            metadata = _metadata(source)
            while chunk := source.read(CHUNK_BYTES):
                target.write(chunk)
                termination.check()
    except OSError as exc:
        if isinstance(exc, PermissionError | FileNotFoundError) or is_provider_error(exc):
            raise failure(uri, exc, fs, path) from None
        raise UserError(f"{local}: cannot keep a copy of {uri} ({exc.strerror or exc})") from None
    etag = metadata.get("etag")
    return Origin(str(uri), metadata.get("versionid"), etag.strip('"') if etag else None)


def open_parquet(uri: Uri) -> pa.NativeFile:
    """The object as a random-access file, for reading parquet by row group."""
    fs, path = filesystem(uri)
    try:
        return fs.open_input_file(path)
    except OSError as exc:
        raise failure(uri, exc, fs, path) from None


def _metadata(stream: Any) -> dict[str, str]:
    try:
        raw = stream.metadata() or {}
    except (OSError, AttributeError):
        return {}
    found = {}
    for key, value in raw.items():
        text = value.decode() if isinstance(value, bytes) else str(value)
        name = (key.decode() if isinstance(key, bytes) else str(key)).lower().replace("-", "")
        if text and text != "null":
            found[name] = text
    return found


# -- writing -------------------------------------------------------------------------------


class Output:
    """Where a command's output file goes, written whole or not at all.

    Write to `local`; then `commit()` puts it at the target (a rename beside a local target,
    an upload and a server-side copy for an object) and `discard()`, always called after,
    removes whatever is left. A local target's partial file is `partial` (`{name}` is the
    target's name) beside it.
    """

    def __init__(self, target: Location, *, partial: str = "{name}.tmp") -> None:
        self.target = target
        self._folder: Path | None = None
        if isinstance(target, Uri):
            self._folder = Path(tempfile.mkdtemp(prefix="mlgate-output-"))
            self.local = self._folder / (target.name or "output")
        else:
            self.local = target.with_name(partial.format(name=target.name))

    def commit(self) -> None:
        if isinstance(self.target, Uri):
            publish(self.local, self.target)
        else:
            self.local.replace(self.target)

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if not self.local.is_dir():
                self.local.unlink()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def publish(local: Path, uri: Uri) -> None:
    """Upload `local` under a temporary key beside `uri`'s, then copy it onto `uri`'s key
    (one server-side copy: the target appears whole) and delete the temporary key.

    Between chunks of the upload a SIGTERM stops it; the temporary key is deleted on every
    way out, so neither a partial object nor a leftover is ever kept.
    """
    fs, path = filesystem(uri)
    copy, delete = _server_side(uri, fs)
    staging = f"{path}.{secrets.token_hex(6)}.mlgate-upload"
    try:
        with (
            termination.interruptible(),
            local.open("rb") as source,
            fs.open_output_stream(staging) as target,
        ):
            while chunk := source.read(CHUNK_BYTES):
                target.write(chunk)
                termination.check()
        termination.check()
        copy(staging, path)
    except OSError as exc:
        raise failure(uri, exc, fs, path, writing=True) from None
    finally:
        with contextlib.suppress(Exception):
            delete(staging)


def _server_side(uri: Uri, fs: Any) -> tuple[Any, Any]:
    """How to copy the temporary key onto the target and delete it. On S3, boto3 (the `s3`
    extra): its copy is a multipart copy past 5 GB, where one CopyObject request (pyarrow's)
    stops, and pyarrow's delete puts an empty folder marker (`prefix/`) in the key's place,
    which would be left behind."""
    if uri.scheme != "s3":
        return fs.copy_file, fs.delete_file
    client = s3_client()

    def copy(source: str, target: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, _, key = source.partition("/")
        try:
            client.copy({"Bucket": bucket, "Key": key}, *target.split("/", 1))
        except (BotoCoreError, ClientError) as exc:
            raise OSError(str(exc)) from None

    def delete(path: str) -> None:
        """Every version of the key (a versioned bucket keeps a deleted key's data)."""
        bucket, _, key = path.partition("/")
        try:
            listed = client.list_object_versions(Bucket=bucket, Prefix=key)
        except Exception:  # no s3:ListBucketVersions: delete the current version alone
            client.delete_object(Bucket=bucket, Key=key)
            return
        found = [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]
        ids = [item["VersionId"] for item in found if item.get("Key") == key]
        for version in ids or [None]:
            extra = {"VersionId": version} if version else {}
            client.delete_object(Bucket=bucket, Key=key, **extra)

    return copy, delete


def s3_client(env: Mapping[str, str] = os.environ) -> Any:
    """A boto3 S3 client with the same endpoint, region and bounds as pyarrow's; one line
    naming the `s3` extra when boto3 is not installed."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise UserError(
            "writing to s3:// needs boto3: install mlgate with its s3 extra "
            "(pip install 'mlgate[s3]', or uv sync --extra s3)"
        ) from None
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=REQUEST_TIMEOUT_S,
        retries={"max_attempts": ATTEMPTS, "mode": "standard"},
    )
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint(env), region_name=region, config=config
    )


def check_output(value: Location) -> None:
    """Before any work: a local output must be writable (`check_writable`); an object's
    bucket must exist and be reachable with these credentials, and its key not a folder."""
    if not isinstance(value, Uri):
        from mlgate.report.document import check_writable

        check_writable(value)
        return
    import pyarrow.fs as pafs

    if value.scheme == "s3":
        s3_client()  # boto3 is there to clean up after the upload
    fs, path = filesystem(value)
    try:
        found = fs.get_file_info([value.bucket if value.scheme != "abfs" else path, path])
    except OSError as exc:
        raise failure(value, exc, fs, path, writing=True) from None
    if value.scheme != "abfs" and found[0].type == pafs.FileType.NotFound:
        raise UserError(f"{value}: {bucket_phrase(value)} does not exist")
    if found[1].type == pafs.FileType.Directory:
        raise UserError(f"{value}: is a folder (objects under {value.key}/); name an object")
