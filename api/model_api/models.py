"""The model API's request and response bodies, as its OpenAPI document describes them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]] = Field(
        min_length=1, description="Records to predict: objects keyed by the model's input names"
    )


class PredictResponse(BaseModel):
    model_name: str
    model_version: str
    predictions: list[Any]


class ModelInfo(BaseModel):
    name: str
    alias: str
    version: str
    run_id: str | None
    signature: dict
    record_schema: dict = Field(description="JSON Schema of one record this model takes")
    loaded_at: str
    load_seconds: float
    serving_path: str = Field(description="onnx (the compiled fast path) or pyfunc")
    serving_path_reason: str = Field(description="Why that path serves this version")
    last_load_error: str | None = None


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    model: str | None = Field(description="name@alias vVERSION of the model served")
    last_load_error: str | None
    last_checked: str | None = Field(description="When the alias was last looked at (UTC)")
