"""Check prediction records against the model's MLflow signature, field by field.

pyfunc enforces the signature too, but only as one opaque error for the whole batch; here
each problem is reported with its record and field, in FastAPI's 422 format.

The same file is the DAG bundle's `mlops_training.signature`: dags/mlops_training/signature.py
is a relative symlink to it, whose content is what the bundle's uploads put in the DAGs bucket
(the playbook's community.aws.s3_sync, the deploy workflow's `aws s3 sync --follow-symlinks`),
so batch scoring (dags/score_dataset.py) checks a CSV's rows with this code, as the API checks
a request. It must therefore import nothing but the standard library, numpy and pandas
(tests/dags/mlops_training/test_signature.py pins the link, the imports and the upload).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# MLflow column type -> (JSON schema type, pandas dtype, accepted Python types)
_TYPES: dict[str, tuple[str, str, tuple[type, ...]]] = {
    "double": ("number", "float64", (int, float)),
    "float": ("number", "float32", (int, float)),
    "long": ("integer", "int64", (int,)),
    "integer": ("integer", "int32", (int,)),
    "boolean": ("boolean", "bool", (bool,)),
    "string": ("string", "object", (str,)),
}
# The values a column's dtype holds: a JSON number outside them cannot reach the model.
_BOUNDS: dict[str, tuple[int | float, int | float]] = {
    "double": (-float(np.finfo(np.float64).max), float(np.finfo(np.float64).max)),
    "float": (-float(np.finfo(np.float32).max), float(np.finfo(np.float32).max)),
    "long": (int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)),
    "integer": (int(np.iinfo(np.int32).min), int(np.iinfo(np.int32).max)),
}
MAX_REPORTED_ERRORS = 50


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool

    @property
    def json_type(self) -> str:
        return _TYPES[self.type][0]


def columns_of(signature) -> list[Column]:
    """The named input columns of an MLflow signature; other kinds cannot be served here."""
    if signature is None or signature.inputs is None or not signature.inputs.has_input_names():
        raise ValueError("the model has no signature with named input columns")
    columns = []
    for spec in signature.inputs.inputs:
        kind = getattr(spec.type, "name", str(spec.type))
        if kind not in _TYPES:
            raise ValueError(f"input {spec.name!r} has type {kind}, which the API cannot serve")
        columns.append(Column(spec.name, kind, spec.required))
    return columns


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _problem(column: Column, value: Any) -> tuple[str, str] | None:
    """What is wrong with a (non-null) value for a column, as (error type, message), or None."""
    accepted = _TYPES[column.type][2]
    if isinstance(value, bool):
        wrong_type = bool not in accepted  # JSON true is not a number
    elif isinstance(value, float) and int in accepted and float not in accepted:
        wrong_type = not value.is_integer()  # JSON Schema: 742.0 is an integer
    else:
        wrong_type = not isinstance(value, accepted)
    if wrong_type or (isinstance(value, float) and not math.isfinite(value)):
        return (
            f"{column.json_type}_type",
            f"must be {_a(column.json_type)} ({column.type}), got {type(value).__name__} {value!r}",
        )
    low, high = _BOUNDS.get(column.type, (None, None))
    if low is not None and not low <= value <= high:  # exact: Python compares int and float so
        return (
            "out_of_range",
            f"must be {_a(column.type)} from {low:.7g} to {high:.7g}, got {value!r}",
        )
    return None


def check(
    records: list[Any],
    columns: list[Column],
    model: str,
    *,
    limit: int | None = MAX_REPORTED_ERRORS,
) -> list[dict]:
    """The problems, as FastAPI's error items (type, loc, msg); empty when all is well. At most
    `limit` of them (an answer of the API stays small); None: every one (batch scoring)."""
    errors: list[dict] = []
    known = {column.name for column in columns}
    for index, record in enumerate(records):
        where = ["body", "records", index]
        if not isinstance(record, dict):
            errors.append(
                {"type": "dict_type", "loc": where, "msg": "each record must be a JSON object"}
            )
            continue
        for column in columns:
            value = record.get(column.name)
            if value is None:
                if column.required:
                    errors.append(
                        {
                            "type": "missing",
                            "loc": [*where, column.name],
                            "msg": f"field {column.name!r} is required by {model}",
                        }
                    )
            elif problem := _problem(column, value):
                kind, message = problem
                errors.append(
                    {
                        "type": kind,
                        "loc": [*where, column.name],
                        "msg": f"field {column.name!r} {message}"[:200],
                    }
                )
        for name in sorted(set(record) - known):
            errors.append(
                {
                    "type": "extra_forbidden",
                    "loc": [*where, name],
                    "msg": f"field {name!r} is not an input of {model}",
                }
            )
        if limit is not None and len(errors) >= limit:
            break
    return errors if limit is None else errors[:limit]


def frame(records: list[dict], columns: list[Column]) -> pd.DataFrame:
    """Checked records as the DataFrame the model expects: its column order and dtypes."""
    data = {
        column.name: pd.Series(
            [_value(column, record.get(column.name)) for record in records],
            dtype=_dtype(column),
        )
        for column in columns
    }
    return pd.DataFrame(data)


def _dtype(column: Column) -> str:
    """The column's dtype; an optional column's holds nulls too: NaN for floating point (an
    integral value such as 4 for a double column stays a float, as MLflow's schema check
    wants), None in an object column for the others."""
    dtype = _TYPES[column.type][1]
    return dtype if column.required or dtype.startswith("float") else "object"


def _value(column: Column, value: Any) -> Any:
    if isinstance(value, float) and column.json_type == "integer":
        return int(value)  # an integral float, as checked
    return value


def record_schema(columns: list[Column]) -> dict:
    """JSON schema of one record, for the OpenAPI document."""
    return {
        "type": "object",
        "properties": {column.name: _property(column) for column in columns},
        "required": [column.name for column in columns if column.required],
        "additionalProperties": False,
    }


def _property(column: Column) -> dict:
    """A column's JSON schema: its type (or null when optional) and the values it holds."""
    prop: dict[str, Any] = {
        "type": column.json_type if column.required else [column.json_type, "null"]
    }
    if column.type in _BOUNDS:
        prop["minimum"], prop["maximum"] = _BOUNDS[column.type]
    return prop


def jsonable(predictions: Any) -> list:
    """Model output as plain JSON values."""
    if isinstance(predictions, pd.DataFrame):
        return predictions.to_dict(orient="records")
    if isinstance(predictions, pd.Series | np.ndarray):
        return predictions.tolist()
    return list(predictions)
