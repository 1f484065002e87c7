"""Adopting the template with the tests' own plug-in, the way docs/adopt.md says.

The example's tables in `pyproject.toml` (between the `# >>> example` and `# <<< example` lines)
give way to the adopter's own: data, model, gate, tracking names and, for monitoring, the
command that fetches the current data. Nothing of the example's configuration is edited, so
the workflow tests hold whatever the example's settings are, and after it is deleted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from support import diabetes

EXAMPLE_TABLES = re.compile(r"^# >>> example.*?^# <<< example\n", re.M | re.S)
# Copies the month the workflow asks for from the adopter's committed months.
COPY_MONTH = "import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[2])"


def without_example_tables(text: str) -> str:
    """`pyproject.toml` text without the example's tables (one marked block)."""
    stripped, count = EXAMPLE_TABLES.subn("", text)
    assert count == 1, "pyproject.toml must hold the example's tables between its markers"
    return stripped


def _toml(value: object) -> str:
    """A TOML value for a string, number or list of strings (JSON's syntax is TOML's here)."""
    return json.dumps(value)


def adoption_tables(
    repo: Path,
    name: str,
    *,
    params: dict[str, float] | None = None,
    production: str | None = None,
    monthly: str | None = None,
) -> str:
    """The adopter's `[tool.mlgate]` tables for `support.diabetes`: its months in `data/`,
    Lasso with `params`, an RMSE bound, names of its own, and with `monthly` (a folder
    relative to `repo` holding `YYYY-MM.parquet` files) a fetch-current command copying one."""
    params = params or {"alpha": 1.0}
    train, validation = (repo / "data" / f"{n}.parquet" for n in ("train", "validation"))
    lines = [
        "[tool.mlgate.data]",
        f"train = {_toml(train.relative_to(repo).as_posix())}",
        f"validation = {_toml(validation.relative_to(repo).as_posix())}",
        "",
        "[tool.mlgate.model]",
        f"plugin = {_toml(diabetes.REFERENCE)}",
        'estimator = "sklearn.linear_model.Lasso"',
        "params = { " + ", ".join(f"{k} = {v!r}" for k, v in params.items()) + " }",
        "",
        "[tool.mlgate.gate]",
        'metric = "root_mean_squared_error"',
        "bounds = { root_mean_squared_error = { max = 80.0 } }",
        "",
        "[tool.mlgate.tracking]",
        f"experiment = {_toml(name)}",
        f"registered_model = {_toml(name)}",
    ]
    if production is not None:
        lines.append(f"production_model = {_toml(production)}")
    if monthly is not None:
        command = ["{python}", "-c", COPY_MONTH, f"{monthly}/{{month}}.parquet", "{out}"]
        lines += ["", "[tool.mlgate.monitoring.current]", f"command = {_toml(command)}"]
    return "\n".join(lines) + "\n"


def adopted_files(repo: Path, name: str, **tables: object) -> dict[str, str | bytes]:
    """The files a team commits to adopt the template with the tests' plug-in: its two months
    and `pyproject.toml` with the example's tables replaced by `adoption_tables(...)`."""
    train, validation = diabetes.write_months(repo / "data")
    text = (repo / "pyproject.toml").read_text(encoding="utf-8")
    text = without_example_tables(text) + "\n" + adoption_tables(repo, name, **tables)
    files: dict[str, str | bytes] = {"pyproject.toml": text}
    for path in (train, validation):
        files[path.relative_to(repo).as_posix()] = path.read_bytes()
    return files
