"""The scoring DAG as the dag-processor sees it: its tasks and the params it accepts."""

from __future__ import annotations

import copy

import pytest


@pytest.fixture
def params(dagbag):
    return copy.deepcopy(dagbag.dags["score_dataset"].params)


def test_score_dataset_shape(dagbag) -> None:
    dag = dagbag.dags["score_dataset"]
    assert {"mlops", "scoring"} <= set(dag.tags)
    assert dag.schedule is None
    assert not dag.catchup
    assert [task.task_id for task in dag.topological_sort()] == ["resolve_model", "score"]
    for task in dag.tasks:
        assert task.retries >= 1, task.task_id
    for name in ("`dataset`", "`model_name`", "`version`", "`output`", "predictions.csv"):
        assert name in dag.doc_md


def test_score_dataset_params_and_defaults(params) -> None:
    assert set(params.keys()) == {"dataset", "model_name", "version", "output"}
    assert params["dataset"] == "s3://mlops-data/demo/wine.csv"
    assert params["model_name"] == "wine-cultivar"
    assert params["version"] is None  # the champion
    assert params["output"] is None  # beside the dataset
    params.validate()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("version", "3"),
        ("version", 3),
        ("version", ""),
        ("output", ""),
        ("output", "s3://mlops-data/scored/today"),
        ("output", "s3://mlops-data/scored/today/"),
        ("dataset", "s3://mlops-data/uploads/customers.csv"),
    ],
)
def test_params_accept_good_values(params, key: str, value: object) -> None:
    params.get_param(key).value = value
    params.validate()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("dataset", "/local/file.csv"),
        ("dataset", "s3://only-a-bucket"),
        ("model_name", "bad name"),
        ("version", "latest"),
        ("version", "0"),
        ("version", 0),
        ("version", 1.5),
        ("output", "/data/out"),
        ("output", "s3://only-a-bucket"),
    ],
)
def test_params_reject_bad_values(params, key: str, value: object) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    params.get_param(key).value = value
    with pytest.raises(ParamValidationError, match=f"param {key}"):
        params.validate()


def test_an_output_where_airflow_may_not_write_fails_the_run_before_any_work(dagbag) -> None:
    """The first task refuses it, without retries, before it asks MLflow for the model (the
    object store would refuse the upload only after the whole file was scored)."""
    from airflow.sdk.exceptions import AirflowFailException

    from mlops_training.tasks import DATA_BUCKET

    resolve_model = dagbag.dags["score_dataset"].get_task("resolve_model").python_callable
    params = {"dataset": f"s3://{DATA_BUCKET}/demo/wine.csv", "model_name": "wine"}
    with pytest.raises(AirflowFailException, match="is not where Airflow may write"):
        resolve_model(params={**params, "output": "s3://elsewhere/out"}, run_id="manual__1")
    with pytest.raises(AirflowFailException, match="may not write beside the dataset"):
        resolve_model(
            params={**params, "dataset": "s3://elsewhere/x.csv", "output": None},
            run_id="manual__1",
        )


def test_the_output_param_names_where_airflow_may_write(params) -> None:
    from mlops_training.tasks import DATA_BUCKET

    assert f"s3://{DATA_BUCKET}/scored/" in params.get_param("output").description
