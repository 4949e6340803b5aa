"""The shared clients: wait, and Airflow's REST API against a loopback stand-in."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from local.clients import AirflowApi, wait


def test_wait_retries_until_the_check_passes() -> None:
    calls = []

    def check():
        calls.append(1)
        if len(calls) < 3:
            raise AssertionError("not yet")
        return "done"

    assert wait(check, timeout=5, interval=0.01) == "done"
    assert len(calls) == 3


def test_wait_reraises_the_last_error_after_the_timeout() -> None:
    def check():
        raise AssertionError("never")

    with pytest.raises(AssertionError, match="never"):
        wait(check, timeout=0.05, interval=0.01)


@pytest.fixture
def airflow():
    """Logs in, takes a trigger, answers `queued` twice and then `success`."""
    seen: list[tuple[str, str, str | None, dict | None]] = []
    polls = {"count": 0}

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(("POST", self.path, self.headers.get("Authorization"), body))
            if self.path == "/auth/token":
                self._answer({"access_token": "tok"})
            else:
                self._answer({"dag_run_id": "manual__1"})

        def do_GET(self) -> None:
            seen.append(("GET", self.path, self.headers.get("Authorization"), None))
            polls["count"] += 1
            self._answer({"state": "success" if polls["count"] > 2 else "queued"})

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()


def test_a_run_is_triggered_with_the_token_and_followed_to_its_end(airflow, monkeypatch) -> None:
    base, seen = airflow
    monkeypatch.setattr("local.clients.time.sleep", lambda seconds: None)
    api = AirflowApi.login(base, "admin", "pw")
    run = api.run_dag("train_model", {"target": "y"}, timeout=5)
    assert run == {"state": "success"}
    assert seen[0] == ("POST", "/auth/token", None, {"username": "admin", "password": "pw"})
    assert seen[1] == (
        "POST",
        "/api/v2/dags/train_model/dagRuns",
        "Bearer tok",
        {"logical_date": None, "conf": {"target": "y"}},
    )
    assert [item[1] for item in seen[2:]] == ["/api/v2/dags/train_model/dagRuns/manual__1"] * 3
