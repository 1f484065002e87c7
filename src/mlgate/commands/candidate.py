"""`train`, `tune`, `tune-matrix` and `candidate`: the PR workflow's candidate, trained or
tuned, tracked, compared, gated, registered and reported."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.commands import default_report, settings_of
from mlgate.errors import UserError

if TYPE_CHECKING:
    from mlgate.tracking.newstore import Creation
    from mlgate.tracking.store import Store


def cmd_candidate(args: argparse.Namespace) -> int:
    settings = settings_of(args)  # train and tune check the names first
    if not settings.tuning.enabled:
        return cmd_train(args)
    if args.param:
        raise UserError(
            "--param: [tool.mlgate] tuning.enabled is true, so the search chooses the "
            "hyperparameters (use `mlgate train --param` for a plain run)"
        )
    return cmd_tune(args)


def cmd_train(args: argparse.Namespace) -> int:
    from mlgate.tracking.newstore import Creation
    from mlgate.tracking.store import choose_store

    # First, before the heavy imports: a store that does not exist yet is made meanwhile.
    store = choose_store(os.environ)
    with Creation.start(store.uri) as creation:
        return _train_and_report(args, store, creation)


def _report_outputs(settings, path: Path):
    """The report's two files, checked now (template and paths); the job rehearses the write
    before it registers, and writes the report together with the registration."""
    from mlgate.report import template as templates
    from mlgate.report.markdown import render_markdown
    from mlgate.report.outputs import ReportOutputs

    config = settings.report
    template = templates.load(settings.path(config.template) if config.template else None)
    return ReportOutputs(
        path,
        path.with_suffix(".md"),
        lambda doc: render_markdown(doc, template=template, keep=config.keep),
    )


def _train_and_report(args: argparse.Namespace, store: Store, creation: Creation) -> int:
    from mlgate import preload

    preload.skops_first()
    from mlgate.config import parse_param
    from mlgate.train.job import train

    settings = settings_of(args, names=True)
    params = dict(parse_param(p) for p in args.param)
    path = args.report or default_report(settings)
    markdown = path.with_suffix(".md")
    outputs = _report_outputs(settings, path)
    report = train(
        settings,
        train_path=args.train_data,
        val_path=args.val_data,
        params=params,
        fallback_local=args.fallback_local,
        check_requirements=args.check_requirements,
        store=store,
        creation=creation,
        outputs=outputs,
    )
    if report.serving is not None and not report.serving.passed:
        from mlgate.errors import ServingFailedError

        raise ServingFailedError(
            f"the candidate failed the serving contract, nothing registered "
            f"({report.serving.failed_request}); report: {path}"
        )
    print(_summary_line(report))
    print(f"report: {path} and {markdown}")
    return 0


def _summary_line(report) -> str:
    """One line a person reads first: which version, the gate's own metric, the verdict."""
    from mlgate.report.document import metric_label

    candidate, gate = report.candidate, report.gate
    value = candidate.metrics.get(gate.metric, float("nan"))
    verdict = "passes" if gate.passed else "FAILS"
    against = (
        f"champion v{report.champion.version}"
        if report.champion and gate.baseline == "champion"
        else "the bounds alone"
    )
    kept = ""
    if report.comparison.skipped_reason:  # a temporary store: the version is thrown away
        verdict = "would pass" if gate.passed else "would FAIL"
        kept = "; nothing is kept: the tracking store was temporary, removed at exit"
    return (
        f"run {candidate.run_id} → {report.registered_model} v{candidate.version}: "
        f"validation {metric_label(gate.metric, report.model.unit)} {value:.3f}; "
        f"gate {verdict} against {against}{kept}"
    )


def cmd_tune(args: argparse.Namespace) -> int:
    from mlgate import preload

    preload.skops_first()
    from mlgate.tuning.job import tune

    settings = settings_of(args, names=True)
    path = args.report or default_report(settings)
    outcome = tune(
        settings,
        train_path=args.train_data,
        val_path=args.val_data,
        trials=getattr(args, "trials", None),
        timeout_s=getattr(args, "timeout", None),
        seed=getattr(args, "seed", None),
        storage=getattr(args, "storage", None),
        study_name=getattr(args, "study", None),
        fallback_local=args.fallback_local,
        outputs=_report_outputs(settings, path),
    )
    report = outcome.report
    print(f"this process ran {outcome.ran} of study {outcome.study!r}'s {outcome.budget} trial(s)")
    if report is None:
        print(outcome.elsewhere)
        return 0
    tuning = report.tuning
    print(
        f"study {outcome.study!r}: {tuning.completed} completed, {tuning.pruned} pruned, "
        f"{tuning.failed} failed of {tuning.n_trials}; best CV {tuning.best_cv_score:.4f}"
    )
    print(_summary_line(report))
    print(f"report: {path} and {path.with_suffix('.md')}")
    return 0


def cmd_tune_matrix(args: argparse.Namespace) -> int:
    from mlgate.tuning import matrix

    settings = settings_of(args, names=True)
    planned = matrix.plan(settings, args.workers, args.study, os.environ)
    for key, value in planned.outputs().items():
        print(f"{key}={value}")
    matrix.write_outputs(planned, os.environ)
    return 0
