"""The console script's exit: queued work finishes, idle thread pools do not hold it up.

MLflow keeps a thread pool for artifact uploads whose idle workers are not daemons; the exit's
bounded join must not spend its whole time (`THREAD_JOIN_S`) waiting for them after every
`train` or `tune` against a tracking server.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlgate.cli import THREAD_JOIN_S

COMMAND = """
import concurrent.futures, sys, time
from pathlib import Path
import mlgate.cli as cli

KEPT = []  # a pool kept alive past the command, as MLflow keeps its upload pool

def main(argv=None):
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=int(sys.argv[2]))
    KEPT.append(pool)
    for index in range(int(sys.argv[3])):
        pool.submit(lambda i=index: (time.sleep(0.2), Path(sys.argv[1], str(i)).write_text("")))
    return 0

cli.main = main
cli.entry()
"""


@pytest.mark.slow
@pytest.mark.parametrize(("workers", "jobs"), [(1, 1), (4, 2), (2, 5)])
def test_the_exit_finishes_queued_work_without_waiting_for_idle_workers(
    tmp_path: Path, workers: int, jobs: int
) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", COMMAND, str(tmp_path), str(workers), str(jobs)],
        capture_output=True,
        text=True,
        timeout=THREAD_JOIN_S * 2,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(map(str, range(jobs)))
    assert elapsed < THREAD_JOIN_S / 3, f"the exit took {elapsed:.1f} s"
