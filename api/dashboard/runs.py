"""A training run as the dashboard reports it: where it is and, once it has finished, what
came out (the dataset's profile, the new version's metrics, the promotion decision and its
reason) or why it failed (the failed task's error, as its log records it). No Streamlit.

The training DAG's tasks return these as their XCom values (dags/train_model.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dashboard.clients import AirflowClient, ServiceError

FINISHED = ("success", "failed")
# The training DAG's tasks whose return values the dashboard shows.
PROFILE_TASK = "validate_dataset"
TRAIN_TASK = "train"
PROMOTE_TASK = "promote"


@dataclass(frozen=True)
class Outcome:
    run_id: str
    state: str
    tasks: list[dict] = field(default_factory=list)
    # What the tasks returned, by task id (a run that succeeded has all three).
    results: dict[str, Any] = field(default_factory=dict)
    failed_task: str | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def profile(self) -> dict | None:
        return self.results.get(PROFILE_TASK)

    @property
    def trained(self) -> dict | None:
        return self.results.get(TRAIN_TASK)

    @property
    def decision(self) -> dict | None:
        return self.results.get(PROMOTE_TASK)


def outcome(airflow: AirflowClient, dag_id: str, run_id: str) -> Outcome:
    """The run's state and tasks; once finished, the tasks' results or the failure."""
    state = airflow.dag_run(dag_id, run_id).get("state") or "queued"
    tasks = in_order(airflow.task_instances(dag_id, run_id))
    if state not in FINISHED:
        return Outcome(run_id, state, tasks)
    results = {
        task["task_id"]: airflow.xcom(dag_id, run_id, task["task_id"])
        for task in tasks
        if task.get("state") == "success"
        and task["task_id"] in (PROFILE_TASK, TRAIN_TASK, PROMOTE_TASK)
    }
    failed = next((task for task in tasks if task.get("state") == "failed"), None)
    if failed is None:
        return Outcome(run_id, state, tasks, results)
    try:
        events = airflow.task_log(dag_id, run_id, failed["task_id"], failed.get("try_number") or 1)
        error = failure(events) or "its log records no error; see the task's log in Airflow"
    except ServiceError as problem:
        error = f"its log could not be read ({problem}); see the task's log in Airflow"
    return Outcome(run_id, state, tasks, results, failed["task_id"], error)


def in_order(tasks: list[dict]) -> list[dict]:
    """Tasks in the order they ran; those that never started last, upstream ones first
    (Airflow weighs a task by the tasks downstream of it)."""
    return sorted(
        tasks,
        key=lambda task: (
            task.get("start_date") or "~",
            -(task.get("priority_weight") or 0),
            task["task_id"],
        ),
    )


def failure(events: list[dict]) -> str | None:
    """The error a task failed with, from its log's events: the message of the exception
    Airflow recorded (for bad data, the list of problems), else the last error logged."""
    for event in reversed(events):
        details = event.get("error_detail")
        if isinstance(details, list) and details and isinstance(details[0], dict):
            first = details[0]
            return str(first.get("exc_value") or first.get("exc_type") or event.get("event"))
    errors = [event for event in events if event.get("level") in ("error", "critical")]
    return str(errors[-1].get("event")) if errors else None
