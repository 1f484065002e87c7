"""The example plug-in's tests use the synthetic TLC months of `support.tlc`, its runnable
modules (`green_taxi.make_sample`, `green_taxi.download_tlc`), and a local TLC file host."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType

import pytest

from support.tlc import set_ride_fixture, tlc_frame, tlc_month, tlc_schema, trip_records

__all__ = ["set_ride_fixture", "tlc_frame", "tlc_month", "tlc_schema", "trip_records"]


@pytest.fixture(scope="session")
def make_sample() -> ModuleType:
    from green_taxi import make_sample

    return make_sample


@pytest.fixture(scope="session")
def download_tlc() -> ModuleType:
    from green_taxi import download_tlc

    return download_tlc


@dataclass
class Reply:
    """One canned HTTP answer; ``claimed_length`` lies about Content-Length to cut a body short."""

    status: int
    body: bytes = b""
    claimed_length: int | None = None


@dataclass
class TLCServer:
    """A local stand-in for the TLC file host: path -> replies, served in order, last repeats."""

    base_url: str
    routes: dict[str, list[Reply]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def serve(self, month: str, *replies: tuple[int, bytes] | tuple[int, bytes, int]) -> None:
        """Queue replies for a month as (status, body) or (status, body, claimed_length)."""
        path = f"/trip-data/green_tripdata_{month}.parquet"
        self.routes[path] = [Reply(*reply) for reply in replies]


@pytest.fixture
def tlc_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[TLCServer]:
    # A proxy from the environment must not intercept loopback requests.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    state = TLCServer(base_url="")

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms ACK wait

        def do_GET(self) -> None:
            state.hits.append(self.path)
            replies = state.routes.get(self.path) or [Reply(404, b"not found")]
            reply = replies.pop(0) if len(replies) > 1 else replies[0]
            self.send_response(reply.status)
            length = len(reply.body) if reply.claimed_length is None else reply.claimed_length
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(reply.body)
            if reply.claimed_length is not None:
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.005})
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/trip-data"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
