"""The GitHub stand-in and the client, checked against GitHub's published OpenAPI description.

Every call a scenario makes is matched to an operation of the description: the request's
method, path, query and JSON body must be what the operation accepts, and the stand-in's reply
one of its documented statuses, with a body valid against the documented schema. The
description comes from the npm package `@octokit/openapi`, pinned in scripts/openapi
(`npm ci --prefix scripts/openapi`); it is never copied into the repository.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import pytest
import requests
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.comment import upsert_sticky_comment
from support.github_api import FakeGitHub

DESCRIPTION = (
    Path(__file__).parents[3]
    / "scripts/openapi/node_modules/@octokit/openapi/generated/api.github.com.json"
)
TOKEN = "ghs_openapiTOKENvalue0000000"
REPO = "acme/trips"
HEAD = "d" * 40
UNDOCUMENTED = {
    # (method, operation path, status): why the stand-in answers what GitHub does not document
    ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}", 404): (
        "a run id that does not exist: GitHub answers 404 with its basic error, undocumented"
    ),
    ("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", 422): (
        "a SHA that is not a commit: GitHub answers 422 with its validation error, undocumented"
    ),
}


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    body: Any
    status: int
    reply: Any


@cache
def description() -> dict[str, Any]:
    if not DESCRIPTION.is_file():
        if os.environ.get("MLGATE_REQUIRE_OPENAPI"):  # set by .ci/run, which installs it
            pytest.fail(f"GitHub's OpenAPI description is missing: {DESCRIPTION} (see .ci/run)")
        pytest.skip("needs `npm ci --prefix scripts/openapi`")
    return _as_json_schema(json.loads(DESCRIPTION.read_text(encoding="utf-8")))


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema's `null` type, everywhere in the tree."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _as_json_schema(value) for key, value in node.items()}
    if out.pop("nullable", False) is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if not {"type", "enum"} & out.keys():
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(description(), default_specification=DRAFT202012)
    return Registry().with_resource("github.json", resource)


def _errors(instance: Any, pointer: str) -> list[str]:
    """Where `instance` breaks the schema at `pointer` in the description, if anywhere."""
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"github.json#{pointer}"}, registry=_registry()
    )
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
        for e in validator.iter_errors(instance)
    ][:50]


@cache
def _operations() -> list[tuple[re.Pattern[str], str]]:
    paths = description()["paths"]
    return [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in paths]


def _escape(pointer_part: str) -> str:
    return pointer_part.replace("~", "~0").replace("/", "~1")


def problems(call: Call) -> list[str]:
    """What in `call` (request and reply) the description does not allow."""
    parts = urlsplit(call.url)
    matches = [p for regex, p in _operations() if regex.match(parts.path)]
    if not matches:
        return [f"{call.method} {parts.path}: no such path in the description"]
    path = min(matches, key=lambda p: p.count("{"))  # a literal segment beats a parameter
    operation = description()["paths"][path].get(call.method.lower())
    if operation is None:
        return [f"{call.method} {path}: no such operation"]
    base = f"/paths/{_escape(path)}/{call.method.lower()}"
    found = []
    parameters = {}
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = _resolve(parameter["$ref"])
        parameters[(parameter["in"], parameter["name"])] = parameter
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        parameter = parameters.get(("query", name))
        if parameter is None:
            found.append(f"{call.method} {path}: undocumented query parameter {name!r}")
            continue
        typed: Any = int(value) if parameter["schema"].get("type") == "integer" else value
        errors = jsonschema.Draft202012Validator(parameter["schema"]).iter_errors(typed)
        found += [f"{call.method} {path}: query {name}={value!r}: {e.message}" for e in errors]
    if call.body is not None:
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if schema is None:
            found.append(f"{call.method} {path}: a JSON body where none is documented")
        else:
            pointer = f"{base}/requestBody/content/application~1json/schema"
            found += [f"{call.method} {path} request: {e}" for e in _errors(call.body, pointer)]
    responses = operation["responses"]
    status = str(call.status)
    if status not in responses:
        if (call.method, path, call.status) not in UNDOCUMENTED:
            found.append(f"{call.method} {path}: undocumented status {status}")
        return found
    response = responses[status]
    pointer = f"{base}/responses/{status}"
    if "$ref" in response:
        pointer = response["$ref"].removeprefix("#")
        response = _resolve(response["$ref"])
    if "application/json" in response.get("content", {}):
        pointer += "/content/application~1json/schema"
        found += [f"{call.method} {path} {status} reply: {e}" for e in _errors(call.reply, pointer)]
    return found


def _resolve(ref: str) -> Any:
    node: Any = description()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _record(session: requests.Session) -> list[requests.Response]:
    responses: list[requests.Response] = []
    session.hooks["response"].append(lambda response, **_: responses.append(response))
    return responses


def _calls(responses: list[requests.Response]) -> list[Call]:
    """The recorded exchanges, bodies read (the client reads each one before returning)."""
    calls = []
    for response in responses:
        body = response.request.body
        calls.append(
            Call(
                response.request.method or "",
                response.request.url or "",
                json.loads(body) if body else None,
                response.status_code,
                response.json() if response.content else None,
            )
        )
    return calls


def _workflows(gh: FakeGitHub, client: GitHubClient) -> None:
    """Every call the client makes, each as the workflows make it."""
    gh.add_pull(7, HEAD, files=["src/model.py", "docs/a.md"])
    gh.add_pull(8, "e" * 40, merged=True, merge_commit_sha="f" * 40)
    gh.add_comment(7, "a human's comment")
    upsert_sticky_comment(client, 7, "report")
    upsert_sticky_comment(client, 7, "report, changed")
    client.get_pull(7)
    list(client.iter_pull_files(7))
    client.pulls_for_commit("f" * 40)
    client.get_commit("f" * 40)
    client.create_commit_status(
        HEAD, "success", context="model-gate", description="passes", target_url="https://x.test/1"
    )
    issue = client.create_issue("Model drift detected", "drift", ["model-drift"])
    list(client.iter_issues(state="open", labels="model-drift"))
    client.update_issue(issue["number"], body="still drifting")
    client.create_issue_comment(issue["number"], "Still drifting")
    client.update_issue(issue["number"], state="closed", state_reason="completed")
    run = gh.add_run(HEAD, pr=7)
    client.get_workflow_run(run["id"])


def _refusals(gh: FakeGitHub, client: GitHubClient) -> None:
    """The error replies the client reads: missing things, and rejected writes."""
    for call in (
        lambda: client.get_pull(404),
        lambda: client.get_workflow_run(404),
        lambda: client.pulls_for_commit("0" * 40),
        lambda: client.get_commit("0" * 40),
        lambda: client.update_issue(404, body="x"),
        lambda: client.create_issue_comment(7, "x" * 70_000),
    ):
        with contextlib.suppress(GitHubError):
            call()


@pytest.mark.parametrize("scenario", [_workflows, _refusals], ids=["workflows", "refusals"])
def test_the_stand_in_and_the_client_follow_githubs_description(scenario) -> None:
    description()  # skip, or fail in CI, before starting anything
    session = requests.Session()
    responses = _record(session)
    with FakeGitHub(token=TOKEN, repository=REPO) as gh:
        gh.add_pull(7, HEAD)
        client = GitHubClient(gh.url, TOKEN, REPO, session=session, sleep=lambda s: None)
        scenario(gh, client)
    calls = _calls(responses)

    assert len(calls) >= 6, "the scenario made its calls"
    found = [problem for call in calls for problem in problems(call)]
    assert found == []


def test_the_check_catches_what_the_description_forbids() -> None:
    """The validation itself can fail: a reply missing a required field, a bad body, a bad
    status and an unknown query parameter are each reported."""
    base = "https://api.github.com/repos/acme/trips"
    bad = [
        Call("GET", f"{base}/pulls/7", None, 200, {"number": 7}),
        Call("POST", f"{base}/issues/7/comments", {"text": "x"}, 201, None),
        Call("GET", f"{base}/pulls/7", None, 418, None),
        Call("GET", f"{base}/issues/7/comments?per_page=100&colour=red", None, 200, []),
    ]
    for call in bad:
        assert problems(call), call
