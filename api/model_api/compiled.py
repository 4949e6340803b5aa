"""The fast path: a scikit-learn model compiled to ONNX Runtime, served only where it is proven
to predict exactly what its MLflow pyfunc predicts.

The conversion happens when the API loads a version (skl2onnx takes well under a second for
the training DAG's pipelines), not at training time: the check that decides which path serves
must run with the libraries that serve, on the host that serves, and a model registered by
any other means gets the same treatment. The check feeds the model's input example and the
held-out sample its run logged (`model_checks/holdout.json`, written by the training DAG)
through both paths, the way requests reach them (JSON records), and needs every prediction
equal. Anything else (no scikit-learn flavour, a custom predict function, a failed
conversion, a single differing prediction) leaves the model on pyfunc, with the reason shown
in /model and /metrics.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from model_api import schema

HOLDOUT_ARTIFACT = "model_checks/holdout.json"
# MLflow column type -> (skl2onnx tensor type name, numpy dtype of the fed array)
_TENSORS: dict[str, tuple[str, Any]] = {
    "double": ("DoubleTensorType", np.float64),
    "float": ("FloatTensorType", np.float32),
    "long": ("Int64TensorType", np.int64),
    "integer": ("Int32TensorType", np.int32),
    "boolean": ("BooleanTensorType", np.bool_),
    "string": ("StringTensorType", object),
}


class NotCompiled(Exception):
    """Why a model is served through pyfunc."""


@dataclass(frozen=True)
class CompiledModel:
    """An ONNX Runtime session fed one (rows, 1) array per input column."""

    session: Any
    inputs: tuple[tuple[str, schema.Column, Any], ...]  # (ONNX input name, column, dtype)
    output: str
    onnx: bytes = field(default=b"", repr=False)  # the serialized model the session runs

    def accepts(self, records: list[dict]) -> bool:
        """False when a record leaves an input out: nulls go through pyfunc, which knows
        how the pipeline treats them."""
        return all(
            record.get(column.name) is not None
            for record in records
            for _, column, _ in self.inputs
        )

    def predict(self, records: list[dict]) -> list:
        feed = {
            name: np.array([record[column.name] for record in records], dtype=dtype).reshape(-1, 1)
            for name, column, dtype in self.inputs
        }
        return self.session.run([self.output], feed)[0].ravel().tolist()


def compile_model(
    pyfunc,
    columns: list[schema.Column],
    example: list[dict],
    holdout: list[dict],
    stages: dict[str, float] | None = None,
) -> CompiledModel:
    """The model compiled and checked on its input example and held-out sample (records);
    NotCompiled says why it cannot be. The seconds of each step go to `stages`."""
    stages = {} if stages is None else stages
    flavors = pyfunc.metadata.flavors
    if "sklearn" not in flavors:
        raise NotCompiled(f"no scikit-learn flavour (flavours: {', '.join(sorted(flavors))})")
    predict_fn = flavors.get("python_function", {}).get("predict_fn", "predict")
    if predict_fn != "predict":
        raise NotCompiled(f"pyfunc calls {predict_fn}; the fast path compiles predict only")
    if not example:
        raise NotCompiled("the model was logged without an input example to check it on")
    if not holdout:
        raise NotCompiled(f"its run logged no held-out sample ({HOLDOUT_ARTIFACT}) to check it on")
    started = time.monotonic()
    try:
        compiled = _convert(pyfunc.get_raw_model(), columns)
    except Exception as error:  # skl2onnx raises many kinds for what it cannot convert
        raise NotCompiled(f"conversion failed: {type(error).__name__}: {error}"[:300]) from error
    stages["convert"] = time.monotonic() - started
    for name, records in (("input example", example), ("held-out sample", holdout)):
        _check(compiled, pyfunc, columns, name, records)
    stages["check"] = time.monotonic() - started - stages["convert"]
    return compiled


def _convert(model, columns: list[schema.Column]) -> CompiledModel:
    from skl2onnx import convert_sklearn
    from skl2onnx.common import data_types

    initial_types = [
        (column.name, getattr(data_types, _TENSORS[column.type][0])([None, 1]))
        for column in columns
    ]
    model = _without_imputers(model)
    # A classifier's label output only, as a plain tensor: no ZipMap of probabilities.
    options = {id(step): {"zipmap": False} for step in _steps(model) if hasattr(step, "classes_")}
    onnx_model = convert_sklearn(
        model, initial_types=initial_types, options=options, target_opset={"": 17, "ai.onnx.ml": 3}
    )
    return from_onnx(onnx_model.SerializeToString(), columns)


def from_onnx(onnx: bytes, columns: list[schema.Column]) -> CompiledModel:
    """An ONNX Runtime session of a serialized model, fed one input per column."""
    import onnxruntime

    session_options = onnxruntime.SessionOptions()
    # One uvicorn worker per core: each session runs on its worker's thread.
    session_options.intra_op_num_threads = 1
    session_options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        onnx, session_options, providers=["CPUExecutionProvider"]
    )
    names = [node.name for node in session.get_inputs()]  # skl2onnx renames e.g. "a/b" to "a_b"
    inputs = tuple(
        (name, column, _TENSORS[column.type][1])
        for name, column in zip(names, columns, strict=True)
    )
    return CompiledModel(session, inputs, session.get_outputs()[0].name, onnx)


def _without_imputers(model):
    """A copy of the fitted model with its SimpleImputers taken out (the served model is left
    as it is). The fast path gets only records without a null (CompiledModel.accepts), and on
    those an imputer changes nothing; ONNX Runtime's Imputer takes float tensors only, and
    skl2onnx converts a string imputer only for "" markers, so with them a model trained on data
    with gaps would never convert. The check on complete records proves the copy equal."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        kept = [
            (name, _without_imputers(step))
            for name, step in model.steps
            if not isinstance(step, SimpleImputer)
        ]
        stripped = copy.copy(model)
        stripped.steps = kept or [("passthrough", "passthrough")]
        return stripped
    if isinstance(model, ColumnTransformer) and hasattr(model, "transformers_"):
        stripped = copy.copy(model)
        stripped.transformers_ = [
            (name, _without_imputers(step) if not isinstance(step, str) else step, columns)
            for name, step, columns in model.transformers_
        ]
        return stripped
    return model


