"""One line for a failed read or write of an object: which bucket or object, and whether it is
missing, denied, or the credentials are missing or rejected. Providers answer in their own
words (pyarrow passes them on), so the causes are recognised by those words; a credential's
value never appears, only the variable that holds it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlgate.errors import UserError
from mlgate.storage.uri import Uri

AWS_CREDENTIAL_SOURCES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)

_DENIED = re.compile(
    r"ACCESS_DENIED|AccessDenied|PERMISSION_DENIED|AuthorizationPermission|\b403\b"
)
_BAD_KEY = re.compile(
    r"INVALID_ACCESS_KEY_ID|InvalidAccessKeyId|SIGNATURE_DOES_NOT_MATCH|SignatureDoesNotMatch"
    r"|INVALID_CLIENT_TOKEN_ID|InvalidClientTokenId|ExpiredToken|EXPIRED_TOKEN|\b401\b"
    r"|AuthenticationFailed|UNAUTHENTICATED"
)
_NO_BUCKET = re.compile(
    r"NO_SUCH_BUCKET|NoSuchBucket|ContainerNotFound|bucket does not exist", re.I
)
_NETWORK = re.compile(
    r"NETWORK_CONNECTION|curlCode|Could not resolve|Couldn't connect|Could not connect"
    r"|Connection refused|Connect timeout|Read timeout"
    r"|Timeout was reached|UNAVAILABLE|DEADLINE_EXCEEDED",
    re.I,
)
_NO_CREDENTIALS = re.compile(
    r"No response body|MISSING_AUTHENTICATION|MissingAuthenticationToken|credentials", re.I
)


def is_provider_error(exc: OSError) -> bool:
    return bool(re.search(r"AWS Error|google|Azure", str(exc)))


def failure(
    uri: Uri,
    exc: BaseException,
    fs: Any = None,
    path: str | None = None,
    *,
    writing: bool = False,
    env: Mapping[str, str] = os.environ,
) -> UserError:
    """One line for a failed read or write of `uri`: a missing bucket or object, denied
    access, rejected or missing credentials, an unreachable endpoint. Never a credential."""
    text = str(exc)
    where = f"{uri}: "
    if _NETWORK.search(text):
        return UserError(where + _unreachable(uri, env))
    if _BAD_KEY.search(text):
        return UserError(where + _rejected(uri, env))
    if _NO_BUCKET.search(text):
        return UserError(where + f"{bucket_phrase(uri)} does not exist")
    if isinstance(exc, FileNotFoundError) or "NO_SUCH_KEY" in text or "NoSuchKey" in text:
        if fs is not None and uri.scheme != "abfs" and _bucket_missing(fs, uri):
            return UserError(where + f"{bucket_phrase(uri)} does not exist")
        return UserError(where + f"no such object in {bucket_phrase(uri)}")
    if isinstance(exc, PermissionError) or _DENIED.search(text):
        if not _credentials_present(uri, env):
            return UserError(where + _missing(uri))
        if fs is not None and uri.scheme == "s3" and _rejected_by_listing(fs, uri):
            return UserError(where + _rejected(uri, env))
        what = "writing to" if writing else "reading"
        return UserError(
            where + f"access denied {what} {bucket_phrase(uri)} with the credentials "
            f"{_credential_source(uri, env)}"
        )
    if _NO_CREDENTIALS.search(text) and not _credentials_present(uri, env):
        return UserError(where + _missing(uri))
    return UserError(where + f"{uri.provider} refused the request ({first_line(exc)})")


def _rejected_by_listing(fs: Any, uri: Uri) -> bool:
    """A HEAD request's 403 has no body, so it cannot tell a wrong key from a denial; a
    listing's answer can (InvalidAccessKeyId, SignatureDoesNotMatch)."""
    import pyarrow.fs as pafs

    try:
        fs.get_file_info(pafs.FileSelector(f"{uri.bucket}/{uri.key}", allow_not_found=True))
    except OSError as exc:
        return bool(_BAD_KEY.search(str(exc)))
    return False


def bucket_phrase(uri: Uri) -> str:
    if uri.scheme == "abfs":
        return f"container {uri.bucket.partition('@')[0]!r}"
    return f"bucket {uri.bucket!r}"


def _bucket_missing(fs: Any, uri: Uri) -> bool:
    import pyarrow.fs as pafs

    try:
        return fs.get_file_info(uri.bucket).type == pafs.FileType.NotFound
    except OSError:
        return False


def _credentials_present(uri: Uri, env: Mapping[str, str]) -> bool:
    if uri.scheme == "s3":
        if any(env.get(name) for name in AWS_CREDENTIAL_SOURCES):
            return True
        files = [env.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"]
        files.append(env.get("AWS_CONFIG_FILE") or "~/.aws/config")
        return any(Path(f).expanduser().is_file() for f in files if f != os.devnull)
    if uri.scheme == "gs":
        return (
            bool(env.get("GOOGLE_APPLICATION_CREDENTIALS"))
            or Path("~/.config/gcloud/application_default_credentials.json").expanduser().is_file()
        )
    return any(k.startswith(("AZURE_STORAGE_", "AZURE_CLIENT_")) and env[k] for k in env)


def _credential_source(uri: Uri, env: Mapping[str, str]) -> str:
    """Which credentials were used, by the variable that holds them, never their value."""
    if uri.scheme == "s3":
        for name in AWS_CREDENTIAL_SOURCES:
            if env.get(name):
                return f"of {name}" if name != "AWS_PROFILE" else f"of profile {env[name]!r}"
        return "of the AWS configuration files"
    if uri.scheme == "gs":
        return "of GOOGLE_APPLICATION_CREDENTIALS"
    return "of AZURE_STORAGE_*"


def _missing(uri: Uri) -> str:
    hints = {
        "s3": "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)",
        "gs": "set GOOGLE_APPLICATION_CREDENTIALS to a service account key file",
        "abfs": "set AZURE_STORAGE_ACCOUNT_KEY (or AZURE_CLIENT_ID, AZURE_TENANT_ID, "
        "AZURE_CLIENT_SECRET)",
    }
    return f"no {uri.provider} credentials found: {hints[uri.scheme]} (docs/storage.md)"


def _rejected(uri: Uri, env: Mapping[str, str]) -> str:
    return (
        f"{uri.provider} rejected the credentials {_credential_source(uri, env)} "
        "(unknown key, wrong secret or expired token)"
    )


def _unreachable(uri: Uri, env: Mapping[str, str]) -> str:
    from mlgate import storage  # its settings, which tests narrow

    url = storage.endpoint(env) if uri.scheme == "s3" else None
    if url:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        host = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        target = f"the S3 endpoint {host} (AWS_ENDPOINT_URL)"
    else:
        target = uri.provider
    return f"cannot reach {target}: gave up after {storage.ATTEMPTS} attempts"


def first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__
