"""The dashboard's configuration, read from environment variables only (pydantic-settings).

Every variable is DASHBOARD_<FIELD> but MLflow's own three, which MLflow's client reads itself
(MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD): they are required
here too, so that a missing one is reported at start, with the others.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "DASHBOARD_"
MIN_PASSWORD_LENGTH = 12


class SettingsError(ValueError):
    """The environment does not hold a usable configuration."""


class Settings(BaseSettings):
    """Where the services are and how to log in to them and to the dashboard."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    mlflow_tracking_uri: str = Field(validation_alias="MLFLOW_TRACKING_URI")
    mlflow_username: str = Field(validation_alias="MLFLOW_TRACKING_USERNAME")
    mlflow_password: SecretStr = Field(validation_alias="MLFLOW_TRACKING_PASSWORD")
    airflow_url: str
    airflow_username: str
    airflow_password: SecretStr
    model_api_url: str
    model_api_key: SecretStr
    # The dashboard's own login.
    password: SecretStr
    username: str = "admin"
    # The DAG the Pipelines page triggers, and the registered model the pages open first.
    training_dag: str = "train_model"
    model_name: str = "wine-cultivar"
    # Uploads: the bucket the training DAG reads (unset: no uploads), the prefix under which
    # each user's files go (<prefix>/<user>/...), the largest file accepted, and the object
    # store's endpoint (unset on AWS: S3 itself, with the host's role; the replica's S3
    # server otherwise, with the keys of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
    data_bucket: str | None = None
    upload_prefix: str = Field("uploads", min_length=1)
    upload_max_mb: int = Field(50, ge=1, le=200)
    s3_endpoint_url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        """A variable set to blanks counts as missing (required) or unset (optional)."""
        if isinstance(data, dict):
            return {
                key: value
                for key, value in data.items()
                if not (isinstance(value, str) and not value.strip())
            }
        return data

    @field_validator(
        "mlflow_tracking_uri",
        "mlflow_username",
        "airflow_url",
        "airflow_username",
        "model_api_url",
        "username",
        "training_dag",
        "model_name",
        "data_bucket",
        "upload_prefix",
        "s3_endpoint_url",
        mode="before",
    )
    @classmethod
    def _strip(cls, value: Any) -> Any:
        """Names and URLs lose surrounding blanks; secrets are kept verbatim."""
        return value.strip() if isinstance(value, str) else value

    @field_validator("mlflow_tracking_uri", "airflow_url", "model_api_url", "s3_endpoint_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("data_bucket")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value):
            raise ValueError(f"must be an S3 bucket name, got {value!r}")
        return value

    @field_validator("password")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"must have at least {MIN_PASSWORD_LENGTH} characters")
        return value

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from the environment; SettingsError names every variable that is wrong."""
        try:
            return cls()
        except ValidationError as error:
            # from None: pydantic's error carries the raw input, secrets included
            raise SettingsError(_message(error)) from None


def env_names() -> dict[str, str]:
    """Each field's environment variable."""
    return {
        name: field.validation_alias
        if isinstance(field.validation_alias, str)
        else f"{ENV_PREFIX}{name.upper()}"
        for name, field in Settings.model_fields.items()
    }


def _message(error: ValidationError) -> str:
    """pydantic's errors as one sentence naming the variables (never their values)."""
    variables = env_names()
    variables |= {variable: variable for variable in variables.values()}  # locs by alias
    missing, wrong = [], []
    for item in error.errors():
        location = str(item["loc"][0]) if item["loc"] else ""
        variable = variables.get(location, location)
        if item["type"] == "missing":
            missing.append(variable)
        elif item["type"] == "value_error":  # ours: "must be ..."
            wrong.append(f"{variable} {item['msg'].removeprefix('Value error, ')}")
        else:
            wrong.append(f"{variable}: {item['msg']}")
    parts = [f"missing environment variables: {', '.join(missing)}"] if missing else []
    return "; ".join(parts + wrong)
