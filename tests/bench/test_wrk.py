"""The wrk script and the parsing of its summary line."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import wrk

LINE = (
    'WRK_JSON {"requests": 1200, "duration_us": 10000000, "bytes": 9, '
    '"errors": {"connect": 1, "read": 2, "write": 0, "status": 3, "timeout": 4}, '
    '"latency_us": {"p50": 12500, "p90": 20000, "p99": 45000, "max": 90000, "mean": 13000.5}}'
)


def test_the_summary_line_is_parsed_among_wrks_report() -> None:
    summary = wrk.parse(f"Running 10s test @ http://127.0.0.1:8000\n{LINE}\n")
    assert summary.requests_per_s == 120.0
    assert summary.failed == 9  # status 3, timeout 4, read 2
    assert summary.refused == 1
    assert summary.dropped == 6  # timeout 4, read 2
    assert (summary.p50_ms, summary.p99_ms, summary.max_ms) == (12.5, 45.0, 90.0)
    assert summary.as_dict(rows=100)["rows_per_s"] == 12000.0


def test_no_summary_is_an_error_that_shows_the_output() -> None:
    with pytest.raises(ValueError, match="unable to connect"):
        wrk.parse("unable to connect to 127.0.0.1:8000 Connection refused")


def test_the_script_posts_the_body_with_its_headers() -> None:
    body = json.dumps({"records": [{"a": 1}]})
    script = wrk.post_script(body, {"X-API-Key": 'k"ey'})
    assert 'wrk.method = "POST"' in script
    assert f"wrk.body = [==[{body}]==]" in script
    assert 'wrk.headers["Content-Type"] = "application/json"' in script
    assert 'wrk.headers["X-API-Key"] = "k\\"ey"' in script
    assert "done = function(summary, latency, requests)" in script


def test_a_body_that_would_end_the_lua_string_is_refused() -> None:
    with pytest.raises(ValueError, match="long string"):
        wrk.post_script('{"a": "]==]"}', {})


def test_the_command_is_bounded_in_time_and_threads() -> None:
    argv = wrk.command("http://127.0.0.1:8000/predict", "s.lua", 64, 10)
    assert argv[:5] == [
        "wrk", "--threads=2", "--connections=64", "--duration=10s", "--timeout=10s"
    ]  # fmt: skip
    assert wrk.command("http://x/", "s.lua", 1, 2)[1:4] == [
        "--threads=1", "--connections=1", "--duration=2s"
    ]  # fmt: skip
    for connections, seconds in [(0, 10), (1, 0), (1, 2.5)]:
        with pytest.raises(ValueError, match="whole number of seconds"):
            wrk.command("http://x/", "s.lua", connections, seconds)


def test_the_script_runs_in_wrk(tmp_path) -> None:
    """wrk itself runs the script against a loopback server that counts what it gets."""
    received: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["X-API-Key"], body))
            status = 200 if len(received) % 2 else 503  # every other answer fails
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        script = tmp_path / "post.lua"
        script.write_text(wrk.post_script('{"records": [1]}', {"X-API-Key": "k"}, statuses=True))
        url = f"http://127.0.0.1:{server.server_port}/predict"
        argv = wrk.command(url, str(script), 2, 1)
        output = subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
    finally:
        server.shutdown()
    summary = wrk.parse(output)
    assert summary.requests >= len(received) - 2 > 0  # wrk stops with requests in flight
    assert set(received) == {("k", b'{"records": [1]}')}
    assert abs(summary.failed - summary.requests / 2) <= 2
    assert set(summary.statuses) == {200, 503}
    assert sum(summary.statuses.values()) == summary.requests
    assert summary.statuses[503] == summary.failed


def test_a_paced_script_waits_between_a_connections_requests(tmp_path) -> None:
    """wrk with 100 ms between a connection's requests: about 10 a second, not thousands."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        script = tmp_path / "paced.lua"
        script.write_text(wrk.post_script("{}", {}, pause_ms=100))
        argv = wrk.command(f"http://127.0.0.1:{server.server_port}/", str(script), 1, 2)
        output = subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
    finally:
        server.shutdown()
    assert 5 <= wrk.parse(output).requests <= 25
    assert "delay" not in wrk.post_script("{}", {})
