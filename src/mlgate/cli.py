"""`mlgate`: every workflow step is one of these commands, runnable on a laptop too. The
command line is built in `arguments`, the commands live in `commands`; this module runs
one and turns its errors into one line and an exit status (`errors`).

Heavy libraries (MLflow, scikit-learn) are imported inside the commands that need them, so
`--help` and the GitHub-only commands start in a fraction of a second. Once a command has
returned, the process exits without tearing the interpreter down (`entry`): after MLflow,
SQLAlchemy and skops are imported, that teardown alone costs about a second per command.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Mapping, Sequence

from mlgate import progress
from mlgate.arguments import build_parser
from mlgate.commands.candidate import cmd_candidate, cmd_train, cmd_tune, cmd_tune_matrix
from mlgate.commands.operations import (
    cmd_drift_issue,
    cmd_fetch_current,
    cmd_monitor,
    cmd_predict,
    cmd_serve_check,
)
from mlgate.commands.promotion import cmd_promote, cmd_rollback
from mlgate.commands.review import cmd_comment, cmd_report
from mlgate.errors import EXIT_ERROR, UserError
from mlgate.termination import TERMINATED_EXIT

TERMINATED_LINE = "stopped at a safe point; nothing half-written is kept"


def _quiet_mlflow() -> None:
    """Keep job logs to what a person needs: MLflow's chatter and its own deprecations go.

    MLflow sets its log level when first imported, from MLFLOW_LOGGING_LEVEL (a user's own
    setting of it wins).
    """
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    # Its download bars redraw one line with carriage returns: noise in a CI log.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # A server that keeps artifacts in a bucket would hand out presigned URLs to download
    # from it directly; read through the server instead, which works when the bucket is on
    # the server's private network (deploy/compose.yaml's MinIO). docs/storage.md.
    os.environ.setdefault("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "false")
    logging.getLogger("mlflow.utils.environment").setLevel(logging.ERROR)
    # The store's own database errors come with a traceback; the command's one error line
    # carries the cause.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    # Schema migrations of a new store, and Optuna's own lines (quieted again by the search
    # once Optuna has configured its logger): progress lines are the command's alone.
    for name in ("alembic", "optuna"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for category in (UserWarning, FutureWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=r"mlflow(\.|$)")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _quiet_mlflow()
    progress.configure(quiet=args.quiet)
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"error: {_redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:
        if exc.code != TERMINATED_EXIT:
            raise
        print(f"error: {args.command} terminated (SIGTERM): {TERMINATED_LINE}", file=sys.stderr)
        return TERMINATED_EXIT
    except Exception as exc:
        from mlgate.tracking.access import as_user_error
        from mlgate.tracking.connection import describe_failure

        refused = as_user_error(exc)
        if refused is not None:
            print(f"error: {_redact(str(refused))}", file=sys.stderr)
            return refused.exit_code
        line = describe_failure(exc)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return EXIT_ERROR


def _redact(text: str) -> str:
    if "mlgate.tracking.connection" not in sys.modules:
        return text
    from mlgate.tracking.connection import redact

    return redact(text)


COMMANDS = {
    "fetch-current": cmd_fetch_current,
    "train": cmd_train,
    "report": cmd_report,
    "comment": cmd_comment,
    "promote": cmd_promote,
    "rollback": cmd_rollback,
    "monitor": cmd_monitor,
    "drift-issue": cmd_drift_issue,
    "tune": cmd_tune,
    "tune-matrix": cmd_tune_matrix,
    "candidate": cmd_candidate,
    "serve-check": cmd_serve_check,
    "predict": cmd_predict,
}

THREAD_JOIN_S = 30.0


def entry() -> None:
    """The console script: `main`, then the exit handlers, then a fast exit with its code.

    What the interpreter's teardown would still do for us is done here first: worker threads
    are joined (bounded), exit handlers run (MLflow ends an active run, temporary stores are
    removed) and the standard streams are flushed. An exception or `SystemExit` from `main`
    (SIGTERM, argparse) takes the ordinary, slower exit instead.
    """
    code = main()
    _release_idle_pools()
    deadline = time.monotonic() + THREAD_JOIN_S
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or EXIT_ERROR
    os._exit(code)


def _release_idle_pools() -> None:
    """Tell thread pools' workers to exit once their queued work is done, as the interpreter's
    own shutdown does first: their idle workers (MLflow's artifact uploads keep a pool) are
    not daemons, so the bounded join in `entry` would otherwise wait its whole time for them."""
    pools = sys.modules.get("concurrent.futures.thread")
    lock = getattr(pools, "_global_shutdown_lock", None)
    queues = getattr(pools, "_threads_queues", None)
    if pools is None or lock is None or not isinstance(queues, Mapping):
        return
    with lock:
        pools._shutdown = True
    for queue in list(queues.values()):
        queue.put(None)


if __name__ == "__main__":
    entry()
