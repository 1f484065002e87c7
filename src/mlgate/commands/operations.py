"""`monitor`, `fetch-current`, `drift-issue`, `serve-check` and `predict`: the champion in
production, watched and used."""

from __future__ import annotations

import argparse

from mlgate import progress
from mlgate.commands import settings_of
from mlgate.errors import EXIT_DRIFT


def cmd_monitor(args: argparse.Namespace) -> int:
    from mlgate.monitoring.job import monitor
    from mlgate.monitoring.markdown import render_monitoring, verdict_line
    from mlgate.report.markdown import write_step_summary

    settings = settings_of(args, names=True)
    report = monitor(
        settings,
        current_path=args.current,
        reference_path=args.reference,
        engine=args.engine,
        spark_master=args.spark_master,
    )
    folder = args.out or settings.path(settings.monitoring.directory)
    path = folder / "monitoring.json"
    report.write(path)
    markdown = render_monitoring(report)
    path.with_suffix(".md").write_text(markdown, encoding="utf-8")
    write_step_summary(markdown)
    print(verdict_line(report))
    print(f"report: {path} and {path.with_suffix('.md')}")
    return EXIT_DRIFT if report.drift else 0


def cmd_fetch_current(args: argparse.Namespace) -> int:
    from mlgate.monitoring.current import fetch_current, month_to_fetch

    settings = settings_of(args)
    source = getattr(args, "config", None) or settings.root / "pyproject.toml"
    current = settings.monitoring.current
    month = month_to_fetch(args.month, current.months_back) if current is not None else ""
    out = fetch_current(
        current, args.out, month, cwd=settings.root, source=str(source), say=progress.say
    )
    print(out)
    return 0


def cmd_drift_issue(args: argparse.Namespace) -> int:
    from mlgate.github.client import GitHubClient
    from mlgate.github.issues import sync_drift_issue
    from mlgate.monitoring.document import load_monitoring

    settings = settings_of(args)
    report = load_monitoring(args.report)
    outcome = sync_drift_issue(
        GitHubClient.from_env(),
        report,
        label=settings.monitoring.issue_label,
        title=settings.monitoring.issue_title,
    )
    print(outcome.message)
    return 0


def cmd_serve_check(args: argparse.Namespace) -> int:
    from mlgate.serving.command import serve_check_command

    return serve_check_command(
        settings_of(args, names=True), args.model, args.requirements, args.report
    )


def cmd_predict(args: argparse.Namespace) -> int:
    from mlgate.serving.command import predict_command

    return predict_command(
        settings_of(args, names=True),
        args.model,
        args.data,
        args.out,
        engine=args.engine,
        spark_master=args.spark_master,
    )
