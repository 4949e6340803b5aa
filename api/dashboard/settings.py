"""The dashboard's configuration, read from environment variables only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

MIN_PASSWORD_LENGTH = 12
SECRETS = {"mlflow_password", "airflow_password", "model_api_key", "password"}  # kept verbatim


class SettingsError(ValueError):
    """The environment does not hold a usable configuration."""


@dataclass(frozen=True)
class Settings:
    """Where the services are and how to log in to them and to the dashboard.

    MLflow's client reads its own variables (MLFLOW_TRACKING_*) itself; they are required
    here so that a missing one is reported at start, with the others.
    """

    mlflow_tracking_uri: str
    mlflow_username: str
    mlflow_password: str = field(repr=False)
    airflow_url: str
    airflow_username: str
    airflow_password: str = field(repr=False)
    model_api_url: str
    model_api_key: str = field(repr=False)
    password: str = field(repr=False)
    username: str = "admin"
    training_dag: str = "train_model"
    model_name: str = "wine-cultivar"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment; SettingsError names every missing variable."""
        env = os.environ if environ is None else environ
        required = {
            "mlflow_tracking_uri": "MLFLOW_TRACKING_URI",
            "mlflow_username": "MLFLOW_TRACKING_USERNAME",
            "mlflow_password": "MLFLOW_TRACKING_PASSWORD",
            "airflow_url": "DASHBOARD_AIRFLOW_URL",
            "airflow_username": "DASHBOARD_AIRFLOW_USERNAME",
            "airflow_password": "DASHBOARD_AIRFLOW_PASSWORD",
            "model_api_url": "DASHBOARD_MODEL_API_URL",
            "model_api_key": "DASHBOARD_MODEL_API_KEY",
            "password": "DASHBOARD_PASSWORD",
        }
        optional = {
            "username": "DASHBOARD_USERNAME",
            "training_dag": "DASHBOARD_TRAINING_DAG",
            "model_name": "DASHBOARD_MODEL_NAME",
        }
        missing = [name for name in required.values() if not env.get(name, "").strip()]
        if missing:
            raise SettingsError(f"missing environment variables: {', '.join(missing)}")
        values = {key: env[name] for key, name in required.items()}
        values |= {key: env[name] for key, name in optional.items() if env.get(name, "").strip()}
        values |= {key: values[key].strip() for key in values.keys() - SECRETS}
        for key in ("mlflow_tracking_uri", "airflow_url", "model_api_url"):
            values[key] = _http_url(values[key], required[key])
        if len(values["password"]) < MIN_PASSWORD_LENGTH:
            raise SettingsError(
                f"DASHBOARD_PASSWORD must have at least {MIN_PASSWORD_LENGTH} characters"
            )
        return cls(**values)


def _http_url(value: str, variable: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"{variable} must be an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")