def _steps(model) -> list:
    return [step for _, step in model.steps] if hasattr(model, "steps") else [model]


def _check(
    compiled: CompiledModel, pyfunc, columns: list[schema.Column], name: str, records: list[dict]
) -> None:
    """Both paths on the records; NotCompiled at the first difference. Records with a null
    are left out: requests that carry one are served through pyfunc."""
    records = [record for record in records if compiled.accepts([record])]
    if not records:
        raise NotCompiled(f"every record of the {name} has a null: nothing to check it on")
    expected = schema.jsonable(pyfunc.predict(schema.frame(records, columns)))
    got = compiled.predict(records)
    for index, (want, have) in enumerate(zip(expected, got, strict=True)):
        if want != have:
            raise NotCompiled(
                f"ONNX Runtime predicts {have!r} where pyfunc predicts {want!r} "
                f"(record {index} of the {name}'s {len(records)})"
            )


def records_of(frame: Any) -> list[dict]:
    """An input example as the JSON records a request carries (nulls left out); none unless
    it is a DataFrame (the only kind a signature with named columns logs)."""
    if not isinstance(frame, pd.DataFrame):
        return []
    return [
        {key: value for key, value in record.items() if value is not None}
        for record in json.loads(frame.to_json(orient="records"))
    ]


def read_holdout(path: str) -> list[dict]:
    """The held-out sample the training DAG logs (pandas' split orient) as JSON records."""
    with open(path) as file:
        split = json.load(file)
    return [
        {key: value for key, value in zip(split["columns"], row, strict=True) if value is not None}
        for row in split["data"]
    ]
