"""An HTTP proxy on 127.0.0.1 in front of a real `mlflow server` that can take it away.

`OutageProxy(upstream, trigger=r"/runs/log-", outage_s=10)` forwards every request until the
first one whose path matches `trigger`; that request's connection is dropped, and for
`outage_s` seconds the port refuses connections, as if the server had been killed. Then the
port answers again (the server is back, with everything it had stored).

`MisbehavingServer("empty-json" | "trickle")` stands where a tracking server should be and
answers, but not as MLflow: `{}` to everything, or a reply trickling in a byte at a time.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


class OutageProxy:
    def __init__(self, upstream: str, *, trigger: str, outage_s: float) -> None:
        self.upstream = urlsplit(upstream)
        self.trigger = re.compile(trigger)
        self.outage_s = outage_s
        self.triggered_at: float | None = None
        self.back_at: float | None = None
        self.refused_while_down = 0
        self._lock = threading.Lock()
        self._server = self._bind(0)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> OutageProxy:
        self._serve()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def _bind(self, port: int) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        server.daemon_threads = True
        server.proxy = self  # type: ignore[attr-defined]
        return server

    def _serve(self) -> None:
        server = self._server
        assert server is not None
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True
        ).start()

    def take_down(self) -> None:
        """Close the port now (connections are refused) and reopen it after `outage_s`."""
        with self._lock:
            if self.triggered_at is not None:
                return
            self.triggered_at = time.monotonic()
            server, self._server = self._server, None
        threading.Thread(target=self._outage, args=(server,), daemon=True).start()

    def _outage(self, server: ThreadingHTTPServer | None) -> None:
        if server is not None:
            server.shutdown()
            server.server_close()
        time.sleep(self.outage_s)
        with self._lock:
            self._server = self._bind(self.port)
            self.back_at = time.monotonic()
        self._serve()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms ACK wait

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _forward(self) -> None:
        proxy: OutageProxy = self.server.proxy  # type: ignore[attr-defined]
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        if proxy.triggered_at is None and proxy.trigger.search(self.path):
            proxy.take_down()
        if proxy.triggered_at is not None and proxy.back_at is None:
            self.close_connection = True  # the server died with this request in flight
            return
        upstream = http.client.HTTPConnection(
            proxy.upstream.hostname, proxy.upstream.port, timeout=60
        )
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Host"] = proxy.upstream.netloc
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP | {"content-length"}:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward  # noqa: N815 (http.server's names)


class MisbehavingServer:
    """An HTTP server on 127.0.0.1 that answers every request, but not as MLflow would.

    - `mode="empty-json"`: `200 {}` to everything (a catch-all mock, a misrouted gateway);
    - `mode="trickle"`: headers at once, then the body one byte every `pause_s` seconds.

    Only ever sends bodies of a few bytes, so each answer ends within a bounded time.
    """

    def __init__(self, mode: str, *, pause_s: float = 1.0) -> None:
        if mode not in ("empty-json", "trickle"):
            raise ValueError(f"unknown mode {mode!r}")
        self.mode, self.pause_s = mode, pause_s
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _MisbehavingHandler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> MisbehavingServer:
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.pause_s = 0.0
        self._server.shutdown()
        self._server.server_close()


class _MisbehavingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms ACK wait

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        fake: MisbehavingServer = self.server.fake  # type: ignore[attr-defined]
        fake.requests.append(f"{self.command} {self.path}")
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        body = b'{"experiments": []}' if fake.mode == "trickle" else b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        try:
            for i in range(len(body)):  # at most len(body) pauses
                self.wfile.write(body[i : i + 1] if fake.mode == "trickle" else body[i:])
                self.wfile.flush()
                if fake.mode != "trickle":
                    return
                time.sleep(fake.pause_s)
        except OSError:  # the client gave up waiting, as it should
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815 (http.server's names)
