"""A tiny scriptable HTTP server on 127.0.0.1 that stands in for Airflow and the model API."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: object


# A route answers (status, JSON body) for a request.
Route = Callable[[Request], tuple[int, object]]


@dataclass
class FakeServer:
    url: str
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def route(self, method: str, path: str, answer: Route) -> None:
        """Answer requests to a path; a path ending in /* answers every path under it."""
        self.routes[method, path] = answer

    def find(self, method: str, path: str) -> Route | None:
        if (method, path) in self.routes:
            return self.routes[method, path]
        under = [
            (len(prefix), route)
            for (verb, prefix), route in self.routes.items()
            if verb == method and prefix.endswith("/*") and path.startswith(prefix[:-1])
        ]
        return max(under, key=lambda item: item[0])[1] if under else None

    def calls(self, method: str, path: str) -> list[Request]:
        """Requests received on a path (the query string left out)."""
        return [r for r in self.requests if r.method == method and r.path.split("?")[0] == path]


def _body(raw: bytes) -> object:
    """A JSON body decoded; any other body as its bytes (a file sent to S3)."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = Request(self.command, self.path, dict(self.headers), _body(raw))
            server.requests.append(request)
            route = server.find(self.command, self.path.split("?")[0])
            status, body = route(request) if route else (404, {"detail": "Not Found"})
            payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header(
                "Content-Type", "text/plain" if isinstance(body, str) else "application/json"
            )
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args) -> None:  # quiet
            pass

    return Handler


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    fake = FakeServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port_url() -> str:
    """A URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def _mlflow_http_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """dashboard.tracking.client() sets these when unset; set here, nothing leaks out."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
