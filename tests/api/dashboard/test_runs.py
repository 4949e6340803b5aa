"""A training run as the dashboard reports it, read from Airflow's REST API (a fake server)."""

from __future__ import annotations

import pytest

from dashboard import runs
from dashboard.clients import AirflowClient

DAG = "/api/v2/dags/train_model"
RUN = "manual__2026-12-06T20:23:18.227551+00:00"
QUOTED = "manual__2026-12-06T20%3A23%3A18.227551%2B00%3A00"
PROFILE = {"rows": 340, "task": "classification", "optional_features": ["age"]}
TRAINED = {"version": "3", "metrics": {"holdout_f1_macro": 0.91}, "run_id": "r", "score": 0.91}
DECISION = {"promoted": True, "reason": "f1_macro 0.9100 beats champion v2's 0.8800"}
# As Airflow 3 logs a task that raised AirflowFailException from a DataValidationError.
FAILED_LOG = [
    {"event": "::group::Log message source details"},
    {"event": "Filling up the DagBag", "level": "info"},
    {
        "event": "Task failed with exception",
        "level": "error",
        "error_detail": [
            {
                "exc_type": "AirflowFailException",
                "exc_value": "the dataset failed validation:\n- column 'x' is empty in 9 of 10",
                "frames": [],
            },
            {"exc_type": "DataValidationError", "exc_value": "the same", "is_cause": True},
        ],
    },
    {"event": "Task instance in failure state", "level": "info"},
]


def task(task_id: str, state: str | None, start: str | None = None, tries: int = 1) -> dict:
    return {"task_id": task_id, "state": state, "start_date": start, "try_number": tries}


@pytest.fixture
def airflow(fake_server):
    fake_server.route("POST", "/auth/token", lambda request: (201, {"access_token": "token"}))

    def answer(path: str, body: object, status: int = 200) -> None:
        fake_server.route("GET", f"{DAG}/dagRuns/{QUOTED}{path}", lambda request: (status, body))

    fake_server.answer = answer
    return fake_server


def client(server) -> AirflowClient:
    return AirflowClient(server.url, "dashboard", "password")


def test_a_run_in_progress_has_its_tasks_and_no_results(airflow) -> None:
    airflow.answer("", {"state": "running"})
    tasks = [task("train", None), task("validate_dataset", "success", "2026-12-06T20:23:19Z")]
    airflow.answer("/taskInstances", {"task_instances": tasks})
    outcome = runs.outcome(client(airflow), "train_model", RUN)
    assert (outcome.state, outcome.finished, outcome.results) == ("running", False, {})
    assert [t["task_id"] for t in outcome.tasks] == ["validate_dataset", "train"]  # as they ran
    assert not airflow.calls("GET", f"{DAG}/dagRuns/{QUOTED}/taskInstances/train/xcomEntries")


def test_a_successful_run_has_its_profile_metrics_and_decision(airflow) -> None:
    airflow.answer("", {"state": "success"})
    tasks = [
        task("validate_dataset", "success", "1"),
        task("train", "success", "2"),
        task("promote", "success", "3"),
    ]
    airflow.answer("/taskInstances", {"task_instances": tasks})
    results = {"validate_dataset": PROFILE, "train": TRAINED, "promote": DECISION}
    for task_id, value in results.items():
        airflow.answer(f"/taskInstances/{task_id}/xcomEntries/return_value", {"value": value})
    outcome = runs.outcome(client(airflow), "train_model", RUN)
    assert outcome.finished
    assert (outcome.profile, outcome.trained, outcome.decision) == (PROFILE, TRAINED, DECISION)
    assert (outcome.failed_task, outcome.error) == (None, None)


def test_a_failed_run_has_the_error_its_task_failed_with(airflow) -> None:
    airflow.answer("", {"state": "failed"})
    tasks = [
        task("validate_dataset", "failed", "1", tries=1),
        task("train", "upstream_failed"),
        task("promote", "upstream_failed"),
    ]
    airflow.answer("/taskInstances", {"task_instances": tasks})
    airflow.answer("/taskInstances/validate_dataset/logs/1", {"content": FAILED_LOG})
    outcome = runs.outcome(client(airflow), "train_model", RUN)
    assert outcome.failed_task == "validate_dataset"
    assert outcome.error == "the dataset failed validation:\n- column 'x' is empty in 9 of 10"
    assert outcome.results == {}
    log = f"{DAG}/dagRuns/{QUOTED}/taskInstances/validate_dataset/logs/1"
    [request] = airflow.calls("GET", log)
    assert request.headers["Accept"] == "application/json"
    assert "full_content=true" in request.path


def test_the_last_try_of_a_retried_task_is_read(airflow) -> None:
    airflow.answer("", {"state": "failed"})
    tasks = [task("validate_dataset", "success", "1"), task("train", "failed", "2", tries=3)]
    airflow.answer("/taskInstances", {"task_instances": tasks})
    airflow.answer("/taskInstances/validate_dataset/xcomEntries/return_value", {"value": PROFILE})
    airflow.answer("/taskInstances/train/logs/3", {"content": FAILED_LOG})
    outcome = runs.outcome(client(airflow), "train_model", RUN)
    assert outcome.failed_task == "train"
    assert outcome.error.startswith("the dataset failed validation")
    assert outcome.profile == PROFILE  # what finished before the failure is still shown


def test_a_log_that_cannot_be_read_says_where_to_look(airflow) -> None:
    airflow.answer("", {"state": "failed"})
    airflow.answer("/taskInstances", {"task_instances": [task("train", "failed", "1")]})
    airflow.answer("/taskInstances/train/logs/1", {"detail": "Forbidden"}, status=403)
    outcome = runs.outcome(client(airflow), "train_model", RUN)
    assert outcome.error.startswith("its log could not be read (Airflow answered HTTP 403")
    assert outcome.error.endswith("see the task's log in Airflow")


@pytest.mark.parametrize(
    ("events", "error"),
    [
        (FAILED_LOG, "the dataset failed validation:\n- column 'x' is empty in 9 of 10"),
        (
            [{"event": "MLflow did not answer", "level": "error"}, {"event": "x", "level": "info"}],
            "MLflow did not answer",
        ),
        ([{"event": "started", "level": "info"}], None),
        ([], None),
    ],
)
def test_the_failure_is_read_from_the_log(events: list[dict], error: str | None) -> None:
    assert runs.failure(events) == error
