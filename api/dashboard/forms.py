"""Pure logic behind the dashboard's forms: no Streamlit, no network.

Each form is built from what its service publishes, so that the dashboard keeps no copy of
another part's types or defaults:

- the prediction form, from the model API's JSON Schema of a record (its OpenAPI document);
- the training trigger, from the DAG's params as Airflow's DAG details list them (a default
  and a JSON Schema each), its conf checked against those schemas before anything is sent;
- the model API's 422 errors, as sentences.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import FormatChecker
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

# JSON Schema type -> the widget that edits it
WIDGETS = {"number": "float", "integer": "integer", "string": "text", "boolean": "checkbox"}
EMPTY_VALUES = {"float": 0.0, "integer": 0, "text": "", "checkbox": False}
# Streamlit's number_input holds numbers as JavaScript does: integers exactly up to 2**53 - 1.
SAFE_INTEGER = 2**53 - 1


# --- the prediction form ---------------------------------------------------------------


@dataclass(frozen=True)
class FormField:
    """One input of the prediction form."""

    name: str
    json_type: str  # number | integer | string | boolean
    widget: str  # float | integer | text | checkbox
    required: bool
    default: Any
    minimum: int | float | None = None  # numbers only
    maximum: int | float | None = None


def prediction_fields(
    schema: Mapping[str, Any], example: Mapping[str, Any] | None = None
) -> list[FormField]:
    """One field per property of a record's JSON Schema, prefilled from an example record.

    ValueError when the record has no properties or one of a type the form cannot edit.
    """
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(properties, Mapping) or not properties:
        raise ValueError("the model API describes no inputs of the model")
    required = set(schema.get("required") or ())
    fields = []
    for name, prop in properties.items():
        types, _ = _types(prop)
        widget = WIDGETS.get(types[0]) if len(types) == 1 else None
        if widget is None:
            shown = prop.get("type") if isinstance(prop, Mapping) else prop
            raise ValueError(f"the form cannot edit input {name!r} of JSON type {shown!r}")
        minimum, maximum = _bounds(name, widget, prop)
        default = _coerce(widget, (example or {}).get(name))
        if default is None or not _within(default, minimum, maximum):
            default = _clamp(EMPTY_VALUES[widget], minimum, maximum)
        fields.append(
            FormField(
                name=name,
                json_type=types[0],
                widget=widget,
                required=name in required,
                default=default,
                minimum=minimum,
                maximum=maximum,
            )
        )
    return fields


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


# --- the training trigger ---------------------------------------------------------------


@dataclass(frozen=True)
class ParamField:
    """One param of a DAG as the trigger form edits it."""

    name: str
    widget: str  # select | checkbox | integer | float | text | json
    default: Any  # in the widget's terms: an option, a number, a text, a JSON text
    schema: Mapping[str, Any]
    description: str | None = None
    nullable: bool = False  # an empty text or number box means null
    options: tuple = ()  # select only
    minimum: int | float | None = None  # numbers only
    maximum: int | float | None = None

    @property
    def option_index(self) -> int:
        """Where the default is among the options (select only)."""
        return next(
            index for index, option in enumerate(self.options) if _same(option, self.default)
        )


class ConfError(ValueError):
    """Values the DAG's params refuse: `problems` holds one sentence per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def param_fields(params: Mapping[str, Any]) -> list[ParamField]:
    """One field per param of a DAG, as Airflow's `GET /api/v2/dags/{id}/details` lists them.

    Each param is {"value": default, "schema": JSON Schema, "description": ..., ...}; the
    widget follows the schema (enum, then type), the default prefills it. ValueError when a
    param's schema is not a JSON Schema.
    """
    fields = []
    for name, spec in params.items():
        if isinstance(spec, Mapping) and "schema" in spec:
            value, schema, description = spec.get("value"), spec["schema"], spec.get("description")
        else:  # a bare value: any JSON is accepted
            value, schema, description = spec, {}, None
        schema = {} if schema is None or schema is True else schema
        if not isinstance(schema, Mapping):
            raise ValueError(f"param {name!r} has no JSON Schema object: {schema!r}")
        try:
            validator_for(schema).check_schema(schema)
        except SchemaError as error:
            raise ValueError(f"param {name!r} has no valid JSON Schema: {error.message}") from None
        fields.append(_param_field(name, value, schema, description))
    return fields


