"""What uv.lock installs: the package closure of one of the project's dependency groups."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def locked_closure(group: str, lock_path: Path = ROOT / "uv.lock") -> set[str]:
    """Every package name uv.lock installs for `group` of the project alone (not the project)."""
    lock = tomllib.loads(lock_path.read_text(encoding="utf-8"))
    packages = {p["name"]: p for p in lock["package"]}
    [root] = [p for p in lock["package"] if p.get("source", {}).get("editable") == "."]
    todo, seen = [d["name"] for d in root["dev-dependencies"][group]], set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(d["name"] for d in packages[name].get("dependencies", []))
    return seen
