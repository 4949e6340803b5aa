"""Airflow on the replica, driven through its REST API as a user or CI would."""

from __future__ import annotations

import time
import urllib.error
import uuid

import pytest

from local import podman
from tests.replica.conftest import AirflowApi as Api
from tests.replica.conftest import ip, s3, wait

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


def test_components_healthy(converged):
    health = Api(f"http://{ip(converged, 'airflow')}:8080")("GET", "/api/v2/monitor/health")
    for component in ("metadatabase", "scheduler", "dag_processor", "triggerer"):
        assert health[component]["status"] == "healthy", health


def test_rest_api_needs_a_token(converged):
    with pytest.raises(urllib.error.HTTPError) as err:
        Api(f"http://{ip(converged, 'airflow')}:8080")("GET", "/api/v2/dags")
    assert err.value.code == 401


def test_dag_from_the_bucket_runs(airflow_api, converged, secrets, request):
    api = airflow_api
    dag_id = f"e2e_{uuid.uuid4().hex[:8]}"
    body = DAG.format(dag_id=dag_id).encode()
    bucket = s3(converged, secrets)
    bucket.put_object(Bucket="airflow-dags", Key=f"{dag_id}.py", Body=body)
    # the playbook mirrors dags/ into the bucket: leave nothing behind for its next run
    request.addfinalizer(lambda: bucket.delete_object(Bucket="airflow-dags", Key=f"{dag_id}.py"))
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
