"""The dashboard's settings: environment variables only, every missing one named."""

from __future__ import annotations

import os

import pytest

from dashboard.settings import Settings, SettingsError, env_names

ENV = {
    "MLFLOW_TRACKING_URI": "http://mlflow.test:5000/",
    "MLFLOW_TRACKING_USERNAME": "reader",
    "MLFLOW_TRACKING_PASSWORD": "mlflow-secret",
    "DASHBOARD_AIRFLOW_URL": "http://airflow.test:8080",
    "DASHBOARD_AIRFLOW_USERNAME": " dashboard ",
    "DASHBOARD_AIRFLOW_PASSWORD": "airflow-secret",
    "DASHBOARD_MODEL_API_URL": "https://api.test:8000",
    "DASHBOARD_MODEL_API_KEY": "key-0123456789",
    "DASHBOARD_PASSWORD": " a long password ",
}


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch):
    """Set the variables (None unsets one); nothing else of the dashboard's is set."""
    for name in list(os.environ):
        if name.startswith(("DASHBOARD_", "MLFLOW_TRACKING_")):
            monkeypatch.delenv(name)

    def set_env(**changes: str | None) -> None:
        for name, value in {**ENV, **changes}.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)

    return set_env


def test_reads_every_variable_and_applies_defaults(environ) -> None:
    environ()
    settings = Settings.from_env()
    assert settings.mlflow_tracking_uri == "http://mlflow.test:5000"  # trailing slash dropped
    assert settings.mlflow_username == "reader"
    assert settings.airflow_url == "http://airflow.test:8080"
    assert settings.airflow_username == "dashboard"  # names lose surrounding blanks
    assert settings.model_api_url == "https://api.test:8000"
    assert settings.model_api_key.get_secret_value() == "key-0123456789"
    assert settings.airflow_password.get_secret_value() == "airflow-secret"
    assert settings.mlflow_password.get_secret_value() == "mlflow-secret"
    assert settings.password.get_secret_value() == " a long password "  # secrets verbatim
    assert (settings.username, settings.training_dag, settings.model_name) == (
        "admin",
        "train_model",
        "wine-cultivar",
    )


def test_optional_variables_override_the_defaults(environ) -> None:
    environ(
        DASHBOARD_USERNAME="ops",
        DASHBOARD_TRAINING_DAG="retrain",
        DASHBOARD_MODEL_NAME="iris",
    )
    settings = Settings.from_env()
    assert (settings.username, settings.training_dag, settings.model_name) == (
        "ops",
        "retrain",
        "iris",
    )


def test_blank_optional_variables_keep_the_defaults(environ) -> None:
    environ(DASHBOARD_USERNAME="  ", DASHBOARD_TRAINING_DAG="")
    settings = Settings.from_env()
    assert (settings.username, settings.training_dag) == ("admin", "train_model")


def test_an_error_names_every_missing_variable(environ) -> None:
    environ(MLFLOW_TRACKING_URI=None, DASHBOARD_PASSWORD=None, DASHBOARD_MODEL_API_KEY="   ")
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    message = str(raised.value)
    assert message.startswith("missing environment variables: ")
    for name in ("MLFLOW_TRACKING_URI", "DASHBOARD_PASSWORD", "DASHBOARD_MODEL_API_KEY"):
        assert name in message
    assert "DASHBOARD_AIRFLOW_URL" not in message


def test_an_empty_environment_names_all_nine(environ) -> None:
    environ(**dict.fromkeys(ENV))
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    assert str(raised.value) == f"missing environment variables: {', '.join(ENV)}"


def test_a_short_password_is_refused(environ) -> None:
    environ(DASHBOARD_PASSWORD="elevenchars")
    with pytest.raises(SettingsError, match="DASHBOARD_PASSWORD must have at least 12 characters"):
        Settings.from_env()


def test_urls_must_be_http(environ) -> None:
    environ(DASHBOARD_AIRFLOW_URL="airflow.test:8080")
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    assert str(raised.value) == (
        "DASHBOARD_AIRFLOW_URL must be an http:// or https:// URL, got 'airflow.test:8080'"
    )


