"""A small GitHub REST client: just what the PR-comment workflows need, with retries.

Errors surface as one-line `GitHubError`s that say what to fix, because they end up in
Actions logs where a stack trace from deep inside `requests` helps nobody.

Waiting is bounded per client, and a command uses one client: `max_wait`
(`DEFAULT_MAX_WAIT`, 120 s) is the total time its retries, rate-limit pauses, lag waits and
failed attempts may take, so neither a string of `retry-after` answers nor a server that
never answers can stretch one command past it. Each attempt is bounded as a whole, body
included (`DEFAULT_TIMEOUT`, 15 s), so a reply trickling in a byte at a time ends too.
Secondary rate limits without a `retry-after` wait at least `SECONDARY_LIMIT_WAIT` (60 s), as
GitHub asks. Pagination is capped and never revisits a page.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import requests

from mlgate import progress
from mlgate.deadline import read_body
from mlgate.errors import UserError
from mlgate.progress import shorten

JSON = dict[str, Any]
DEFAULT_API_URL = "https://api.github.com"
MIN_TOKEN_LENGTH = 8
DEFAULT_MAX_WAIT = 120.0  # seconds a whole command may spend waiting on GitHub
DEFAULT_TIMEOUT = 15.0  # seconds one attempt may take, from connecting to the body's last byte
SECONDARY_LIMIT_WAIT = 60.0  # GitHub: wait at least a minute when no retry-after is given
RETRY_LINE_CHARS = 80  # of the problem shown on an "attempt n/m" line
MAX_PAGES = 50  # 5,000 items at 100 a page; GitHub caps a PR's files at 3,000
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL = re.compile(r'rel\s*=\s*"?([^";,]+)"?')


class GitHubError(UserError):
    """A failed GitHub call; `str()` is always a single line and `.status` the HTTP status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(" ".join(message.split()))
        self.status = status
        self.ambiguous = False  # a write that may have happened despite the error


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
        max_wait: float = DEFAULT_MAX_WAIT,
        max_pages: int = MAX_PAGES,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not token:
            raise GitHubError("no GitHub token given: set GITHUB_TOKEN")
        if not _REPOSITORY.match(repository):
            raise GitHubError(f"repository must look like 'owner/name', got {repository!r}")
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self.max_retries, self.backoff, self.max_wait = max_retries, backoff, max_wait
        self.max_pages, self.timeout = max_pages, timeout
        self.waited = 0.0  # across every call of this client, i.e. of one command
        self._token = token
        self._session = session or requests.Session()
        self._sleep = sleep or (lambda seconds: time.sleep(seconds))  # looked up when called
        self._clock = clock
        self._monotonic = monotonic

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
        check_api_url(api_url)
        return cls(api_url, token, repository, **kwargs)

    def __repr__(self) -> str:
        return f"GitHubClient(api_url={self.api_url!r}, repository={self.repository!r})"

    def iter_issue_comments(self, number: int) -> Iterator[JSON]:
        """All comments of an issue or PR, oldest first, across every page."""
        yield from self._paginate(f"/repos/{self.repository}/issues/{int(number)}/comments")

    def create_issue_comment(self, number: int, body: str) -> JSON:
        """One POST, never retried here after a 5xx or a timeout: GitHub may have created the
        comment anyway, so the caller must look before posting again (see comment.py)."""
        path = f"/repos/{self.repository}/issues/{int(number)}/comments"
        return self._call("POST", path, {"body": body}, ambiguous_retry=False)

    def update_issue_comment(self, comment_id: int, body: str) -> JSON:
        path = f"/repos/{self.repository}/issues/comments/{int(comment_id)}"
        return self._call("PATCH", path, {"body": body})

    def iter_issues(
        self, *, state: str = "open", labels: str | None = None, max_pages: int = 50
    ) -> Iterator[JSON]:
        """Issues of the repository, newest first; GitHub includes PRs (with `pull_request`)."""
        query: JSON = {"state": state} | ({"labels": labels} if labels else {})
        yield from self._paginate(f"/repos/{self.repository}/issues", query, max_pages)

    def create_issue(self, title: str, body: str, labels: list[str]) -> JSON:
        """One POST, never retried here after a 5xx or a timeout, like a comment: the caller
        looks for the issue before opening it again (see issues.py)."""
        path = f"/repos/{self.repository}/issues"
        body_ = {"title": title, "body": body, "labels": labels}
        return self._call("POST", path, body_, ambiguous_retry=False)

    def update_issue(self, number: int, **fields: Any) -> JSON:
        """Edit an issue: `body`, `title`, `state` ("open"/"closed"), `state_reason`, ..."""
        return self._call("PATCH", f"/repos/{self.repository}/issues/{int(number)}", fields)

    def get_pull(self, number: int) -> JSON:
        return self._call("GET", f"/repos/{self.repository}/pulls/{int(number)}")

    def pulls_for_commit(self, sha: str) -> list[JSON]:
        """PRs associated with a commit: open PRs it belongs to, or the merged PR that landed it."""
        return list(self._paginate(f"/repos/{self.repository}/commits/{quote(sha, safe='')}/pulls"))

    def get_commit(self, sha: str) -> JSON:
        return self._call("GET", f"/repos/{self.repository}/commits/{quote(sha, safe='')}")

    def get_workflow_run(self, run_id: int) -> JSON:
        """One Actions workflow run (its workflow file, event, head SHA and conclusion)."""
        return self._call("GET", f"/repos/{self.repository}/actions/runs/{int(run_id)}")

    def iter_pull_files(self, number: int) -> Iterator[JSON]:
        """The files a PR changes (`filename`, `status`, `previous_filename` on renames)."""
        yield from self._paginate(f"/repos/{self.repository}/pulls/{int(number)}/files")

    def create_commit_status(
        self, sha: str, state: str, *, context: str, description: str, target_url: str | None
    ) -> JSON:
        """A commit status; re-sending one is harmless (the newest per context wins)."""
        body: JSON = {"state": state, "context": context, "description": description}
        if target_url:
            body["target_url"] = target_url
        return self._call("POST", f"/repos/{self.repository}/statuses/{quote(sha, safe='')}", body)

    def pause(self, seconds: float, why: str) -> bool:
        """Sleep `seconds` out of this command's wait budget; False (no sleep) if it is spent."""
        if seconds > self.max_wait - self.waited:
            return False
        progress.say(self._scrub(f"GitHub: {why}; waiting {seconds:.0f} s"))
        self._sleep(seconds)
        self.waited += seconds
        return True

    def _call(
        self, method: str, path: str, body: JSON | None = None, *, ambiguous_retry: bool = True
    ) -> Any:
        response = self._request(method, self.api_url + path, body=body, retry=ambiguous_retry)
        return _decode(response)

    def _paginate(
        self, path: str, query: JSON | None = None, max_pages: int | None = None
    ) -> Iterator[JSON]:
        url: str | None = self.api_url + path
        params: JSON | None = {**(query or {}), "per_page": 100}
        limit = self.max_pages if max_pages is None else min(max_pages, self.max_pages)
        seen: set[str] = set()
        while url:
            key = _page_key(url, params)
            if key in seen:
                raise GitHubError(
                    f"GitHub's pagination for GET {path} links back to a page already read "
                    f"({urlsplit(url).path}?{urlsplit(url).query}): stopping"
                )
            if len(seen) == limit:
                raise GitHubError(
                    f"GET {path} has more than {limit} pages of 100 (max_pages={limit}): "
                    "stopping; narrow the query"
                )
            seen.add(key)
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
        self,
        method: str,
        url: str,
        params: JSON | None = None,
        body: JSON | None = None,
        *,
        retry: bool = True,
    ) -> requests.Response:
        """Send one call, retrying server errors, dropped connections and rate limits.

        With `retry=False` a 5xx or a dropped connection is raised at once (`.ambiguous` set),
        since the write may have happened; rate limits are still waited out, as GitHub did
        nothing then.
        """
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "mlgate-ci",
        }
        what = f"{method} {urlsplit(url).path}"
        for attempt in range(self.max_retries + 1):
            response: requests.Response | None = None
            started, deadline = self._monotonic(), time.monotonic() + self.timeout
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers=headers,
                    timeout=self.timeout,
                    stream=True,
                )
                read_body(response, deadline)
            except (requests.ConnectionError, requests.Timeout) as exc:
                response = None
                problem, wait = f"{type(exc).__name__}: {exc}", self.backoff * 2**attempt
                self.waited += self._monotonic() - started  # a failed attempt is waiting too
            except requests.RequestException as exc:  # an address requests cannot use
                raise GitHubError(
                    self._scrub(f"{what} to {self.api_url} failed: {exc}; check GITHUB_API_URL")
                ) from None
            else:
                if response.status_code < 400:
                    return response
                problem = f"{response.status_code} {_describe(response)}"
                wait = self._retry_wait(response, attempt)
                if wait is None:
                    raise self._error(what, response)
                if response.status_code in (403, 429) and wait > self.max_wait - self.waited:
                    raise self._rate_limited(what, response, wait)
            status = None if response is None else response.status_code
            if not retry and (status is None or status >= 500):
                error = GitHubError(self._scrub(f"{what} failed: {problem}"), status)
                error.ambiguous = True
                raise error
            line = f"{what}: {shorten(problem, RETRY_LINE_CHARS)}"
            if attempt == self.max_retries or not self.pause(
                wait, f"{line} (attempt {attempt + 1}/{self.max_retries + 1})"
            ):
                text = f"{what} still failing after {attempt + 1} attempts: {problem}"
                raise GitHubError(self._scrub(text), status)
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
            if retry_after.isdigit():
                return float(retry_after)
            with contextlib.suppress(TypeError, ValueError):  # the HTTP-date form
                when = parsedate_to_datetime(retry_after).timestamp()
                return max(when - self._clock(), 0.0) + 1.0
            return max(SECONDARY_LIMIT_WAIT, backoff)
        reset = headers.get("x-ratelimit-reset", "")
        if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
            # One extra second covers clock skew between us and GitHub.
            return max(float(reset) - self._clock(), 0.0) + 1.0
        message = _describe(response).lower()
        if status == 429 or "rate limit" in message or "abuse" in message:
            # A secondary limit, whatever its wording: GitHub asks for at least a minute.
            return max(SECONDARY_LIMIT_WAIT, backoff)
        return None

    def _rate_limited(self, what: str, response: requests.Response, wait: float) -> GitHubError:
        reset, when = response.headers.get("x-ratelimit-reset", ""), f"in {wait:.0f} s"
        if response.headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
            at = datetime.fromtimestamp(int(reset), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            when = f"at {at} ({when})"
        text = (
            f"GitHub rate limit hit on {what} ({response.status_code} {_describe(response)}); "
            f"it lifts {when}, beyond what is left of this command's max_wait="
            f"{self.max_wait:.0f} s: retry later"
        )
        return GitHubError(self._scrub(text), response.status_code)

    def _error(self, what: str, response: requests.Response) -> GitHubError:
        status, message = response.status_code, _describe(response)
        needs = f"{_permission(what)}: write"
        hints = {
            401: f"GitHub rejected the token (401 {message}): check GITHUB_TOKEN",
            403: f"GitHub refused {what} (403 {message}): the token lacks permission; the "
            f"workflow needs `permissions: {needs}` (fork PRs get a read-only token)",
            404: f"GitHub found nothing at {what} (404 {message}): check the repository, number "
            "or id, and that the token can see the repository",
            422: f"GitHub rejected {what} (422 {message})",
        }
        text = hints.get(status, f"GitHub API {what} failed with {status}: {message}")
        return GitHubError(self._scrub(text), status)

    def _scrub(self, text: str) -> str:
        """Mask the token where it really occurs: as a whole word, and only a token long enough
        to be one (GitHub's are 40 characters or more), so "x" cannot garble a message."""
        if len(self._token) < MIN_TOKEN_LENGTH:
            return text
        pattern = rf"(?<![A-Za-z0-9_]){re.escape(self._token)}(?![A-Za-z0-9_])"
        return re.sub(pattern, "***", text)


def check_api_url(api_url: str) -> None:
    """A one-line error naming GITHUB_API_URL for an address no request could use."""
    expected = "expected e.g. https://api.github.com or https://HOST/api/v3"
    try:
        parts = urlsplit(api_url)
        parts.port  # noqa: B018 (parsing the port validates it)
    except ValueError as exc:
        raise GitHubError(
            f"GITHUB_API_URL {api_url!r} is not a valid URL ({exc}); {expected}"
        ) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise GitHubError(f"GITHUB_API_URL {api_url!r} is not an http(s) URL; {expected}")
    if not parts.hostname:
        raise GitHubError(f"GITHUB_API_URL {api_url!r} has no host; {expected}")


def _page_key(url: str, params: JSON | None) -> str:
    """One spelling per page, whatever the order of its query or where per_page came from."""
    parts = urlsplit(url)
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    query += sorted((str(k), str(v)) for k, v in (params or {}).items())
    return f"{parts.netloc.lower()}{parts.path}?{urlencode(sorted(set(query)))}"


def _permission(what: str) -> str:
    """The `permissions:` scope a write needs: statuses, issues, else pull-requests."""
    if "/statuses/" in what:
        return "statuses"
    return "issues" if re.search(r"/issues(/\d+)?$", what) else "pull-requests"


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
