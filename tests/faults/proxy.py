"""A fault-injection HTTP proxy in front of a real influxd.

A threaded stdlib HTTP/1.1 server on loopback forwards every request (``/write``,
``/query``, ``/ping`` …) to the upstream server and counts requests, body bytes and lines
per path. Faults are switched at run time and apply to the next ``times`` matching requests
(``None``: until :meth:`FaultProxy.reset`):

- ``fail(status, headers=..., min_body=N)``: answer ``status`` without forwarding (only when
  the request body is over ``N`` bytes, if given: a server's body size limit);
- ``hang()``: read the request and never answer (until reset or stop);
- ``trickle(interval_s)``: forward, then send the answer one byte per ``interval_s``;
- ``slow(delay_s)``: forward after ``delay_s``;
- ``hold()``: forward only once :meth:`FaultProxy.release` is called (to make two clients
  overlap for sure).

By default faults apply to ``/write`` only, so tests can still read back through the proxy.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


@dataclass
class Fault:
    kind: str  # fail | hang | trickle | slow | hold
    times: int | None
    paths: tuple[str, ...]
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    min_body: int | None = None
    interval_s: float = 1.0

    def matches(self, path: str, body: bytes) -> bool:
        return path in self.paths and (self.min_body is None or len(body) > self.min_body)


@dataclass
class PathStats:
    requests: int = 0
    bytes: int = 0  # request body bytes
    lines: int = 0  # request body lines (line protocol points)
    faulted: int = 0


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    answered: int | None  # status sent (None: hung)
    t: float


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        up = urlsplit(upstream)
        self.upstream = (up.hostname or "127.0.0.1", up.port or 80)
        self.stats: dict[str, PathStats] = defaultdict(PathStats)
        self.seen: list[Seen] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._gate = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._gate.set()
        self._server.shutdown()
        self._server.server_close()

    # -- switching faults ----------------------------------------------------------------
    def fail(
        self,
        status: int,
        times: int | None = None,
        headers: dict[str, str] | None = None,
        body: str = "",
        min_body: int | None = None,
        paths: tuple[str, ...] = ("/write",),
    ) -> None:
        body = body or f'{{"error":"injected {status}"}}'
        self._add(Fault("fail", times, paths, status, headers or {}, body, min_body))

    def hang(self, times: int | None = None, paths: tuple[str, ...] = ("/write",)) -> None:
        self._add(Fault("hang", times, paths))

    def trickle(
        self,
        times: int | None = None,
        interval_s: float = 1.0,
        paths: tuple[str, ...] = ("/write",),
    ) -> None:
        self._add(Fault("trickle", times, paths, interval_s=interval_s))

    def slow(
        self, delay_s: float, times: int | None = None, paths: tuple[str, ...] = ("/write",)
    ) -> None:
        self._add(Fault("slow", times, paths, interval_s=delay_s))

    def hold(self, times: int | None = None, paths: tuple[str, ...] = ("/write",)) -> None:
        self._gate.clear()
        self._add(Fault("hold", times, paths))

    def release(self) -> None:
        """Let held requests go on to the upstream server."""
        self._gate.set()

    def reset(self) -> None:
        """Back to forwarding everything; hung requests are let go (connection closed)."""
        with self._lock:
            self._faults.clear()
        self._release.set()
        self._release = threading.Event()
        self._gate.set()

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take(self, path: str, body: bytes) -> Fault | None:
        """The first fault matching this request (consuming one of its ``times``)."""
        with self._lock:
            for f in self._faults:
                if f.matches(path, body):
                    if f.times is not None:
                        f.times -= 1
                        if f.times <= 0:
                            self._faults.remove(f)
                    return f
        return None

    # -- counting ------------------------------------------------------------------------
    def count(self, path: str = "/write") -> int:
        return self.stats[path].requests

    def _record(self, path: str, body: bytes) -> None:
        with self._lock:
            st = self.stats[path]
            st.requests += 1
            st.bytes += len(body)
            st.lines += len([ln for ln in body.split(b"\n") if ln.strip()])

    # -- forwarding ----------------------------------------------------------------------
    def forward(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            fwd = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(method, target, body=body or None, headers=fwd)
            resp = conn.getresponse()
            data = resp.read()
            out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            return resp.status, out, data
        finally:
            conn.close()


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            self._handle()

        def do_POST(self) -> None:  # noqa: N802
            self._handle()

        def do_HEAD(self) -> None:  # noqa: N802
            self._handle()

        def _handle(self) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            parts = urlsplit(self.path)
            proxy._record(parts.path, body)
            seen = Seen(
                self.command, parts.path, parts.query, dict(self.headers), None, time.time()
            )
            with proxy._lock:
                proxy.seen.append(seen)
            fault = proxy._take(parts.path, body)
            if fault is not None:
                proxy.stats[parts.path].faulted += 1
            if fault is not None and fault.kind == "hang":
                proxy._release.wait()
                self.close_connection = True
                return
            if fault is not None and fault.kind == "fail":
                hdrs = [("Content-Type", "application/json"), *fault.headers.items()]
                seen.answered = fault.status
                self._answer(fault.status, hdrs, fault.body.encode())
                return
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.interval_s)
            if fault is not None and fault.kind == "hold":
                proxy._gate.wait(60)
            status, hdrs, data = proxy.forward(self.command, self.path, dict(self.headers), body)
            seen.answered = status
            if fault is not None and fault.kind == "trickle":
                self._trickle(status, hdrs, data, fault.interval_s)
            else:
                self._answer(status, hdrs, data)

        def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _trickle(
            self, status: int, headers: list[tuple[str, str]], data: bytes, dt: float
        ) -> None:
            raw = f"HTTP/1.1 {status} {http.client.responses.get(status, '')}\r\n"
            raw += "".join(f"{k}: {v}\r\n" for k, v in headers)
            raw += f"Content-Length: {len(data)}\r\n\r\n"
            payload = raw.encode("latin-1") + data
            release = proxy._release
            self.close_connection = True
            for i in range(len(payload)):
                try:
                    self.wfile.write(payload[i : i + 1])
                    self.wfile.flush()
                except OSError:
                    return  # the client gave up
                if release.wait(dt):
                    return

    return Handler
