"""Stand-ins are found by action name, so a Dependabot SHA bump keeps the e2e tests running."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.act import ACTIONS_DIR, PINNED_ACTIONS, STANDINS, act_command, local_repository_args

BUMPED = "0123456789abcdef0123456789abcdef01234567"
ROOT = Path(__file__).resolve().parents[2]


def workflow_using(*uses: str) -> str:
    steps = "".join(f"      - uses: {u} # vX\n" for u in uses)
    return f"on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"


def mappings(args: list[str]) -> dict[str, str]:
    assert args[::2] == ["--local-repository"] * (len(args) // 2)
    return dict(item.split("=", 1) for item in args[1::2])


@pytest.mark.parametrize("name", sorted(STANDINS))
def test_any_sha_of_a_known_action_maps_to_its_stand_in(name: str) -> None:
    uses = f"{name}@{BUMPED}"

    assert mappings(local_repository_args([workflow_using(uses)])) == {
        uses: str(ACTIONS_DIR / STANDINS[name])
    }


def test_tags_quotes_and_named_steps_are_recognised() -> None:
    text = (
        "jobs:\n  j:\n    steps:\n"
        "      - name: Checkout\n        uses: 'actions/checkout@v9'\n"
        '      - uses: "astral-sh/setup-uv@main"\n'
        "      - uses: ./local-action\n"
        "      - run: echo 'uses: not/an-action@x'\n"
    )

    assert set(mappings(local_repository_args([text]))) == {
        "actions/checkout@v9",
        "astral-sh/setup-uv@main",
    }


def test_an_action_without_a_stand_in_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"no stand-in for someone/thing@v1"):
        local_repository_args([workflow_using("someone/thing@v1")])


def test_the_project_workflows_are_all_mapped() -> None:
    texts = [p.read_text(encoding="utf-8") for p in (ROOT / ".github" / "workflows").glob("*.yml")]

    mapped = mappings(local_repository_args(texts))

    assert set(mapped) == set(PINNED_ACTIONS)
    assert {u.split("@")[0] for u in mapped} == set(STANDINS)


def test_act_command_maps_what_the_workflow_uses(tmp_path: Path) -> None:
    uses = f"actions/checkout@{BUMPED}"
    cmd = act_command(
        Path("act"),
        "push",
        workflow="w.yml",
        event_file=tmp_path / "e.json",
        home=tmp_path,
        env={},
        vars={},
        secret_file=tmp_path / "s",
        empty_file=tmp_path / "x",
        workflow_text=workflow_using(uses),
    )

    assert f"{uses}={ACTIONS_DIR / 'checkout'}" in cmd
    assert not any(item.startswith("actions/checkout@3d3c42e5") for item in cmd)
