"""`mlgate comment` runs in the privileged workflow from the `comment` dependency group alone.

The comment command is run in a fresh interpreter against the GitHub stand-in; whatever it
imported must come from the packages that group installs (per uv.lock), never MLflow,
scikit-learn or pandas.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from support.github_api import FakeGitHub
from support.locked import locked_closure
from support.reports import report_data

ROOT = Path(__file__).resolve().parents[3]
HEAD = "c0ffee" + "0" * 34
HEAVY = {"mlflow", "sklearn", "pandas", "numpy", "scipy", "pyarrow", "optuna", "sqlalchemy"}

PROBE = """
import json, sys
from mlgate.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def test_the_comment_imports_only_what_the_comment_group_installs(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(report_data()), encoding="utf-8")
    with FakeGitHub() as gh:
        gh.add_pull(7, HEAD)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_"))},
            "GITHUB_TOKEN": gh.token,
            "GITHUB_REPOSITORY": gh.repository,
            "GITHUB_API_URL": gh.url,
        }
        done = subprocess.run(
            [sys.executable, "-c", PROBE, "--config", str(ROOT / "pyproject.toml"),
             "comment", "--report", str(report), "--head-sha", HEAD],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        probe = json.loads(done.stdout.strip().splitlines()[-1])
        assert probe["code"] == 0
        assert len(gh.comments(7)) == 1
        assert [s["state"] for s in gh.statuses(HEAD)] == ["success"]

    modules = set(probe["modules"])
    assert modules.isdisjoint(HEAVY), sorted(modules & HEAVY)
    owners = packages_distributions()
    third_party = {m for m in modules if m in owners and m != "mlgate"}
    installed = {normalise(name) for name in locked_closure("comment")}
    missing = {
        m: owners[m] for m in third_party if not {normalise(d) for d in owners[m]} & installed
    }
    assert third_party
    assert missing == {}
