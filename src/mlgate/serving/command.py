"""`mlgate serve-check` and `mlgate predict`: which model, then the work."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlgate import progress
from mlgate.config import Settings
from mlgate.errors import ServingFailedError, UserError
from mlgate.storage import Location

if TYPE_CHECKING:
    from mlgate.report.document import Report


def champion_uri(settings: Settings) -> str:
    """The champion, on the production model (the candidates' model when there is no
    separate one)."""
    return f"models:/{settings.production}@{settings.tracking.champion_alias}"


def model_uri(settings: Settings, model: str) -> str:
    """`champion`, a version number of the candidates, or any MLflow model URI, as a URI."""
    name = settings.registered_model
    if model == settings.tracking.champion_alias or model == "champion":
        return champion_uri(settings)
    if model.isdigit():
        return f"models:/{name}/{model}"
    if ":" in model or Path(model).exists():
        return model
    raise UserError(
        f"--model {model!r}: expected 'champion', a version number of {name}, or a model URI"
    )


def _connect(settings: Settings) -> None:
    from mlgate.tracking import connection as tracking

    tracking.connect(tracking.resolve_uri(), settings.tracking.connect_retries)


def _resolvable(uri: str) -> None:
    """A registry URI that names nothing is a one-line error, not a stack trace."""
    if not uri.startswith("models:/"):
        return
    from mlflow.exceptions import MlflowException

    from mlgate.serving.check import download

    try:
        download(uri)
    except MlflowException as exc:
        text = " ".join(str(exc).split())[:200]
        raise UserError(f"--model {uri}: not found in the registry ({text})") from None


def serve_check_command(
    settings: Settings, model: str, requirements: bool, report_path: Path | None
) -> int:
    from mlgate.serving.check import Options, serve_check

    uri = model_uri(settings, model)
    report = _report_for(report_path, uri) if report_path is not None else None
    _connect(settings)
    _resolvable(uri)
    champion = champion_uri(settings)
    config = settings.serving
    serving = serve_check(
        uri,
        champion_uri=None if uri == champion else _existing(champion),
        options=Options(
            batch=config.latency_batch,
            repeats=config.latency_repeats,
            startup_timeout_s=config.startup_timeout_s,
            request_timeout_s=config.request_timeout_s,
            requirements=requirements or config.requirements,
        ),
    )
    for check in serving.checks:
        print(f"{'ok  ' if check.passed else 'FAIL'} {check.name}: {check.detail}")
    for label, latency in (("1 record", serving.latency_one), ("batch", serving.latency_batch)):
        if latency is not None:
            print(
                f"latency {label} ({latency.batch_size} rows): p50 {latency.p50_ms:.2f} ms, "
                f"p95 {latency.p95_ms:.2f} ms"
            )
    if report is not None and report_path is not None:
        report.model_copy(update={"serving": serving}).write(report_path)
    if not serving.passed:
        raise ServingFailedError(f"{uri} failed the serving contract ({serving.failed_request})")
    print(f"{uri} passes the serving contract")
    return 0


def _report_for(path: Path, uri: str) -> Report:
    """The report whose serving section `uri`'s figures may fill: its own candidate's only, so
    one version's latency never lands in another version's report."""
    from mlgate.report.document import check_writable, load_report

    report = load_report(path)
    check_writable(path)
    candidate = report.candidate
    own = set()
    if candidate is not None:
        own.add(candidate.model_uri)
        if candidate.version and report.registered_model:
            own.add(f"models:/{report.registered_model}/{candidate.version}")
    if uri not in own:
        version = candidate.version if candidate is not None else None
        whose = f"{report.registered_model} v{version}" if version else "no registered version"
        hint = f" (use --model {version})" if version else ""
        raise UserError(
            f"--report {path}: it reports on {whose}, not on {uri}; serve-check fills the "
            f"serving section of its own candidate's report only{hint}"
        )
    return report


def _existing(uri: str) -> str | None:
    try:
        _resolvable(uri)
    except UserError:
        return None
    return uri


def predict_command(
    settings: Settings,
    model: str,
    data: Location,
    out: Location,
    *,
    engine: str = "local",
    spark_master: str | None = None,
) -> int:
    if engine == "spark":  # refused before MLflow is even imported
        from mlgate.spark.command import require_local

        require_local(data, out)
    import mlflow

    from mlgate.report.document import check_writable
    from mlgate.serving.batch import open_input, score_file
    from mlgate.serving.check import download
    from mlgate.storage import check_output

    plugin = settings.plugin()
    open_input(data, plugin.raw_columns())
    if engine == "spark":
        # before any model is downloaded or row scored; Spark writes a folder, replaced whole
        check_writable(out.with_name(out.name + ".part"))
    else:
        check_output(out)  # before any model is downloaded or row scored
    _connect(settings)
    uri = model_uri(settings, model)
    _resolvable(uri)
    if engine == "spark":
        from mlgate.spark.command import predict_with_spark

        rows = predict_with_spark(uri, plugin.raw_columns(), data, out, spark_master)
        print(f"scored {rows:,} rows of {data} with {uri} on Spark → {out}/ (parquet folder)")
        return 0
    progress.say(f"loading {uri}")
    loaded = mlflow.pyfunc.load_model(str(download(uri)))
    scored = score_file(loaded, plugin, data, out)
    print(f"scored {scored.rows:,} rows of {data} with {uri} → {scored.out}")
    return 0
