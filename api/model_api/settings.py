"""Configuration from the environment (MODEL_API_*), as the systemd unit's env file sets it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MODEL_API_", extra="ignore")

    # The registered model and alias served; MLflow's own variables (MLFLOW_TRACKING_URI,
    # MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD) say where and as whom.
    model_name: str = Field("wine-cultivar", min_length=1)
    model_alias: str = Field("champion", min_length=1)
    # Seconds between two looks at the alias.
    poll_interval: float = Field(10.0, gt=0)
    # Seconds a starting worker waits for its first look at the alias, and the load of the
    # version it names, before it takes requests: a worker started beside others (uvicorn
    # replaces one that died or hung) leaves the traffic to them until it can serve, instead
    # of answering 503. Bounded, so that an API whose MLflow is down still starts and says so.
    # Also how long a request naming another model (/models/{name}/...) waits for its first
    # load before it is answered 503.
    startup_wait: float = Field(60.0, ge=0)
    # Other registered models served on first use (/models/{name}/...) and kept warm in each
    # worker: at most this many, and this many MiB of model files together; the least
    # recently used one is dropped first (model_api_model_cache_evictions_total).
    cache_max_models: int = Field(4, ge=1)
    cache_max_mb: float = Field(512.0, gt=0)
    # Serve through ONNX Runtime where it is proven to predict what pyfunc does
    # (model_api.compiled); false: always pyfunc.
    fast_path: bool = True
    # The secret MLflow signs its webhook deliveries with (POST /webhooks/mlflow; 404 without).
    webhook_secret: SecretStr | None = Field(None, min_length=32)
    # A file every worker of the host watches: the one a webhook reaches touches it, and all
    # resolve the alias at once (systemd's RuntimeDirectory). None: that worker only.
    wake_file: Path | None = None
    # Where the host's workers share what a load prepared (download, conversion, check), so
    # that a version is prepared once per host (champion.Loader). None: once per worker.
    load_dir: Path | None = None
    # Most records one POST /predict may carry (413 above).
    max_batch_size: int = Field(1000, ge=1)
    # Adaptive batching (model_api.batching): most records one model call takes when
    # concurrent requests are coalesced, and how long a batch that is not full may wait for
    # more (0: never wait; requests coalesce only while the model is busy).
    batch_max_rows: int = Field(256, ge=1)
    batch_max_wait_ms: float = Field(0.0, ge=0, le=1000)
    # Comma-separated API keys accepted in the X-API-Key header.
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(min_length=1)

    @field_validator("webhook_secret", "wake_file", "load_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("api_keys")
    @classmethod
    def _long_enough(cls, keys: list[SecretStr]) -> list[SecretStr]:
        if any(len(key.get_secret_value()) < 16 for key in keys):
            raise ValueError("every API key needs at least 16 characters")
        return keys
