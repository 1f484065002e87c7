"""Reading an HTTP body against a deadline on the whole read, not on each chunk.

`requests`' read timeout restarts with every byte, so a server that sends its headers and
then one byte every few seconds keeps a call alive for ever. Streamed and read here, a body
must be complete by the deadline, whatever pace it comes at.
"""

from __future__ import annotations

import time

import requests
import urllib3

MAX_BODY_BYTES = 64 * 1024 * 1024  # far above any page this project reads


class BodyTooSlowError(requests.Timeout):
    """The body was not complete by the deadline (a `requests.Timeout`, so callers retry it)."""


def read_body(response: requests.Response, deadline: float) -> requests.Response:
    """Read a `stream=True` response's body by `deadline` (a `time.monotonic()` value).

    The response's `.content`, `.text` and `.json()` work afterwards as for a plain call.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise BodyTooSlowError(
                    "Read timed out: the reply's body was not complete by the deadline "
                    f"({size} bytes read)"
                )
            chunk = response.raw.read1(65536, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise BodyTooSlowError(f"the reply's body exceeds {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
    except requests.Timeout:
        response.close()
        raise
    except urllib3.exceptions.ReadTimeoutError as exc:
        response.close()
        raise requests.ReadTimeout(f"reading the reply timed out: {exc}") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        response.close()
        raise requests.ConnectionError(f"reading the reply failed: {exc}") from None
    response._content = b"".join(chunks)
    response._content_consumed = True
    response.close()
    return response
