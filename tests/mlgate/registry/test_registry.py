"""Registry helpers on a temporary sqlite store: the promotion lock, the champion alias, finding
a PR's candidate version, and the champion history."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable

import pytest

from mlgate.errors import UserError
from mlgate.registry import lock
from mlgate.registry import versions as registry
from support.stores import sqlite_store

pytestmark = pytest.mark.slow  # trains or registers models in an MLflow store

HEAD = "9f1c2e3d4b5a69788796a5b4c3d2e1f0a1b2c3d4"
OTHER_HEAD = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sqlite_store(tmp_path_factory, "registry")


@pytest.fixture
def client(store: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=store, registry_uri=store)


@pytest.fixture
def name() -> str:
    """A registered model name of this test's own."""
    return f"trips-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def add_version(client, name: str) -> Callable[..., str]:
    """Create a version of `name` with these tags (no artifacts needed) and return its number."""
    from mlflow.exceptions import MlflowException

    def add(**tags: str) -> str:
        with contextlib.suppress(MlflowException):
            client.create_registered_model(name)
        version = client.create_model_version(name, source="file:///models/tiny", tags=tags)
        return str(version.version)

    return add


def lock_tags(client, name: str) -> dict[str, str] | None:
    """The tags of the ticket that holds `name`'s lock, or None when nobody holds it."""
    held = lock.holder(client, name)
    return held.tags if held else None


def plant(client, name: str, **tags: str) -> str:
    """Queue a ticket as another job would, with these tags; return its version."""
    from mlflow.exceptions import MlflowException

    with contextlib.suppress(MlflowException):
        client.create_registered_model(name + registry.LOCK_SUFFIX)
    return client.create_model_version(
        name + registry.LOCK_SUFFIX, source=lock.TICKET_SOURCE, tags=tags
    ).version


def test_lock_is_held_inside_the_block_and_released_after(client, name: str) -> None:
    with registry.promotion_lock(client, name):
        held = lock_tags(client, name)
        assert held is not None
        assert time.time() - float(held["acquired_at"]) < 60
    assert lock_tags(client, name) is None


def test_second_holder_waits_then_times_out_naming_the_lock(client, name: str) -> None:
    wait_s = 1.0
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(0.05)

    with registry.promotion_lock(client, name):
        owner = lock_tags(client, name)["owner"]
        started = time.monotonic()
        with (
            pytest.raises(UserError) as raised,
            registry.promotion_lock(client, name, wait_s=wait_s, sleep=sleep),
        ):
            pytest.fail("the second holder must not get the lock")
        waited = time.monotonic() - started
        assert lock_tags(client, name)["owner"] == owner, "the first holder keeps it"

    assert waits, "the second holder retried before giving up"
    assert all(0 < wait <= 1 for wait in waits)
    assert waited >= wait_s
    message = str(raised.value)
    assert f"{name}{registry.LOCK_SUFFIX}" in message
    assert owner in message
    assert "\n" not in message
    assert lock_tags(client, name) is None


def test_stale_lock_is_taken_over(client, name: str) -> None:
    plant(client, name, owner="crashed-runner:1:dead", acquired_at=f"{time.time() - 3600:.3f}")

    with registry.promotion_lock(client, name, stale_s=900, wait_s=5, sleep=lambda s: None):
        assert lock_tags(client, name)["owner"] != "crashed-runner:1:dead"
    assert lock_tags(client, name) is None


def test_the_lock_model_outlives_its_holders(client, name: str) -> None:
    """Deleting it would, on an auth server, sweep the grants of the job that makes it next."""
    tickets = []
    for _ in range(2):
        with registry.promotion_lock(client, name):
            tickets.append(lock.holder(client, name).version)
        assert client.get_registered_model(name + registry.LOCK_SUFFIX).name
        assert lock.holder(client, name) is None
    assert tickets[1] > tickets[0], "a ticket number is never handed out twice"


def test_lock_is_released_when_the_block_raises(client, name: str) -> None:
    with (
        pytest.raises(RuntimeError, match="promotion blew up"),
        registry.promotion_lock(client, name),
    ):
        raise RuntimeError("promotion blew up")
    assert lock_tags(client, name) is None


def test_lock_taken_over_by_someone_else_is_left_alone(client, name: str) -> None:
    successor = {"owner": "other-runner:2:beef", "acquired_at": f"{time.time():.3f}"}

    with registry.promotion_lock(client, name):
        mine = lock.holder(client, name)
        client.delete_model_version(name + registry.LOCK_SUFFIX, str(mine.version))
        plant(client, name, **successor)

    assert lock_tags(client, name) == successor


def test_champion_is_none_for_a_missing_model_or_alias(client, name: str, add_version) -> None:
    assert registry.champion(client, name, "champion") is None
    add_version()
    assert registry.champion(client, name, "champion") is None

    second = add_version()
    client.set_registered_model_alias(name, "champion", second)
    assert str(registry.champion(client, name, "champion").version) == second
    assert registry.champion(client, name, "staging") is None


def test_find_candidate_picks_the_newest_version_for_pr_and_head(
    client, name: str, add_version
) -> None:
    add_version(pr_number="5", head_sha=HEAD)
    newest = add_version(pr_number="5", head_sha=HEAD)
    add_version(pr_number="5", head_sha=OTHER_HEAD)
    add_version(pr_number="6", head_sha=HEAD)

    found = registry.find_candidate(client, name, 5, HEAD)

    assert str(found.version) == newest
    assert registry.find_candidate(client, name, 7, HEAD) is None
    assert registry.find_candidate(client, name, 5, "f" * 40) is None


@pytest.mark.parametrize(
    "head_sha",
    ["", "abc' or name like '%", "9f1c2e3d 4b5a", "../../etc/passwd", "HEAD~1", "9f1c-2e3d"],
)
def test_find_candidate_rejects_what_is_not_a_sha(client, name: str, head_sha: str) -> None:
    with pytest.raises(UserError, match="head-sha"):
        registry.find_candidate(client, name, 5, head_sha)


def test_recent_champions_oldest_first_and_limited(client, name: str, add_version) -> None:
    promoted_at = ["2025-03-01T10:00:00Z", "2025-01-15T09:00:00Z", "2025-02-20T12:30:00Z"]
    by_time = {add_version(promoted_at=stamp): stamp for stamp in promoted_at}
    add_version()
    in_order = sorted(by_time, key=by_time.__getitem__)

    for limit in (0, 1, 2, len(by_time), len(by_time) + 3):
        found = registry.recent_champions(client, name, limit)
        expected = in_order[len(in_order) - limit :] if limit else []
        assert [str(v.version) for v in found] == expected, limit
