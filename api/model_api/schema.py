"""Check prediction records against the model's MLflow signature, field by field.

pyfunc enforces the signature too, but only as one opaque error for the whole batch; here
each problem is reported with its record and field, in FastAPI's 422 format.
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


def _type_ok(column: Column, value: Any) -> bool:
    accepted = _TYPES[column.type][2]
    if isinstance(value, bool) and bool not in accepted:
        return False  # JSON true is not a number
    if not isinstance(value, accepted):
        return False
    return not (isinstance(value, float) and not math.isfinite(value))


def check(records: list[Any], columns: list[Column], model: str) -> list[dict]:
    """Every problem, as FastAPI's error items (type, loc, msg); empty when all is well."""
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
            elif not _type_ok(column, value):
                errors.append(
                    {
                        "type": f"{column.json_type}_type",
                        "loc": [*where, column.name],
                        "msg": f"field {column.name!r} must be a {column.json_type} "
                        f"({column.type}), got {type(value).__name__} {value!r}"[:200],
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
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
    return errors[:MAX_REPORTED_ERRORS]


def frame(records: list[dict], columns: list[Column]) -> pd.DataFrame:
    """Checked records as the DataFrame the model expects: its column order and dtypes."""
    data = {
        column.name: pd.Series(
            [record.get(column.name) for record in records],
            dtype=_TYPES[column.type][1] if column.required else "object",
        )
        for column in columns
    }
    return pd.DataFrame(data)


def record_schema(columns: list[Column]) -> dict:
    """JSON schema of one record, for the OpenAPI document."""
    return {
        "type": "object",
        "properties": {column.name: {"type": column.json_type} for column in columns},
        "required": [column.name for column in columns if column.required],
        "additionalProperties": False,
    }


def jsonable(predictions: Any) -> list:
    """Model output as plain JSON values."""
    if isinstance(predictions, pd.DataFrame):
        return predictions.to_dict(orient="records")
    if isinstance(predictions, pd.Series | np.ndarray):
        return predictions.tolist()
    return list(predictions)
