"""Every shell block in the documentation is run by some test, and the front page stays one.

A block is claimed by a test that reads it with `support.docs.shell_block(PAGE, NAME)`; the
claims are found by reading the tests' source, so a new command block fails here until a test
runs it.
"""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
from functools import cache

import pytest
import yaml

from support.docs import ROOT, Block, commands, pages, shell_block, shell_blocks


@cache
def claims() -> dict[tuple[str, str], list[str]]:
    """(page, name) -> the test files that call `shell_block` with those literal arguments.

    Parsed once per process: every block's test asks, and the tests' source does not change
    during a run.
    """
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "shell_block" not in source:  # most test files: no need to parse them
            continue
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "shell_block"
                and len(node.args) == 2
                and all(isinstance(a, ast.Constant) for a in node.args)
            ):
                key = (node.args[0].value, node.args[1].value)
                found.setdefault(key, []).append(path.relative_to(ROOT).as_posix())
    return found


def every_block() -> list[Block]:
    return [block for page in pages() for block in shell_blocks(page)]


@pytest.mark.parametrize("block", every_block(), ids=lambda b: f"{b.page}:{b.line}")
def test_every_shell_block_is_named_and_run_by_a_test(block: Block) -> None:
    where = f"{block.page}:{block.line}"
    assert block.name is not None, f"{where}: a shell block needs `<!-- shell: NAME -->` above it"
    assert (block.page, block.name) in claims(), (
        f"{where}: no test reads shell block {block.name!r} "
        f'(shell_block("{block.page}", "{block.name}")), so nothing runs it'
    )


def test_every_claim_names_a_block_that_exists() -> None:
    existing = {(b.page, b.name) for b in every_block()}
    stale = {claim: files for claim, files in claims().items() if claim not in existing}
    assert not stale, f"tests read shell blocks that the docs no longer have: {stale}"


def test_block_names_are_unique_per_page() -> None:
    for page in pages():
        names = [b.name for b in shell_blocks(page) if b.name is not None]
        assert len(names) == len(set(names)), f"{page}: {names}"


def ci_commands() -> list[list[str]]:
    """The commands CI runs: `.ci/run`'s lines and every workflow step's `run:`, split."""
    lines = (ROOT / ".ci/run").read_text(encoding="utf-8").splitlines()
    for workflow in sorted((ROOT / ".github/workflows").glob("*.yml")):
        jobs = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"]
        lines += [s["run"] for job in jobs.values() for s in job["steps"] if "run" in s]
    return [shlex.split(line) for line in lines if line.startswith("uv run ")]


@pytest.mark.parametrize(
    "block",
    [
        shell_block("CONTRIBUTING.md", "checks"),
        shell_block("docs/how-it-works.md", "checks"),
        shell_block("docs/adopt.md", "checks"),
        # The Quickstart's test command; its `train` is run by test_doc_commands.py.
        "\n".join(commands(shell_block("README.md", "quickstart"))[1:]),
    ],
    ids=["contributing", "how-it-works", "adopt", "quickstart"],
)
def test_the_check_commands_are_the_ones_ci_runs(block: str) -> None:
    """The checks a contributor is told to run are CI's own (CI may add flags after them)."""
    ran = ci_commands()
    for command in commands(block):
        words = shlex.split(command)
        assert any(c[: len(words)] == words for c in ran), f"CI never runs {command}"


def test_ci_ends_with_the_quickstart_test_command() -> None:
    last = (ROOT / ".ci/run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert last == commands(shell_block("README.md", "quickstart"))[-1]


def test_the_readme_is_a_front_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    images = re.findall(r"\]\((docs/images/[^)]+\.png)\)", readme)
    assert len(images) == 1, images
    assert (ROOT / images[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_readme_and_contributing_link_only_to_pages_that_exist_or_are_built() -> None:
    site = yaml.safe_load(
        re.sub(r"!!python/name:\S+", "null", (ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    )
    nav = {
        page
        for section in site["nav"]
        for value in section.values()
        for page in ([value] if isinstance(value, str) else [v for e in value for v in e.values()])
    }
    for name in ("README.md", "CONTRIBUTING.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        for target in re.findall(r"\]\((docs/[^)#]+\.md)(?:#[^)]*)?\)", text):
            assert target.removeprefix("docs/") in nav, f"{name} links {target}, not in the nav"


def test_the_commands_page_lists_every_command() -> None:
    """Each `mlgate` subcommand has a row in the commands table, and no row is a stale one."""
    page = (ROOT / "docs/commands.md").read_text(encoding="utf-8")
    table = page[: page.index("\n## ")]
    documented = set(re.findall(r"^\| `([a-z-]+)[ `]", table, re.M))
    done = subprocess.run(
        [sys.executable, "-m", "mlgate.cli", "--help"], capture_output=True, text=True, check=True
    )
    listed = set(re.findall(r"^ {4}([a-z-]+)(?: {2,}|$)", done.stdout, re.M))
    assert listed, done.stdout
    assert documented == listed
