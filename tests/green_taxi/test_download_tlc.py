"""The TLC downloader against a local HTTP server: success, skip, retries and bad answers."""

import io
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

MONTH = "2023-01"


@pytest.fixture(scope="module")
def parquet_body(make_sample: ModuleType) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(make_sample.generate_table(MONTH, 200), buffer)
    return buffer.getvalue()


def run(download_tlc: ModuleType, server, out_dir: Path, *extra: str) -> int:
    argv = ["--months", MONTH, "--out-dir", str(out_dir), "--base-url", server.base_url]
    return download_tlc.main([*argv, "--backoff", "0", "--retries", "2", *extra])


def leftovers(out_dir: Path) -> list[str]:
    return sorted(p.name for p in out_dir.glob("*")) if out_dir.exists() else []


@pytest.mark.parametrize(
    ("replies", "exit_code", "hits", "message"),
    [
        pytest.param([(200, "parquet")], 0, 1, "", id="ok"),
        pytest.param([(500, "oops"), (200, "parquet")], 0, 2, "", id="500-then-200"),
        pytest.param([(503, ""), (502, ""), (200, "parquet")], 0, 3, "", id="5xx-twice"),
        pytest.param([(200, "parquet", 10**6), (200, "parquet")], 0, 2, "", id="truncated-retry"),
        pytest.param([(404, "missing")], 1, 1, "HTTP 404", id="404"),
        pytest.param([(403, "denied")], 1, 1, "HTTP 403", id="403"),
        pytest.param([(500, "down")], 1, 3, "HTTP 500 after 3 attempts", id="500-forever"),
        pytest.param([(200, "corrupt")], 1, 1, "not a readable parquet", id="corrupt"),
        pytest.param([(200, "no-columns")], 1, 1, "lacks required columns", id="wrong-columns"),
    ],
)
def test_download_outcomes(
    download_tlc: ModuleType,
    tlc_server,
    parquet_body: bytes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    replies: list[tuple],
    exit_code: int,
    hits: int,
    message: str,
) -> None:
    bodies = {
        "parquet": parquet_body,
        "corrupt": b"PAR1 this is not really parquet",
        "no-columns": _other_parquet(),
    }
    tlc_server.serve(MONTH, *[(s, bodies.get(b, b.encode()), *rest) for s, b, *rest in replies])
    out_dir = tmp_path / "real"
    assert run(download_tlc, tlc_server, out_dir) == exit_code
    assert len(tlc_server.hits) == hits
    target = out_dir / f"green_tripdata_{MONTH}.parquet"
    err = capsys.readouterr().err
    if exit_code == 0:
        assert leftovers(out_dir) == [target.name]
        assert target.read_bytes() == parquet_body
        assert err == ""
    else:
        assert leftovers(out_dir) == []  # no partial or invalid file left behind
        first = err.splitlines()[0]
        assert message in first
        assert MONTH in first
        assert tlc_server.base_url in first


def _other_parquet() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"VendorID": [1, 2]}), buffer)
    return buffer.getvalue()


def test_skips_a_valid_existing_file_unless_forced(
    download_tlc: ModuleType,
    make_sample: ModuleType,
    tlc_server,
    parquet_body: bytes,
    tmp_path: Path,
) -> None:
    target = tmp_path / f"green_tripdata_{MONTH}.parquet"
    target.write_bytes(parquet_body)
    tlc_server.serve(MONTH, (500, b"must not be asked"))
    assert run(download_tlc, tlc_server, tmp_path) == 0
    assert tlc_server.hits == []

    tlc_server.serve(MONTH, (200, _other_parquet()))
    assert run(download_tlc, tlc_server, tmp_path, "--force") == 1
    assert target.read_bytes() == parquet_body  # a failed forced download keeps the old file

    buffer = io.BytesIO()
    pq.write_table(make_sample.generate_table(MONTH, 20), buffer)
    tlc_server.serve(MONTH, (200, buffer.getvalue()))
    assert run(download_tlc, tlc_server, tmp_path, "--force") == 0
    assert target.read_bytes() == buffer.getvalue()
    assert leftovers(tmp_path) == [target.name]


def test_replaces_an_unusable_existing_file(
    download_tlc: ModuleType, tlc_server, parquet_body: bytes, tmp_path: Path
) -> None:
    target = tmp_path / f"green_tripdata_{MONTH}.parquet"
    target.write_bytes(b"half a download")
    tlc_server.serve(MONTH, (200, parquet_body))
    assert run(download_tlc, tlc_server, tmp_path) == 0
    assert target.read_bytes() == parquet_body


