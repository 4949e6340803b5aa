"""Airflow on the replica, driven through its REST API as a user or CI would."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from local import podman
from tests.replica.conftest import ip, s3, wait

pytestmark = pytest.mark.replica
UNITS = ["airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]
DAG = """
from datetime import datetime, timezone

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc), catchup=False,
     tags=["e2e"])
def {dag_id}():
    @task
    def answer():
        return 42

    answer()


{dag_id}()
"""


class Api:
    def __init__(self, base: str, token: str | None = None):
        self.base, self.token = base, token

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


@pytest.fixture(scope="module")
def api(converged, secrets):
    base = f"http://{ip(converged, 'airflow')}:8080"
    login = {"username": "admin", "password": secrets["secret_airflow_admin_password"]}
    token = Api(base)("POST", "/auth/token", login)["access_token"]
    return Api(base, token)


def test_components_healthy(converged):
    health = Api(f"http://{ip(converged, 'airflow')}:8080")("GET", "/api/v2/monitor/health")
    for component in ("metadatabase", "scheduler", "dag_processor", "triggerer"):
        assert health[component]["status"] == "healthy", health


def test_rest_api_needs_a_token(converged):
    with pytest.raises(urllib.error.HTTPError) as err:
        Api(f"http://{ip(converged, 'airflow')}:8080")("GET", "/api/v2/dags")
    assert err.value.code == 401


def test_dag_from_the_bucket_runs(api, converged, secrets):
    dag_id = f"e2e_{uuid.uuid4().hex[:8]}"
    body = DAG.format(dag_id=dag_id).encode()
    s3(converged, secrets).put_object(Bucket="airflow-dags", Key=f"{dag_id}.py", Body=body)
    started = time.monotonic()
    wait(lambda: api("GET", f"/api/v2/dags/{dag_id}"), timeout=180)
    print(f"DAG appeared {time.monotonic() - started:.1f}s after upload")
    api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    run = api("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None})

    def finished():
        state = api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}")["state"]
        assert state in ("success", "failed")
        return state

    assert wait(finished, timeout=180) == "success"


@pytest.mark.parametrize("unit", UNITS)
def test_killed_component_is_back_healthy_within_30_s(converged, unit):
    container = f"{converged.name}-airflow"
    podman.exec_(container, ["systemctl", "kill", "-s", "KILL", unit])
    started = time.monotonic()
    health = Api(f"http://{ip(converged, 'airflow')}:8080")

    def healthy():
        assert podman.exec_(container, ["systemctl", "is-active", unit]).strip() == "active"
        report = health("GET", "/api/v2/monitor/health")
        assert all(
            report[c]["status"] == "healthy" for c in ("scheduler", "dag_processor", "triggerer")
        )

    wait(healthy, timeout=30)
    print(f"{unit} healthy {time.monotonic() - started:.1f}s after SIGKILL")
