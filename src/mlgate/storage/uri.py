"""A data file's address: a local `Path`, or an object's `Uri` (`s3://`, `gs://`, `abfs://`),
parsed once where a flag or a setting is read."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from mlgate.errors import UsageError

SCHEMES = {"s3": "s3", "gs": "gs", "gcs": "gs", "abfs": "abfs", "abfss": "abfs"}
"""URI schemes and the provider each names."""
PROVIDERS = {"s3": "S3", "gs": "Google Cloud Storage", "abfs": "Azure storage"}


class Uri(str):
    """An object's URI as given (`s3://bucket/key`).

    A `str`, so messages, reports and MLflow tags show it as the user wrote it, that also
    answers `.name` like a `Path` does (the key's last part), so code that names a data file
    by its file name names an object the same way.
    """

    @property
    def scheme(self) -> str:
        return SCHEMES[urlsplit(self).scheme.lower()]

    @property
    def bucket(self) -> str:
        """The bucket (S3, GCS) or `container@account...` (Azure)."""
        return urlsplit(self).netloc

    @property
    def key(self) -> str:
        return unquote(urlsplit(self).path).lstrip("/")

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def provider(self) -> str:
        return PROVIDERS[self.scheme]


Location = Path | Uri
"""Where a data file is: a local path, or an object's URI."""


def location(text: str | Path) -> Location:
    """A data flag's or setting's value: a `Uri` for object storage, else a `Path`.

    `file://` URIs are local paths; any other scheme, or a URI naming no object, is a
    `UsageError` naming it.
    """
    if isinstance(text, Path):
        return text
    value = str(text).strip()
    split = urlsplit(value)
    if "://" not in value or len(split.scheme) < 2:
        return Path(value)  # C:\data\x.parquet has a one-letter "scheme"
    scheme = split.scheme.lower()
    if scheme == "file":
        return Path(unquote(split.path))
    if scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise UsageError(f"{value}: unsupported URI scheme {scheme}:// (a path, or one of {known})")
    uri = Uri(value)
    if not split.netloc or not uri.key or uri.key.endswith("/"):
        raise UsageError(
            f"{value}: expected {scheme}://BUCKET/KEY naming one object, not a bucket or folder"
        )
    if split.query or split.fragment:
        raise UsageError(f"{value}: a data URI takes no query or fragment (?…, #…)")
    return uri


def argument(text: str) -> Location:
    """`location` as an argparse `type`: a bad URI is a usage error (exit 2)."""
    import argparse

    try:
        return location(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def shown(value: Location, root: Path) -> str:
    """How reports name a data file: a URI as given; a path inside the project relative to
    it (shorter, and the same on every runner)."""
    if isinstance(value, Uri):
        return str(value)
    try:
        return str(value.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(value)
