"""The dashboard's settings: environment variables only, every missing one named."""

from __future__ import annotations

import pytest

from dashboard.settings import Settings, SettingsError

ENV = {
    "MLFLOW_TRACKING_URI": "http://mlflow.test:5000/",
    "MLFLOW_TRACKING_USERNAME": "reader",
    "MLFLOW_TRACKING_PASSWORD": "mlflow-secret",
    "DASHBOARD_AIRFLOW_URL": "http://airflow.test:8080",
    "DASHBOARD_AIRFLOW_USERNAME": "dashboard",
    "DASHBOARD_AIRFLOW_PASSWORD": "airflow-secret",
    "DASHBOARD_MODEL_API_URL": "https://api.test:8000",
    "DASHBOARD_MODEL_API_KEY": "key-0123456789",
    "DASHBOARD_PASSWORD": " a long password ",
}


def test_reads_every_variable_and_applies_defaults() -> None:
    settings = Settings.from_env(ENV)
    assert settings.mlflow_tracking_uri == "http://mlflow.test:5000"  # trailing slash dropped
    assert settings.airflow_url == "http://airflow.test:8080"
    assert settings.airflow_username == "dashboard"
    assert settings.model_api_url == "https://api.test:8000"
    assert settings.model_api_key == "key-0123456789"
    assert settings.password == " a long password "  # secrets are kept verbatim
    assert (settings.username, settings.training_dag, settings.model_name) == (
        "admin",
        "train_model",
        "wine-cultivar",
    )


def test_optional_variables_override_the_defaults() -> None:
    env = {
        **ENV,
        "DASHBOARD_USERNAME": "ops",
        "DASHBOARD_TRAINING_DAG": "retrain",
        "DASHBOARD_MODEL_NAME": "iris",
    }
    settings = Settings.from_env(env)
    assert (settings.username, settings.training_dag, settings.model_name) == (
        "ops",
        "retrain",
        "iris",
    )


def test_an_error_names_every_missing_variable() -> None:
    env = {**ENV, "DASHBOARD_MODEL_API_KEY": "   "}
    del env["MLFLOW_TRACKING_URI"], env["DASHBOARD_PASSWORD"]
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    message = str(raised.value)
    for name in ("MLFLOW_TRACKING_URI", "DASHBOARD_PASSWORD", "DASHBOARD_MODEL_API_KEY"):
        assert name in message
    assert "DASHBOARD_AIRFLOW_URL" not in message


def test_an_empty_environment_is_refused() -> None:
    with pytest.raises(SettingsError, match="DASHBOARD_AIRFLOW_PASSWORD"):
        Settings.from_env({})


def test_a_short_password_is_refused() -> None:
    with pytest.raises(SettingsError, match="at least 12 characters"):
        Settings.from_env({**ENV, "DASHBOARD_PASSWORD": "elevenchars"})


def test_urls_must_be_http() -> None:
    with pytest.raises(SettingsError, match="DASHBOARD_AIRFLOW_URL"):
        Settings.from_env({**ENV, "DASHBOARD_AIRFLOW_URL": "airflow.test:8080"})


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DASHBOARD_MODEL_NAME", "from-environ")
    assert Settings.from_env().model_name == "from-environ"


def test_secrets_stay_out_of_the_repr() -> None:
    text = repr(Settings.from_env(ENV))
    assert "mlflow.test" in text
    for secret in ("mlflow-secret", "airflow-secret", "key-0123456789", "a long password"):
        assert secret not in text
