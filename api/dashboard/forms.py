"""Pure logic behind the dashboard's forms: no Streamlit, no network.

- the prediction form, built from a model's MLflow signature;
- the training trigger's conf, with its param_grid validated before anything is sent;
- the model API's 422 errors, as sentences.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# MLflow column type -> the widget that edits it
WIDGETS = {
    "double": "float",
    "float": "float",
    "long": "integer",
    "integer": "integer",
    "string": "text",
    "boolean": "checkbox",
}
EMPTY_VALUES = {"float": 0.0, "integer": 0, "text": "", "checkbox": False}
ESTIMATORS = ("random_forest", "linear")


@dataclass(frozen=True)
class FormField:
    """One input of the prediction form."""

    name: str
    mlflow_type: str
    widget: str  # float | integer | text | checkbox
    required: bool
    default: Any


def signature_columns(signature: Mapping[str, Any]) -> list[dict]:
    """The input columns of a signature as MLflow's `to_dict()` gives it.

    `inputs` is a JSON string there (a list is accepted too). ValueError when the model does
    not take named columns of types a form can edit.
    """
    inputs = signature.get("inputs") if signature else None
    if isinstance(inputs, str):
        try:
            inputs = json.loads(inputs)
        except ValueError as error:
            raise ValueError(f"the signature's inputs are not valid JSON: {error}") from error
    if not isinstance(inputs, list) or not inputs:
        raise ValueError("the model's signature has no inputs")
    for column in inputs:
        if not isinstance(column, dict) or not column.get("name"):
            raise ValueError("the model takes unnamed inputs (a tensor?), not a table's columns")
        if column.get("type") not in WIDGETS:
            raise ValueError(
                f"input {column['name']!r} has type {column.get('type')!r}, "
                "which the form cannot edit"
            )
    return inputs


def prediction_fields(
    signature: Mapping[str, Any], example: Mapping[str, Any] | None = None
) -> list[FormField]:
    """One field per input column, prefilled from an example record when one is given."""
    fields = []
    for column in signature_columns(signature):
        widget = WIDGETS[column["type"]]
        default = _coerce(widget, (example or {}).get(column["name"]))
        fields.append(
            FormField(
                name=column["name"],
                mlflow_type=column["type"],
                widget=widget,
                required=column.get("required", True),
                default=EMPTY_VALUES[widget] if default is None else default,
            )
        )
    return fields


def _coerce(widget: str, value: Any) -> Any:
    """An example's value in the widget's own type; None when it does not fit."""
    if value is None:
        return None
    try:
        if widget == "float" and not isinstance(value, bool):
            return float(value)
        if widget == "integer" and not isinstance(value, bool) and float(value).is_integer():
            return int(value)
    except (TypeError, ValueError):
        return None
    if widget == "text":
        return str(value)
    if widget == "checkbox" and isinstance(value, bool):
        return value
    return None


def prediction_record(fields: list[FormField], values: Mapping[str, Any]) -> dict[str, Any]:
    """The record to send: each value in its column's JSON type; empty optional ones left out."""
    record: dict[str, Any] = {}
    for field in fields:
        value = values.get(field.name)
        if value is None or (field.widget == "text" and value == "" and not field.required):
            continue
        if field.widget == "float":
            value = float(value)
        elif field.widget == "integer":
            value = int(value)
        record[field.name] = value
    return record


def example_record(payload: Any) -> dict[str, Any] | None:
    """The first row of an MLflow input example (input_example.json), or None.

    pandas examples are stored split-oriented: {"columns": [...], "data": [[...], ...]}.
    """
    if isinstance(payload, dict) and "dataframe_split" in payload:
        payload = payload["dataframe_split"]
    if isinstance(payload, dict) and payload.get("columns") and payload.get("data"):
        return dict(zip(payload["columns"], payload["data"][0], strict=False))
    if isinstance(payload, list) and payload and isinstance(payload[0], dict):
        return dict(payload[0])
    return None


def validation_messages(detail: Any) -> list[str]:
    """FastAPI's 422 `detail` ([{type, loc, msg}, ...]) as one sentence per problem."""
    if not isinstance(detail, list):
        return [str(detail)]
    messages = []
    for item in detail:
        if not isinstance(item, dict):
            messages.append(str(item))
            continue
        loc = list(item.get("loc", []))
        if loc[:2] == ["body", "records"]:
            loc = loc[3:]  # the form sends one record: its index says nothing
        message = item.get("msg", "invalid value")
        messages.append(f"{'.'.join(map(str, loc))}: {message}" if loc else message)
    return messages


def parse_param_grid(text: str) -> dict[str, list]:
    """The param_grid typed by the user; ValueError with a readable reason when it is wrong.

    It must be a JSON object mapping each parameter to a non-empty list of values to try,
    e.g. {"max_depth": [3, 6]}; an empty text or {} means the DAG's default grid.
    """
    if not text.strip():
        return {}
    try:
        grid = json.loads(text)
    except ValueError as error:
        raise ValueError(f"param_grid is not valid JSON: {error}") from error
    if not isinstance(grid, dict):
        raise ValueError(f"param_grid must be a JSON object, not a {type(grid).__name__}")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"param_grid: {name!r} needs a non-empty list of values")
    return grid


def training_conf(
    *,
    dataset: str,
    target: str,
    model_name: str,
    promotion_metric: str,
    estimator: str,
    param_grid: str,
) -> dict[str, Any]:
    """The conf of a training run; ValueError before anything is sent when a value is wrong."""
    conf = {
        "dataset": dataset.strip(),
        "target": target.strip(),
        "model_name": model_name.strip(),
        "promotion_metric": promotion_metric.strip(),
    }
    empty = [name for name, value in conf.items() if not value]
    if empty:
        raise ValueError(f"fill in: {', '.join(empty)}")
    if not conf["dataset"].startswith("s3://"):
        raise ValueError("dataset must be an s3://bucket/key URI")
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}")
    return {**conf, "estimator": estimator, "param_grid": parse_param_grid(param_grid)}
