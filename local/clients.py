"""Clients of the platform's services as a user reaches them, shared by the end-to-end
tests and the bench: Airflow's REST API, and a patient wait."""

from __future__ import annotations

import json
import time
import urllib.request


def wait(check, timeout: float = 60.0, interval: float = 1.0):
    """Call check until it returns without raising; re-raise its last error after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)


class AirflowApi:
    """Airflow's REST API as a client sees it: JSON in and out, a bearer token once logged in."""

    def __init__(self, base: str, token: str | None = None):
        self.base, self.token = base, token

    @classmethod
    def login(cls, base: str, username: str, password: str) -> AirflowApi:
        login = {"username": username, "password": password}
        return cls(base, cls(base)("POST", "/auth/token", login)["access_token"])

    def __call__(self, method: str, path: str, body: dict | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - http to our own host
            self.base + path, data=data, method=method, headers=headers
        )
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return json.load(response)

    def log(self, path: str) -> str:
        """A task's log (GET .../logs/N) as text: one structured event (JSON) per line; an
        exception's message is in its event's error_detail."""
        content = self("GET", path)["content"]
        if isinstance(content, str):
            return content
        return "\n".join(json.dumps(item) for item in content)

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        """Trigger a run; its run id."""
        run = self(
            "POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}}
        )
        return run["dag_run_id"]

    def finished(self, dag_id: str, run_id: str, timeout: float = 600) -> dict:
        """Wait for a run's end; the finished run."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}"

        def done():
            state = self("GET", path)
            if state["state"] not in ("success", "failed"):
                raise RuntimeError(f"{dag_id} run {run_id} is {state['state']}")
            return state

        return wait(done, timeout=timeout)

    def run_dag(self, dag_id: str, conf: dict | None = None, timeout: float = 600) -> dict:
        """Trigger a run and wait for its end; the finished run."""
        return self.finished(dag_id, self.trigger(dag_id, conf), timeout)