def test_every_problem_is_in_one_message(environ) -> None:
    environ(
        DASHBOARD_MODEL_API_URL="ftp://api.test",
        DASHBOARD_PASSWORD="short",
        DASHBOARD_AIRFLOW_USERNAME=None,
    )
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    assert str(raised.value) == (
        "missing environment variables: DASHBOARD_AIRFLOW_USERNAME; "
        "DASHBOARD_MODEL_API_URL must be an http:// or https:// URL, got 'ftp://api.test'; "
        "DASHBOARD_PASSWORD must have at least 12 characters"
    )


def test_an_error_shows_no_secret(environ) -> None:
    environ(DASHBOARD_PASSWORD="too-short", DASHBOARD_AIRFLOW_URL="nope")
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
    for secret in ("too-short", "mlflow-secret", "airflow-secret", "key-0123456789"):
        assert secret not in str(raised.value)


def test_each_field_has_its_variable() -> None:
    assert env_names() == {
        "mlflow_tracking_uri": "MLFLOW_TRACKING_URI",
        "mlflow_username": "MLFLOW_TRACKING_USERNAME",
        "mlflow_password": "MLFLOW_TRACKING_PASSWORD",
        "airflow_url": "DASHBOARD_AIRFLOW_URL",
        "airflow_username": "DASHBOARD_AIRFLOW_USERNAME",
        "airflow_password": "DASHBOARD_AIRFLOW_PASSWORD",
        "model_api_url": "DASHBOARD_MODEL_API_URL",
        "model_api_key": "DASHBOARD_MODEL_API_KEY",
        "password": "DASHBOARD_PASSWORD",
        "username": "DASHBOARD_USERNAME",
        "training_dag": "DASHBOARD_TRAINING_DAG",
        "model_name": "DASHBOARD_MODEL_NAME",
        "data_bucket": "DASHBOARD_DATA_BUCKET",
        "upload_prefix": "DASHBOARD_UPLOAD_PREFIX",
        "upload_max_mb": "DASHBOARD_UPLOAD_MAX_MB",
        "s3_endpoint_url": "DASHBOARD_S3_ENDPOINT_URL",
    }


def test_uploads_are_off_unless_a_bucket_is_set(environ) -> None:
    environ()
    settings = Settings.from_env()
    assert (settings.data_bucket, settings.upload_prefix, settings.upload_max_mb) == (
        None,
        "uploads",
        50,
    )
    assert settings.s3_endpoint_url is None  # S3 itself, with the host's role
    environ(
        DASHBOARD_DATA_BUCKET=" mlops-data ",
        DASHBOARD_UPLOAD_MAX_MB="20",
        DASHBOARD_S3_ENDPOINT_URL="http://s3.test:8333/",
    )
    settings = Settings.from_env()
    assert (settings.data_bucket, settings.upload_max_mb) == ("mlops-data", 20)
    assert settings.s3_endpoint_url == "http://s3.test:8333"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DASHBOARD_DATA_BUCKET", "Mlops_Data", "DASHBOARD_DATA_BUCKET must be an S3 bucket name"),
        ("DASHBOARD_UPLOAD_MAX_MB", "500", "DASHBOARD_UPLOAD_MAX_MB: Input should be less"),
        ("DASHBOARD_UPLOAD_MAX_MB", "0", "DASHBOARD_UPLOAD_MAX_MB: Input should be greater"),
        ("DASHBOARD_S3_ENDPOINT_URL", "s3.test:8333", "DASHBOARD_S3_ENDPOINT_URL must be an"),
    ],
)
def test_bad_upload_settings_are_named(environ, name: str, value: str, message: str) -> None:
    environ(**{name: value})
    with pytest.raises(SettingsError) as error:
        Settings.from_env()
    assert message in str(error.value)


def test_secrets_stay_out_of_the_repr(environ) -> None:
    environ()
    text = repr(Settings.from_env())
    assert "mlflow.test" in text
    for secret in ("mlflow-secret", "airflow-secret", "key-0123456789", "a long password"):
        assert secret not in text
