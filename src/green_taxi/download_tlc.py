"""Download real NYC TLC green-taxi months (parquet) for users with internet access.

Why: the repository ships only synthetic months (see green_taxi.make_sample). This fetches the
real monthly files into data/real/ (git-ignored) so the same pipeline can run on real data.

Each file is streamed to a temporary file beside its target and renamed only once it has been
read back as parquet with the columns the model needs, so an interrupted or bad download never
leaves a half-written file behind. Server errors (5xx, 429) and dropped connections are retried
a bounded number of times with exponential backoff; 404/403 and corrupt files fail at once.

Usage:
    python -m green_taxi.download_tlc --months 2023-01 2023-02
    python -m green_taxi.download_tlc --months 2022-10..2023-03 --out-dir /tmp/tlc --force
    TLC_BASE_URL=http://mirror.example/trip-data python -m green_taxi.download_tlc --months 2023-01
    python -m green_taxi.download_tlc --months now-3 --out data/current.parquet

`now-N` is the month N months before the current one (UTC): TLC publishes each month about
two months late, so a scheduled job can always ask for the same relative month.
"""

import argparse
import http.client
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq

DEFAULT_OUT_DIR = Path("data") / "real"  # relative to where it runs: the repository's root
DEFAULT_BASE_URL = "https://d37ci6vzurychx.cloudfront.net/trip-data"
BASE_URL_ENV = "TLC_BASE_URL"
REQUIRED_COLUMNS = (
    "lpep_pickup_datetime",
    "lpep_dropoff_datetime",
    "PULocationID",
    "DOLocationID",
    "trip_distance",
)
RETRY_STATUSES = frozenset({408, 429})  # plus every 5xx
CHUNK_BYTES = 1 << 20
USER_AGENT = "mlgate-download/1.0"


class DownloadError(Exception):
    """A month could not be downloaded; the message is one line naming the month and URL."""


class _TransientError(Exception):
    """A failure worth retrying (server error, dropped or truncated connection)."""


def _parse_month(text: str, today: date | None = None) -> tuple[int, int]:
    if text.startswith("now-"):
        back = text.removeprefix("now-")
        if not back.isdigit():
            raise ValueError(f"bad month {text!r}: expected now-N, N a number of months")
        today = today or datetime.now(UTC).date()
        index = today.year * 12 + today.month - 1 - int(back)
        return index // 12, index % 12 + 1
    parts = text.split("-")
    if len(parts) != 2 or len(parts[0]) != 4 or len(parts[1]) != 2:
        raise ValueError(f"bad month {text!r}: expected YYYY-MM")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12:
        raise ValueError(f"bad month {text!r}: month must be 01..12")
    return year, month


def expand_months(specs: Iterable[str], today: date | None = None) -> list[str]:
    """Turn 'YYYY-MM', 'now-N' and inclusive ranges 'A..B' into an ordered, unique list."""
    months: list[str] = []
    for spec in specs:
        first, sep, last = spec.partition("..")
        start = _parse_month(first, today)
        stop = _parse_month(last, today) if sep else start
        if stop < start:
            raise ValueError(f"bad range {spec!r}: end before start")
        year, month = start
        while (year, month) <= stop:
            label = f"{year:04d}-{month:02d}"
            if label not in months:
                months.append(label)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def file_name(month: str) -> str:
    """TLC's name for a green-taxi month."""
    return f"green_tripdata_{month}.parquet"


def month_url(base_url: str, month: str) -> str:
    """Full URL of a month under ``base_url``."""
    return f"{base_url.rstrip('/')}/{file_name(month)}"


def check_parquet(path: Path) -> int:
    """Raise ValueError unless ``path`` is readable parquet with REQUIRED_COLUMNS; return rows."""
    try:
        parquet = pq.ParquetFile(path)
        names = set(parquet.schema_arrow.names)
        rows = parquet.metadata.num_rows
    except Exception as exc:  # pyarrow raises several types for non-parquet input
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"not a readable parquet file ({reason})") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ValueError(f"parquet lacks required columns {missing}")
    return rows


