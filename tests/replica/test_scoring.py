"""Batch scoring end to end on the replica: the score_dataset DAG scores a CSV in the object
store with a model's champion; the good rows are scored, the bad ones listed, the summary
correct. (A file the model cannot score at all fails at once, naming why: unit-tested in
tests/dags/mlops_training/test_scoring.py, with Airflow's no-retry wrapper that the training
DAG's bad-data test covers here.)

The model is `churn`, which test_dashboard.py trains from a user's upload (tests/conftest.py
runs this file after it): `tenure_months` (long) is required, `plan` (string) and
`support_tickets` (double) had gaps and are optional. Training one here would add a DAG run.
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote

import pytest
from mlflow import MlflowClient

from tests.replica.conftest import ip, s3, wait

BUCKET = "mlops-data"
MODEL = "churn"


def run_path(dag_id: str, run: dict) -> str:
    return f"/api/v2/dags/{dag_id}/dagRuns/{quote(run['dag_run_id'], safe='')}"


def xcom(airflow_api, dag_id: str, run: dict, task_id: str):
    path = f"{run_path(dag_id, run)}/taskInstances/{task_id}/xcomEntries/return_value"
    return airflow_api("GET", path)["value"]


def run_dag(airflow_api, dag_id: str, conf: dict) -> dict:
    wait(lambda: airflow_api("GET", f"/api/v2/dags/{dag_id}"), timeout=180)
    return airflow_api.run_dag(dag_id, conf)


@pytest.fixture(scope="module")
def bucket(converged, secrets):
    return s3(converged, secrets)


@pytest.fixture(scope="module")
def model(converged, secrets) -> dict:
    """The churn model's champion, as the browser test left it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        patch.setenv("MLFLOW_TRACKING_PASSWORD", secrets["secret_mlflow_admin_password"])
        client = MlflowClient(f"http://{ip(converged, 'mlflow')}:5000")
        champion = client.get_model_version_by_alias(MODEL, "champion")
    return {"name": MODEL, "version": str(champion.version), "run_id": champion.run_id}


def upload(bucket, key: str, lines: list[str]) -> str:
    bucket.put_object(Bucket=BUCKET, Key=key, Body=("\n".join(lines) + "\n").encode())
    return f"s3://{BUCKET}/{key}"


def read_csv(bucket, uri: str) -> list[list[str]]:
    key = uri.removeprefix(f"s3://{BUCKET}/")
    body = bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    return list(csv.reader(io.StringIO(body)))


def test_a_file_with_bad_rows_is_scored_and_its_bad_rows_listed(airflow_api, bucket, model):
    name, version = model["name"], model["version"]
    dataset = upload(
        bucket,
        "uploads/churn-customers.csv",
        [
            "id,plan,tenure_months,support_tickets",  # another order; `id` is passed through
            "a,basic,3,4",  # 2
            "b,pro,40,",  # 3: support_tickets is optional
            "c,pro,abc,2",  # 4: a word for a number
            "d,basic,,1",  # 5: tenure_months is required
            "e,basic,7,1,9",  # 6: a cell too many
            "f,,55.0,0",  # 7: plan is optional, and 55.0 is an integer
        ],
    )
    run = run_dag(airflow_api, "score_dataset", {"dataset": dataset, "model_name": name})
    assert run["state"] == "success", run
    summary = xcom(airflow_api, "score_dataset", run, "score")
    outputs = summary["outputs"]
    folder = f"s3://{BUCKET}/uploads/churn-customers.scored/"
    assert all(uri.startswith(folder) for uri in outputs.values()), outputs
    summary_key = outputs["summary"].removeprefix(f"s3://{BUCKET}/")
    assert json.loads(bucket.get_object(Bucket=BUCKET, Key=summary_key)["Body"].read()) == summary
    assert summary.pop("duration_seconds") > 0
    assert summary == {
        "dataset": dataset,
        "model_name": name,
        "model_version": version,
        "model_alias": "champion",
        "model_run_id": model["run_id"],
        "dag_run_id": run["dag_run_id"],
        "rows": 6,
        "scored": 3,
        "rejected": 3,
        "problems": 3,
        "problems_by_field": {"tenure_months": 2, "(row)": 1},
        "passed_through_columns": ["id"],
        "absent_optional_columns": [],
        "outputs": outputs,
    }
    predictions = read_csv(bucket, outputs["predictions"])
    assert predictions[0] == ["line", "id", "prediction"]
    assert [row[:2] for row in predictions[1:]] == [["2", "a"], ["3", "b"], ["7", "f"]]
    assert {row[2] for row in predictions[1:]} <= {"yes", "no"}
    assert read_csv(bucket, outputs["rejected"]) == [
        ["line", "field", "type", "message"],
        [
            "4",
            "tenure_months",
            "integer_type",
            "field 'tenure_months' must be an integer (long), got str 'abc'",
        ],
        ["5", "tenure_months", "missing", f"field 'tenure_months' is required by churn v{version}"],
        ["6", "", "row_shape", "the row has 5 cells; the header has 4"],
    ]