def test_several_months_and_base_url_from_environment(
    download_tlc: ModuleType,
    tlc_server,
    parquet_body: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TLC_BASE_URL", tlc_server.base_url)
    for month in ("2022-12", "2023-01"):
        tlc_server.serve(month, (200, parquet_body))
    argv = ["--months", "2022-12..2023-02", "--out-dir", str(tmp_path), "--backoff", "0"]
    assert download_tlc.main(argv) == 1  # 2023-02 is not served
    assert leftovers(tmp_path) == [
        "green_tripdata_2022-12.parquet",
        "green_tripdata_2023-01.parquet",
    ]
    assert [hit.rsplit("_", 1)[1] for hit in tlc_server.hits] == [
        "2022-12.parquet",
        "2023-01.parquet",
        "2023-02.parquet",
    ]


@pytest.mark.parametrize(
    ("specs", "months"),
    [
        (["2023-01"], ["2023-01"]),
        (["2023-02", "2023-01", "2023-02"], ["2023-02", "2023-01"]),
        (["2022-11..2023-02"], ["2022-11", "2022-12", "2023-01", "2023-02"]),
        (["2023-05..2023-05"], ["2023-05"]),
    ],
)
def test_expand_months(download_tlc: ModuleType, specs: list[str], months: list[str]) -> None:
    assert download_tlc.expand_months(specs) == months


@pytest.mark.parametrize("spec", ["2023-13", "2023-1", "23-01", "2023-03..2023-01", "jan"])
def test_bad_months_are_usage_errors(download_tlc: ModuleType, spec: str) -> None:
    with pytest.raises(SystemExit) as exc:
        download_tlc.main(["--months", spec])
    assert exc.value.code == 2


def test_default_base_url_and_file_pattern(download_tlc: ModuleType) -> None:
    assert download_tlc.month_url(download_tlc.DEFAULT_BASE_URL, "2023-02") == (
        "https://d37ci6vzurychx.cloudfront.net/trip-data/green_tripdata_2023-02.parquet"
    )


@pytest.mark.parametrize(
    ("spec", "today", "months"),
    [
        ("now-0", "2024-03-15", ["2024-03"]),
        ("now-2", "2024-03-15", ["2024-01"]),
        ("now-3", "2024-03-01", ["2023-12"]),
        ("now-14", "2024-03-31", ["2023-01"]),
        ("now-4..now-2", "2024-01-10", ["2023-09", "2023-10", "2023-11"]),
    ],
)
def test_months_relative_to_today(
    download_tlc: ModuleType, spec: str, today: str, months: list[str]
) -> None:
    from datetime import date

    assert download_tlc.expand_months([spec], date.fromisoformat(today)) == months


@pytest.mark.parametrize("spec", ["now-", "now-x", "now+1"])
def test_bad_relative_months_are_usage_errors(download_tlc: ModuleType, spec: str) -> None:
    with pytest.raises(SystemExit) as exc:
        download_tlc.main(["--months", spec])
    assert exc.value.code == 2


def test_out_writes_the_one_month_to_that_file(
    download_tlc: ModuleType, tlc_server, parquet_body: bytes, tmp_path: Path
) -> None:
    tlc_server.serve(MONTH, (200, parquet_body))
    target = tmp_path / "data" / "current.parquet"
    argv = ["--months", MONTH, "--out", str(target), "--base-url", tlc_server.base_url]
    assert download_tlc.main(argv) == 0
    assert target.read_bytes() == parquet_body
    assert leftovers(target.parent) == ["current.parquet"]


def test_out_refuses_several_months(download_tlc: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        download_tlc.main(["--months", "2023-01..2023-02", "--out", str(tmp_path / "x.parquet")])
    assert exc.value.code == 2


def test_the_examples_fetch_current_setting_downloads_the_month(
    tlc_server,
    parquet_body: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`mlgate fetch-current` with the example's own `[tool.mlgate.monitoring.current]`."""
    import tomllib

    from mlgate.cli import main

    root = Path(__file__).resolve().parents[2]
    monitoring = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "mlgate"
    ]["monitoring"]
    if "current" not in monitoring:
        pytest.skip("the example's tables are not in pyproject.toml (a team has adopted it)")
    current = monitoring["current"]
    assert current["command"][1:3] == ["-m", "green_taxi.download_tlc"]
    config = tmp_path / "monitor.toml"
    quoted = ", ".join(f'"{part}"' for part in current["command"])
    config.write_text(
        f"[monitoring.current]\ncommand = [{quoted}]\nmonths_back = {current['months_back']}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("TLC_BASE_URL", tlc_server.base_url)
    tlc_server.serve(MONTH, (200, parquet_body))
    target = tmp_path / "data" / "current.parquet"
    argv = ["--config", str(config), "fetch-current", "--month", MONTH, "--out", str(target)]
    assert main(argv) == 0, capsys.readouterr().err
    assert target.read_bytes() == parquet_body
    assert leftovers(target.parent) == ["current.parquet"]
