"""A user's CSV file: read and described as the upload page shows it, named, and stored."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.config import Config

from dashboard import uploads
from dashboard.clients import ServiceError

CSV = b"age,plan,monthly,churned\n34,basic,19.9,no\n,premium,,yes\n51,,42.0,no\n"
LIMIT = 1024


def test_a_csv_file_is_read_with_its_columns() -> None:
    upload = uploads.read("churn.csv", CSV, LIMIT)
    assert upload.columns == ["age", "plan", "monthly", "churned"]
    assert len(upload.frame) == 3
    assert upload.content == CSV  # stored as uploaded


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a,b\n" + b"1,2\n" * 400, "churn.csv has 1.6 KiB; files up to 1.0 KiB are accepted"),
        (b"  \n", "churn.csv is empty"),
        (b"a,b\n1,2\n3,4,5,6\n", "churn.csv is not a readable CSV file: Error tokenizing"),
        (b"\xff\xfe\x00a\x00,\x00b", "churn.csv is not a readable CSV file"),
        (b"only\n1\n2\n", "churn.csv has 1 column; training needs a target and at least one"),
        (b"a,b\n", "churn.csv has a header row and no data"),
        (b"a,b,a\n1,2,3\n", "churn.csv repeats column names: a"),
        (b" a,a \n1,2\n", "churn.csv repeats column names: a"),
    ],
)
def test_files_that_cannot_be_trained_on_say_why(content: bytes, message: str) -> None:
    with pytest.raises(uploads.UploadError) as error:
        uploads.read("churn.csv", content, LIMIT)
    assert str(error.value).startswith(message)


def test_the_columns_are_described_as_training_reads_them() -> None:
    frame = uploads.read("churn.csv", CSV, LIMIT).frame
    described = uploads.describe(frame).set_index("column")
    assert described["type"].to_dict() == {
        "age": "number",  # an integer column with a gap is read as floats
        "plan": "text",
        "monthly": "number",
        "churned": "text",
    }
    assert described["missing"].to_dict() == {"age": 1, "plan": 1, "monthly": 1, "churned": 0}
    assert described.loc["age", "missing (%)"] == pytest.approx(33.3)
    assert described.loc["churned", "distinct"] == 2
    flags = uploads.read("f.csv", b"n,flag\n1,true\n2,false\n", LIMIT).frame
    assert uploads.describe(flags)["type"].tolist() == ["integer", "boolean"]


@pytest.mark.parametrize(
    ("columns", "target"),
    [
        (["a", "b", "churned"], "churned"),  # the last column
        (["Label", "a", "b"], "Label"),  # a column named like a target, in any case
        (["y", "target", "b"], "target"),  # "target" before "y"
    ],
)
def test_the_default_target(columns: list[str], target: str) -> None:
    assert uploads.default_target(columns) == target


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("churn.csv", "churn"),
        ("Churn 2024 (final).CSV", "churn-2024-final"),
        ("penguins_v2.csv", "penguins_v2"),
        ("###.csv", "uploaded-model"),
    ],
)
def test_a_model_name_is_made_from_the_file_name(filename: str, name: str) -> None:
    assert uploads.model_name(filename) == name
    assert uploads.check_model_name(name) == name


@pytest.mark.parametrize("name", ["", "-churn", "churn model", "a" * 101, "churn/v2"])
def test_a_model_name_the_dag_refuses_is_refused_first(name: str) -> None:
    with pytest.raises(uploads.UploadError, match="must start with a letter or a digit"):
        uploads.check_model_name(name)


def test_each_users_files_go_under_their_own_prefix_and_never_overwrite() -> None:
    now = datetime(2026, 12, 6, 20, 1, 2, 345678, tzinfo=UTC)
    key = uploads.object_key("uploads/", "ana.maria", "my data.csv", now)
    assert key == "uploads/ana.maria/20261206T200102345678Z-my_data.csv"
    assert uploads.object_key("uploads", "../root", "../x.csv", now) == (
        "uploads/.._root/20261206T200102345678Z-.._x.csv"
    )
    later = uploads.object_key("uploads", "ana.maria", "my data.csv")
    assert later != key
    # the page finds a user's runs by the same prefix
    assert key.startswith(uploads.user_prefix("uploads/", "ana.maria"))
    odd = uploads.object_key("uploads", "Ana Maria@example.com", "x.csv", now)
    assert odd.startswith(uploads.user_prefix("uploads", "Ana Maria@example.com"))
    assert (
        uploads.user_prefix("uploads", "Ana Maria@example.com") == "uploads/Ana_Maria_example.com/"
    )


def s3(url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "UPLOADKEY0123456789")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "upload-secret")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", config=config)


def test_a_file_is_stored_as_uploaded(fake_server, monkeypatch) -> None:
    fake_server.route("PUT", "/mlops-data/*", lambda request: (200, ""))
    uri = uploads.store(s3(fake_server.url, monkeypatch), "mlops-data", "uploads/a/x.csv", CSV)
    assert uri == "s3://mlops-data/uploads/a/x.csv"
    [request] = fake_server.calls("PUT", "/mlops-data/uploads/a/x.csv")
    assert request.body == CSV
    assert request.headers["Content-Type"] == "text/csv"


def test_a_refused_upload_is_a_service_error_naming_the_object(fake_server, monkeypatch) -> None:
    denied = "<Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>"
    fake_server.route("PUT", "/mlops-data/*", lambda request: (403, denied))
    with pytest.raises(ServiceError) as error:
        uploads.store(s3(fake_server.url, monkeypatch), "mlops-data", "elsewhere/x.csv", CSV)
    assert str(error.value) == (
        "The object store refused to store s3://mlops-data/elsewhere/x.csv: "
        "AccessDenied Access Denied."
    )


def test_an_unreachable_object_store_is_a_service_error(closed_port_url, monkeypatch) -> None:
    with pytest.raises(ServiceError, match="The object store cannot be reached"):
        uploads.store(s3(closed_port_url, monkeypatch), "mlops-data", "uploads/x.csv", CSV)
