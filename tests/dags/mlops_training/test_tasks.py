"""What the DAGs' tasks share, against moto's S3 through Airflow's aws_default connection."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from mlops_training.data import DataValidationError
from mlops_training.tasks import download, fail_on_bad_data, read_frame, upload


@pytest.fixture
def bucket(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    connection = {"conn_type": "aws", "extra": {"region_name": "us-east-1"}}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(connection))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="data")
        client.put_object(Bucket="data", Key="in/rows.csv", Body=b"a,b\n1,x\n2,y\n")
        yield client


def test_read_frame(bucket) -> None:
    frame = read_frame("s3://data/in/rows.csv")
    assert frame.to_dict(orient="list") == {"a": [1, 2], "b": ["x", "y"]}


def test_download_and_upload(bucket, tmp_path) -> None:
    local = tmp_path / "rows.csv"
    download("s3://data/in/rows.csv", local)
    assert local.read_bytes() == b"a,b\n1,x\n2,y\n"
    local.write_bytes(b"replaced")
    upload(local, "s3://data/out/rows.csv")
    upload(local, "s3://data/out/rows.csv")  # a retried task writes the same object again
    assert bucket.get_object(Bucket="data", Key="out/rows.csv")["Body"].read() == b"replaced"


def test_a_missing_object_is_bad_data(bucket, tmp_path) -> None:
    missing = "s3://data/in/none.csv"
    with pytest.raises(DataValidationError, match=rf"^{missing} does not exist$"):
        read_frame(missing)
    with pytest.raises(DataValidationError, match=rf"^{missing} does not exist$"):
        download(missing, tmp_path / "none.csv")
    assert not (tmp_path / "none.csv").exists()


def test_bad_data_fails_the_task_without_retries() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    @fail_on_bad_data
    def task(value: int) -> int:
        if value < 0:
            raise DataValidationError(f"{value} is negative")
        return value

    assert task(1) == 1
    with pytest.raises(AirflowFailException, match=r"^-1 is negative$"):
        task(-1)
