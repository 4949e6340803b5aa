"""The dashboard's clients, shared by all sessions, and their reads cached for a few seconds.

Pages call these functions only; every failure is a clients.ServiceError with a message
that can be shown as is.
"""

from __future__ import annotations

import functools

import boto3
import requests
import streamlit as st
from botocore.config import Config
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from dashboard import health, runs, tracking, uploads
from dashboard.clients import AirflowClient, ModelApiClient, ServiceError
from dashboard.settings import Settings


@st.cache_resource
def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource
def airflow() -> AirflowClient:
    config = settings()
    return AirflowClient(
        config.airflow_url, config.airflow_username, config.airflow_password.get_secret_value()
    )


@st.cache_resource
def model_api() -> ModelApiClient:
    config = settings()
    return ModelApiClient(config.model_api_url, config.model_api_key.get_secret_value())


@st.cache_resource
def s3_client():
    """S3 as the environment says: the replica's object store at its endpoint (path-style
    addressing, keys from AWS_*), or S3 itself with the host's role."""
    endpoint = settings().s3_endpoint_url
    config = Config(
        s3={"addressing_style": "path"} if endpoint else {},
        retries={"max_attempts": 2, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    return boto3.client("s3", endpoint_url=endpoint, config=config)


@st.cache_resource
def mlflow_client() -> MlflowClient:
    return tracking.client(settings().mlflow_tracking_uri)


def _from_mlflow(function):
    """MLflow's errors as a ServiceError with their first line."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (MlflowException, requests.RequestException) as error:
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise ServiceError(f"MLflow: {first_line[:300]}") from error

    return wrapper


@st.cache_data(ttl=10, show_spinner="Checking the services…")
def service_health() -> list[health.ServiceHealth]:
    config = settings()
    return health.check_all(config.mlflow_tracking_uri, config.airflow_url, config.model_api_url)


@st.cache_data(ttl=30, show_spinner=False)
@_from_mlflow
def experiments() -> dict[str, str]:
    return tracking.experiments(mlflow_client())


@st.cache_data(ttl=15, show_spinner="Reading runs from MLflow…")
@_from_mlflow
def experiment_runs(experiment_id: str) -> tracking.RunTable:
    return tracking.experiment_runs(mlflow_client(), experiment_id)


@st.cache_data(ttl=30, show_spinner=False)
@_from_mlflow
def metric_history(run_id: str, key: str):
    return tracking.metric_history(mlflow_client(), run_id, key)


@st.cache_data(ttl=15, show_spinner="Reading the model registry…")
@_from_mlflow
def registered_models() -> list[tracking.RegisteredModel]:
    return tracking.registered_models(mlflow_client())


@st.cache_data(ttl=600, show_spinner=False)  # a model version's files never change
@_from_mlflow
def input_example(model_name: str, version: str) -> dict | None:
    return tracking.input_example(model_name, version)


@st.cache_data(ttl=30, show_spinner=False)
def dag(dag_id: str) -> dict:
    """The DAG's details, its params (defaults and JSON Schemas) included."""
    return airflow().dag(dag_id)


@st.cache_data(ttl=10, show_spinner="Reading DAG runs from Airflow…")
def dag_runs(dag_id: str) -> list[dict]:
    return airflow().dag_runs(dag_id)


@st.cache_data(ttl=10, show_spinner=False)
def task_instances(dag_id: str, run_id: str) -> list[dict]:
    return airflow().task_instances(dag_id, run_id)


def trigger(dag_id: str, conf: dict) -> dict:
    """Start a run; the cached run list is dropped so that the new run shows at once."""
    run = airflow().trigger(dag_id, conf)
    dag_runs.clear()
    return run


def upload(user: str, upload: uploads.Upload) -> str:
    """Store a user's file under their prefix of the data bucket; its s3:// URI."""
    config = settings()
    key = uploads.object_key(config.upload_prefix, user, upload.filename)
    return uploads.store(s3_client(), config.data_bucket, key, upload.content)


@st.cache_data(ttl=3, show_spinner=False)
def run_outcome(dag_id: str, run_id: str) -> runs.Outcome:
    """Where a training run is, and once it has finished, its results or its error."""
    return runs.outcome(airflow(), dag_id, run_id)


@st.cache_data(ttl=10, show_spinner=False)
def served_model() -> dict:
    return model_api().model()


@st.cache_data(ttl=600, show_spinner=False)
def record_schema(model_name: str, version: str) -> dict | None:
    """The JSON Schema of a record of this served model version (None: no model loaded).

    The model API's document changes with the champion; the served model's name and version
    key the cache, so a new champion's schema is read as soon as served_model() sees it.
    """
    return model_api().record_schema()


@st.cache_data(ttl=10, show_spinner="Loading the model…")
def named_model(name: str) -> dict:
    return model_api().named_model(name)


def predict(record: dict, model: str | None = None) -> dict:
    return model_api().predict([record], model)