def _stream(url: str, target: Path, timeout: float) -> None:
    """Copy the response body of ``url`` into ``target``; transient failures raise for a retry."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, target.open("xb") as out:
            expected = response.headers.get("Content-Length")
            received = 0
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                received += len(chunk)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code in RETRY_STATUSES:
            raise _TransientError(f"HTTP {exc.code}") from exc
        hint = " (month not published?)" if exc.code in (403, 404) else ""
        raise DownloadError(f"HTTP {exc.code}{hint}") from exc
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise _TransientError(f"connection failed ({reason})") from exc
    if expected is not None and expected.isdigit() and int(expected) != received:
        raise _TransientError(f"truncated body: {received} of {expected} bytes")


def _download_once(url: str, target: Path, timeout: float) -> int:
    """One attempt: stream to a temporary file beside ``target``, check it, then rename it."""
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        _stream(url, partial, timeout)
        rows = check_parquet(partial)
        partial.replace(target)
        return rows
    finally:
        partial.unlink(missing_ok=True)


def download_month(
    month: str,
    out_dir: Path,
    base_url: str = DEFAULT_BASE_URL,
    *,
    force: bool = False,
    retries: int = 3,
    backoff: float = 1.0,
    timeout: float = 60.0,
    log: Callable[[str], None] = print,
    name: str | None = None,
) -> Path:
    """Download one month into ``out_dir`` (as ``name``, default TLC's file name) unless a valid
    copy is there; return its path.

    Raises DownloadError with a one-line message naming the month and URL.
    """
    url = month_url(base_url, month)
    target = out_dir / (name or file_name(month))
    if target.exists() and not force:
        try:
            rows = check_parquet(target)
        except ValueError as exc:
            log(f"{month}: existing {target} is unusable ({exc}); downloading again")
        else:
            log(f"{month}: already present, skipped ({target}, {rows:,} rows)")
            return target
    out_dir.mkdir(parents=True, exist_ok=True)
    attempt = 0
    while True:
        try:
            rows = _download_once(url, target, timeout)
        except _TransientError as exc:
            if attempt >= retries:
                message = f"{month}: {exc} after {attempt + 1} attempts for {url}"
                raise DownloadError(message) from exc
            delay = backoff * 2**attempt
            attempt += 1
            log(f"{month}: {exc}; retry {attempt}/{retries} in {delay:g}s")
            time.sleep(delay)
        except DownloadError as exc:
            raise DownloadError(f"{month}: {exc} for {url}") from exc
        except ValueError as exc:
            raise DownloadError(f"{month}: downloaded file is {exc}: {url}") from exc
        except OSError as exc:
            raise DownloadError(f"{month}: cannot write into {out_dir} ({exc}): {url}") from exc
        else:
            log(f"{month}: downloaded {target} ({rows:,} rows, {target.stat().st_size:,} bytes)")
            return target


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--months",
        nargs="+",
        required=True,
        metavar="MONTH",
        help="months as YYYY-MM, or inclusive ranges YYYY-MM..YYYY-MM",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help=f"target folder (default {DEFAULT_OUT_DIR})",
    )
    parser.add_argument(
        "--base-url",
        default=os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL,
        help=f"where the files live (default ${BASE_URL_ENV} or {DEFAULT_BASE_URL})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="write the one month asked for to this file instead of into --out-dir",
    )
    parser.add_argument("--force", action="store_true", help="download even if present")
    parser.add_argument("--retries", type=int, default=3, help="retries per month (default 3)")
    parser.add_argument(
        "--backoff", type=float, default=1.0, help="first retry delay in seconds, doubled after"
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="socket timeout in seconds")
    args = parser.parse_args(argv)
    try:
        args.months = expand_months(args.months)
    except ValueError as exc:
        parser.error(str(exc))
    if args.out is not None and len(args.months) != 1:
        parser.error(f"--out takes exactly one month, got {len(args.months)}")
    if args.retries < 0 or args.backoff < 0 or args.timeout <= 0:
        parser.error("--retries and --backoff must be >= 0, --timeout > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: 0 if every month is present afterwards, 1 otherwise."""
    args = _parse_args(argv)
    failed = 0
    for month in args.months:
        try:
            download_month(
                month,
                args.out.parent if args.out else args.out_dir,
                args.base_url,
                name=args.out.name if args.out else None,
                force=args.force,
                retries=args.retries,
                backoff=args.backoff,
                timeout=args.timeout,
            )
        except DownloadError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    if failed:
        print(f"error: {failed} of {len(args.months)} months failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
