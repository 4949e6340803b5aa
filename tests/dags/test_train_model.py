"""The DAG as the dag-processor sees it: it imports, and it is configured as intended."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from dashboard import runs
from tests.ml import REPO

# What Airflow's GET /api/v2/dags/train_model/details lists as `params`: the dashboard's
# trigger form is built from it, and its tests use this copy.
DETAILS_PARAMS = REPO / "tests" / "api" / "dashboard" / "train_model_params.json"


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}


def test_only_dag_files_are_parsed(dagbag) -> None:
    # the library and requirements are in .airflowignore: the dag-processor skips them
    parsed = sorted(Path(stat.file).name for stat in dagbag.dagbag_stats)
    assert parsed == ["score_dataset.py", "train_model.py"]


def test_train_model_shape(dagbag) -> None:
    dag = dagbag.dags["train_model"]
    assert {"mlops", "training"} <= set(dag.tags)
    assert dag.schedule is None
    assert dag.max_active_runs == 1
    assert [task.task_id for task in dag.topological_sort()] == [
        "validate_dataset",
        "train",
        "promote",
    ]
    # the dashboard shows what these tasks return (a run's profile, metrics, decision)
    assert [task.task_id for task in dag.topological_sort()] == [
        runs.PROFILE_TASK,
        runs.TRAIN_TASK,
        runs.PROMOTE_TASK,
    ]
    for task in dag.tasks:
        assert task.retries >= 1, task.task_id


def test_training_goes_to_a_queue_the_workers_take(dagbag) -> None:
    """The grid search is routed to its own Celery queue; the airflow role's workers take it
    by default, the light tasks stay on the default queue."""
    import yaml

    from mlops_training.tasks import TRAINING_QUEUE

    dag = dagbag.dags["train_model"]
    defaults = yaml.safe_load((REPO / "roles/airflow/defaults/main.yml").read_text())
    assert dag.get_task("train").queue == TRAINING_QUEUE
    assert dag.get_task("validate_dataset").queue == "default"
    assert TRAINING_QUEUE in defaults["airflow_celery_queues"]
    assert "default" in defaults["airflow_celery_queues"]


def test_train_model_params(dagbag) -> None:
    params = dagbag.dags["train_model"].params
    assert set(params.keys()) == {
        "dataset",
        "target",
        "model_name",
        "promotion_metric",
        "task",
        "estimator",
        "param_grid",
        "test_size",
        "random_seed",
        "max_null_fraction",
        "numeric_imputation",
        "categorical_imputation",
    }
    assert params["dataset"].startswith("s3://")
    assert params["target"] == "cultivar"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("dataset", "/local/file.csv"),
        ("test_size", 0.9),
        ("estimator", "xgboost"),
        ("model_name", "bad name"),
        ("param_grid", "not an object"),
        ("param_grid", {"max_depth": []}),
        ("param_grid", {"max_depth": 3}),
        ("max_null_fraction", 1.5),
        ("numeric_imputation", "zero"),
        ("categorical_imputation", "median"),
    ],
)
def test_params_reject_bad_values(dagbag, key: str, value: object) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    params = copy.deepcopy(dagbag.dags["train_model"].params)
    params.get_param(key).value = value
    with pytest.raises(ParamValidationError, match=f"param {key}"):
        params.validate()


def test_the_details_endpoint_lists_the_params_the_dashboard_expects(dagbag) -> None:
    """The params as the API server serves them (the serialized DAG, dumped by the DAG
    details response) are the dashboard tests' copy; regenerate it when the DAG changes."""
    from airflow.api_fastapi.core_api.datamodels.dags import DAGDetailsResponse
    from airflow.serialization.serialized_objects import DagSerialization

    dag = dagbag.dags["train_model"]
    served = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    params = json.loads(json.dumps(DAGDetailsResponse.get_params(served.params)))
    assert params == json.loads(DETAILS_PARAMS.read_text())