def _param_field(name: str, value: Any, schema: Mapping, description: str | None) -> ParamField:
    types, nullable = _types(schema)
    field = {"name": name, "schema": schema, "description": description or None}
    if "enum" in schema or "const" in schema:
        options = tuple(schema["enum"]) if "enum" in schema else (schema["const"],)
        if not options:
            raise ValueError(f"param {name!r} has an empty enum")
        default = value if _in(value, options) else options[0]
        return ParamField(**field, widget="select", default=default, options=options)
    if not types and value is not None:  # no type given: the default's own
        types = [_json_type_of(value)]
    widget = {"boolean": "checkbox", "integer": "integer", "number": "float", "string": "text"}
    kind = widget.get(types[0], "json") if len(types) == 1 else "json"
    if kind == "checkbox":
        return ParamField(**field, widget=kind, default=value is True)
    if kind in ("integer", "float"):
        minimum, maximum = _bounds(name, kind, schema)
        default = _coerce(kind, value)
        if default is not None and not _within(default, minimum, maximum):
            default = None
        return ParamField(
            **field,
            widget=kind,
            default=default,
            nullable=nullable,
            minimum=minimum,
            maximum=maximum,
        )
    if kind == "text":
        return ParamField(
            **field, widget=kind, default=value if isinstance(value, str) else "", nullable=nullable
        )
    default = "" if value is None and not nullable else json.dumps(value)
    return ParamField(**field, widget="json", default=default, nullable=nullable)


def trigger_conf(fields: list[ParamField], values: Mapping[str, Any]) -> dict[str, Any]:
    """The conf of a run: each value in its param's JSON type, checked against its schema.

    ConfError listing every problem, param by param, when any value is refused.
    """
    conf: dict[str, Any] = {}
    problems: list[str] = []
    for field in fields:
        try:
            value = _conf_value(field, values.get(field.name))
        except ValueError as error:
            problems.append(str(error))
            continue
        validator = validator_for(field.schema)(field.schema, format_checker=FormatChecker())
        for error in validator.iter_errors(value):
            where = ".".join([field.name, *map(str, error.absolute_path)])
            problems.append(f"{where}: {error.message}")
        conf[field.name] = value
    if problems:
        raise ConfError(problems)
    return conf


def _conf_value(field: ParamField, value: Any) -> Any:
    """A widget's value as the JSON value of its param."""
    if field.widget == "json":
        if value is None or not str(value).strip():
            return None
        try:
            return json.loads(value)
        except ValueError as error:
            raise ValueError(f"{field.name} is not valid JSON: {error}") from None
    if field.widget == "text":
        value = "" if value is None else str(value).strip()
        return None if value == "" and field.nullable else value
    if value is None:
        return None
    if field.widget == "integer":
        return int(value)
    if field.widget == "float":
        return float(value)
    if field.widget == "checkbox":
        return bool(value)
    return value


def option_label(option: Any) -> str:
    """How a select shows one of its options: a text as is, anything else as JSON."""
    return option if isinstance(option, str) else json.dumps(option)


# --- shared -----------------------------------------------------------------------------


def _types(schema: Any) -> tuple[list[str], bool]:
    """A schema's types other than null, and whether null is one of them."""
    declared = schema.get("type") if isinstance(schema, Mapping) else None
    declared = [declared] if isinstance(declared, str) else declared
    declared = declared if isinstance(declared, list) else []
    return [kind for kind in declared if kind != "null"], "null" in declared


def _json_type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "json"


def _same(one: Any, other: Any) -> bool:
    """Equal as JSON values: True is not 1 there."""
    return type(one) is type(other) and one == other


def _in(value: Any, options: tuple) -> bool:
    return any(_same(value, option) for option in options)


def _bounds(name: str, widget: str, schema: Any) -> tuple[Any, Any]:
    """A number's bounds from its schema; integers within what Streamlit can hold exactly."""
    low = schema.get("minimum") if isinstance(schema, Mapping) else None
    high = schema.get("maximum") if isinstance(schema, Mapping) else None
    low = low if isinstance(low, int | float) and not isinstance(low, bool) else None
    high = high if isinstance(high, int | float) and not isinstance(high, bool) else None
    if widget == "integer":
        low = -SAFE_INTEGER if low is None else max(-SAFE_INTEGER, math.ceil(low))
        high = SAFE_INTEGER if high is None else min(SAFE_INTEGER, math.floor(high))
    else:
        low = None if low is None else float(low)
        high = None if high is None else float(high)
    if low is not None and high is not None and low > high:
        raise ValueError(f"{name!r} has no value: its minimum is above its maximum")
    return low, high


def _within(value: Any, low: Any, high: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    return (low is None or value >= low) and (high is None or value <= high)


def _clamp(value: Any, low: Any, high: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if low is not None and value < low:
        value = low
    if high is not None and value > high:
        value = high
    return value


def _coerce(widget: str, value: Any) -> Any:
    """An example's value in the widget's own type; None when it does not fit."""
    if value is None:
        return None
    try:
        if widget == "float" and not isinstance(value, bool):
            number = float(value)
            return number if math.isfinite(number) else None
        if widget == "integer" and not isinstance(value, bool) and float(value).is_integer():
            return int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if widget == "text":
        return str(value)
    if widget == "checkbox" and isinstance(value, bool):
        return value
    return None
