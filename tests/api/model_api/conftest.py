"""A real model API (uvicorn, as the service runs it) over a real MLflow store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import free_port
from tests.ml import REPO

API_KEY = "test-key-0123456789abcdef"


def wait_for(predicate, timeout: float = 60, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate.__doc__}")


class ApiServer:
    def __init__(self, model_name: str, store: str, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.devnull, "w")  # noqa: SIM115 - closed in stop()
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": store,
            "MODEL_API_MODEL_NAME": model_name,
            "MODEL_API_API_KEYS": f"other-key-0123456789abcdef,{API_KEY}",
            "MODEL_API_POLL_INTERVAL": "0.3",
            "PYTHONPATH": str(REPO / "api"),
            **settings,
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "model_api.main:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.client = self.new_client()
        wait_for(self._answers, timeout=60)

    def new_client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-API-Key": API_KEY}, timeout=30)

    def _answers(self) -> bool:
        """the API to answer /health"""
        if self.process.poll() is not None:
            raise AssertionError(f"uvicorn exited with {self.process.returncode}")
        try:
            return self.client.get("/health").status_code == 200
        except httpx.TransportError:
            return False

    def serving(self, version: str) -> bool:
        """the API to serve the expected version"""
        response = self.client.get("/ready")
        return response.status_code == 200 and response.json()["model"].endswith(f"v{version}")

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()


@pytest.fixture(scope="module")
def api_factory(mlflow_store: str) -> Iterator:
    servers: list[ApiServer] = []

    def start(model_name: str, **settings: str) -> ApiServer:
        server = ApiServer(model_name, mlflow_store, **settings)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
