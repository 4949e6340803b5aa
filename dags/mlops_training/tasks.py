"""What the DAGs' tasks share on the Airflow hosts: the object store through the aws_default
connection, MLflow through the mlflow_default connection, and bad input failing a task at once.

The only module of the package that talks to Airflow; it imports Airflow inside its functions,
so that a DAG file importing it stays cheap for the dag-processor to parse.
"""

from __future__ import annotations

import os
from functools import wraps
from pathlib import Path

from mlops_training.data import DataValidationError, parse_s3_uri, read_csv

AWS_CONNECTION = "aws_default"
MLFLOW_CONNECTION = "mlflow_default"
# What the DAGs' params share: the demo's dataset and model (the playbook sets them in the
# Airflow hosts' environment), and the JSON Schema patterns of an S3 URI and a model name.
DEFAULT_DATASET = os.environ.get("MLOPS_TRAINING_DATASET", "s3://mlops-data/demo/wine.csv")
DEFAULT_MODEL = os.environ.get("MLOPS_MODEL_NAME", "wine-cultivar")
# The data bucket, the only one the Airflow hosts may write to, and only where scoring writes
# (mlops_training.scoring.WRITABLE_KEYS); the playbook sets it on the hosts.
DATA_BUCKET = os.environ.get("MLOPS_DATA_BUCKET", "mlops-data")
S3_URI_PATTERN = r"^s3://\S+/\S+$"
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][\w.-]{0,99}$"
# The Celery queue of the heavy tasks (training): the airflow role's workers take it by
# default (airflow_celery_queues); a bigger worker group can be given it alone.
TRAINING_QUEUE = "training"


def _s3():
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=AWS_CONNECTION)


def _existing_object(dataset: str):
    """The S3 object a dataset URI names; a DataValidationError when it does not exist."""
    bucket, key = parse_s3_uri(dataset)
    hook = _s3()
    if not hook.check_for_key(key, bucket_name=bucket):
        raise DataValidationError(f"{dataset} does not exist")
    return hook.get_key(key, bucket_name=bucket)


def read_frame(dataset: str):
    """The dataset as a DataFrame, read through Airflow's aws_default connection."""
    return read_csv(_existing_object(dataset).get()["Body"].read(), dataset)


def download(dataset: str, path: Path) -> None:
    """Copy the object a dataset URI names into a local file, without holding it in memory."""
    found = _existing_object(dataset)
    with path.open("wb") as file:
        found.download_fileobj(file)


def upload(path: Path, uri: str) -> None:
    """Put a local file at an s3://bucket/key URI, replacing what is there."""
    bucket, key = parse_s3_uri(uri, what="output")
    _s3().load_file(str(path), key, bucket_name=bucket, replace=True)


def use_mlflow_connection() -> None:
    """Point the MLflow client at the mlflow_default connection (URL and credentials)."""
    from airflow.sdk import Connection

    connection = Connection.get(MLFLOW_CONNECTION)
    os.environ["MLFLOW_TRACKING_URI"] = connection.host
    if connection.login:
        os.environ["MLFLOW_TRACKING_USERNAME"] = connection.login
        os.environ["MLFLOW_TRACKING_PASSWORD"] = connection.password or ""


def fail_on_bad_data(function):
    """Bad data or parameters fail the task at once (no retry) with the validation message:
    retrying cannot make them good."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        from airflow.sdk.exceptions import AirflowFailException

        try:
            return function(*args, **kwargs)
        except DataValidationError as error:
            raise AirflowFailException(str(error)) from error

    return wrapper
