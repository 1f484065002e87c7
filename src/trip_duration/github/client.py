"""A small GitHub REST client: just what the PR-comment workflows need, with retries.

Errors surface as one-line `GitHubError`s that say what to fix, because they end up in
Actions logs where a stack trace from deep inside `requests` helps nobody.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from trip_duration.errors import UserError

JSON = dict[str, Any]
DEFAULT_API_URL = "https://api.github.com"
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL = re.compile(r'rel\s*=\s*"?([^";,]+)"?')


class GitHubError(UserError):
    """A failed GitHub call; `str()` is always a single line and `.status` the HTTP status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(" ".join(message.split()))
        self.status = status


def parse_link_header(value: str | None) -> dict[str, str]:
    """Map each `rel` of an RFC 8288 Link header (as GitHub sends it) to its URL."""
    links: dict[str, str] = {}
    for url, params in _LINK.findall(value or ""):
        for rel in _REL.findall(params):
            for name in rel.split():
                links.setdefault(name.lower(), url)
    return links


class GitHubClient:
    """Talks to api.github.com, a GitHub Enterprise Server (`https://host/api/v3`) or a fake."""

    def __init__(
        self,
        api_url: str,
        token: str,
        repository: str,
        session: requests.Session | None = None,
        *,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_wait: float = 300.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not token:
            raise GitHubError("no GitHub token given: set GITHUB_TOKEN")
        if not _REPOSITORY.match(repository):
            raise GitHubError(f"repository must look like 'owner/name', got {repository!r}")
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self.max_retries, self.backoff, self.max_wait = max_retries, backoff, max_wait
        self.timeout = timeout
        self._token = token
        self._session = session or requests.Session()
        self._sleep, self._clock = sleep, clock

    @classmethod
    def from_env(cls, **kwargs: Any) -> GitHubClient:
        """Build a client from the variables GitHub Actions sets (GITHUB_API_URL, ...)."""
        token = os.environ.get("GITHUB_TOKEN", "").strip()
        repository = os.environ.get("GITHUB_REPOSITORY", "").strip()
        if not token:
            raise GitHubError("GITHUB_TOKEN is not set: pass it to the step as an env variable")
        if not repository:
            raise GitHubError("GITHUB_REPOSITORY is not set: expected 'owner/name'")
        api_url = os.environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
        return cls(api_url, token, repository, **kwargs)

    def __repr__(self) -> str:
        return f"GitHubClient(api_url={self.api_url!r}, repository={self.repository!r})"

    def iter_issue_comments(self, number: int) -> Iterator[JSON]:
        """All comments of an issue or PR, oldest first, across every page."""
        yield from self._paginate(f"/repos/{self.repository}/issues/{int(number)}/comments")

    def create_issue_comment(self, number: int, body: str) -> JSON:
        path = f"/repos/{self.repository}/issues/{int(number)}/comments"
        return self._call("POST", path, {"body": body})

    def update_issue_comment(self, comment_id: int, body: str) -> JSON:
        path = f"/repos/{self.repository}/issues/comments/{int(comment_id)}"
        return self._call("PATCH", path, {"body": body})

    def get_pull(self, number: int) -> JSON:
        return self._call("GET", f"/repos/{self.repository}/pulls/{int(number)}")

    def pulls_for_commit(self, sha: str) -> list[JSON]:
        """PRs associated with a commit: open PRs it belongs to, or the merged PR that landed it."""
        return list(self._paginate(f"/repos/{self.repository}/commits/{quote(sha, safe='')}/pulls"))

    def get_workflow_run(self, run_id: int) -> JSON:
        """One Actions workflow run (its workflow file, event, head SHA and conclusion)."""
        return self._call("GET", f"/repos/{self.repository}/actions/runs/{int(run_id)}")

    def _call(self, method: str, path: str, body: JSON | None = None) -> Any:
        return _decode(self._request(method, self.api_url + path, body=body))

    def _paginate(self, path: str) -> Iterator[JSON]:
        url: str | None = self.api_url + path
        params: JSON | None = {"per_page": 100}
        while url:
            response = self._request("GET", url, params=params)
            page = _decode(response)
            if not isinstance(page, list):
                raise GitHubError(f"GitHub returned a non-list page for GET {path}")
            yield from page
            # The next link already carries per_page (GitHub may also switch to /repositories/ID).
            url, params = parse_link_header(response.headers.get("Link")).get("next"), None
            if url and urlsplit(url)[:2] != urlsplit(self.api_url)[:2]:
                raise GitHubError(f"refusing to follow a pagination link off {self.api_url}")

    def _request(
        self, method: str, url: str, params: JSON | None = None, body: JSON | None = None
    ) -> requests.Response:
        """Send one call, retrying server errors, dropped connections and rate limits."""
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "trip-duration-ci",
        }
        what, waited = f"{method} {urlsplit(url).path}", 0.0
        for attempt in range(self.max_retries + 1):
            response: requests.Response | None = None
            try:
                response = self._session.request(
                    method, url, params=params, json=body, headers=headers, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem, wait = f"{type(exc).__name__}: {exc}", self.backoff * 2**attempt
            else:
                if response.status_code < 400:
                    return response
                problem = f"{response.status_code} {_describe(response)}"
                wait = self._retry_wait(response, attempt)
                if wait is None:
                    raise self._error(what, response)
                if response.status_code in (403, 429) and wait > self.max_wait - waited:
                    raise self._rate_limited(what, response, wait)
            status = None if response is None else response.status_code
            if attempt == self.max_retries or wait > self.max_wait - waited:
                text = f"{what} still failing after {attempt + 1} attempts: {problem}"
                raise GitHubError(self._scrub(text), status)
            self._sleep(wait)
            waited += wait
        raise AssertionError("unreachable")

    def _retry_wait(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None if the failure is not worth retrying."""
        status, headers = response.status_code, response.headers
        backoff = self.backoff * 2**attempt
        if status >= 500:
            return backoff
        if status not in (403, 429):
            return None
        if retry_after := headers.get("retry-after", "").strip():
            return float(retry_after) if retry_after.isdigit() else backoff
        if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
            # One extra second covers clock skew between us and GitHub.
            return max(float(headers["x-ratelimit-reset"]) - self._clock(), 0.0) + 1.0
        if "secondary rate limit" in _describe(response).lower():
            return max(60.0, backoff)  # GitHub's documented minimum wait for this case
        return backoff if status == 429 else None

    def _rate_limited(self, what: str, response: requests.Response, wait: float) -> GitHubError:
        reset, when = response.headers.get("x-ratelimit-reset", ""), f"in {wait:.0f} s"
        if response.headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
            at = datetime.fromtimestamp(int(reset), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            when = f"at {at} ({when})"
        text = (
            f"GitHub rate limit hit on {what} ({response.status_code} {_describe(response)}); "
            f"it lifts {when}, beyond max_wait={self.max_wait:.0f} s: retry later"
        )
        return GitHubError(self._scrub(text), response.status_code)

    def _error(self, what: str, response: requests.Response) -> GitHubError:
        status, message = response.status_code, _describe(response)
        hints = {
            401: f"GitHub rejected the token (401 {message}): check GITHUB_TOKEN",
            403: f"GitHub refused {what} (403 {message}): the token lacks permission; the "
            "workflow needs `permissions: pull-requests: write` (fork PRs get a read-only token)",
            404: f"GitHub found nothing at {what} (404 {message}): check the repository, number "
            "or id, and that the token can see the repository",
            422: f"GitHub rejected {what} (422 {message})",
        }
        text = hints.get(status, f"GitHub API {what} failed with {status}: {message}")
        return GitHubError(self._scrub(text), status)

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***")


def _decode(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        where = f"{response.request.method} {urlsplit(response.url).path}"
        raise GitHubError(f"GitHub sent non-JSON to {where}", response.status_code) from None


def _describe(response: requests.Response) -> str:
    """GitHub's `message`, plus any validation `errors`, from an error response."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not payload.get("message"):
        return response.reason or response.text[:200] or "no message"
    details = []
    for error in payload.get("errors") or []:
        if isinstance(error, dict):
            error = error.get("message") or f"{error.get('field')} {error.get('code')}"
        details.append(str(error))
    return f"{payload['message']}: {'; '.join(details)}" if details else str(payload["message"])
