"""Score a CSV file with a registered model: what the score_dataset DAG does, free of Airflow.

Every row is checked against the model's signature by the model API's own code
(`mlops_training.signature` is api/model_api/schema.py): a bad row is reported with its line,
field and the API's message, and the other rows are scored. Only a problem with the whole file
stops the scoring: no such model or version, a column the model requires absent from the
header, a file that is not UTF-8 CSV.

How a cell is read: a CSV holds text, so each cell of a model input is read as the JSON value
a client of the API would send for it, by the type of its column in the signature. An empty
cell, or one of the markers pandas reads as missing (`NA`, `null`, `NaN`, ...: the training
read its data with pandas), is null, which the check accepts for optional inputs only; a
number column's cell is an integer or a decimal number; a boolean's is true or false (any
case); a string's is the cell as it is. A cell that cannot be read as its column's type stays
text, and the check refuses it with the API's message (e.g. "field 'alcohol' must be a number
(double), got str 'abc'").
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from mlops_training import signature
from mlops_training.data import DataValidationError, parse_s3_uri
from mlops_training.registry import CHAMPION_ALIAS, current_champion

# Rows read, checked and predicted at a time: what the task holds in memory is a chunk, not
# the file (which is read from a local copy and written to local files, then uploaded).
CHUNK_ROWS = 10_000
# The cells pandas.read_csv reads as missing by default, as the training read its data.
NULL_CELLS = frozenset(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"}
    | {"<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)
OUTPUT_FILES = {
    "predictions": "predictions.csv",
    "rejected": "rejected.csv",
    "summary": "summary.json",
}
# Where a run may write, and nowhere else: the keys of the data bucket that match one of these
# patterns, `*` standing for any characters, `/` included, as in an IAM policy's resources and
# SeaweedFS's actions. Beside the dataset (s3://bucket/path/name.csv ->
# path/name.scored/<run id>/), or under scored/<name>/ for an `output` given. The airflow and
# airflow_worker roles may put objects there and only there (terraform/modules/compute/iam.tf,
# local.scoring_output_keys), and so may the replica's airflow key
# (ansible/group_vars/object_store.yml); tests/terraform/test_contracts.py holds them equal.
SCORED_SUFFIX = ".scored"
OUTPUT_PREFIX = "scored"
WRITABLE_KEYS = tuple(
    f"{folder}/*/{file}"
    for folder in (f"*{SCORED_SUFFIX}", OUTPUT_PREFIX)
    for file in OUTPUT_FILES.values()
)
_WRITABLE = re.compile(
    "|".join(re.escape(pattern).replace(r"\*", ".*") for pattern in WRITABLE_KEYS), re.DOTALL
)
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_BOOLEANS = {"true": True, "false": False}
_UNSAFE_KEY_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
# What a prediction can fail with for some rows only (e.g. a value the model cannot take)
_PREDICTION_ERRORS = (MlflowException, ValueError, TypeError)


class ScoringError(DataValidationError):
    """The file cannot be scored at all (no such model or version, a required column absent
    from the header, not a CSV file); like bad training data, it fails the task at once."""


@dataclass(frozen=True)
class ModelRef:
    """The model version a file is scored with, resolved once per run: a champion that moves
    while a run scores still scores the whole file with the version the run started with."""

    name: str
    version: str
    run_id: str | None
    alias: str | None  # "champion" when the version was found through the alias

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    @property
    def label(self) -> str:
        """How the model API names the model in its messages."""
        return f"{self.name} v{self.version}"

    def to_dict(self) -> dict:
        return asdict(self)


def resolve(client: MlflowClient, model_name: str, version: str | int | None = None) -> ModelRef:
    """The version to score with: the given one, or the champion when none is given; checked
    to have a signature the model API's checks can read."""
    try:
        client.get_registered_model(model_name)
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        raise ScoringError(
            f"there is no registered model {model_name!r}: train one with the train_model DAG"
        ) from error
    wanted = "" if version is None else str(version).strip()
    if not wanted:
        found = current_champion(client, model_name)
        if found is None:
            raise ScoringError(
                f"model {model_name!r} has no {CHAMPION_ALIAS} version yet: give a version"
            )
    else:
        try:
            found = client.get_model_version(model_name, wanted)
        except MlflowException as error:
            if error.error_code not in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                raise
            raise ScoringError(f"model {model_name!r} has no version {wanted}") from error
    ref = ModelRef(model_name, str(found.version), found.run_id, None if wanted else CHAMPION_ALIAS)
    input_columns(ref)
    return ref


def input_columns(ref: ModelRef) -> list[signature.Column]:
    """The model's input columns, from its signature (MLmodel only, not the model's files)."""
    try:
        return signature.columns_of(mlflow.models.get_model_info(ref.uri).signature)
    except ValueError as error:
        raise ScoringError(f"{ref.label} cannot be scored: {error}") from error


def output_uris(
    dataset: str, output: str | None, dag_run_id: str, data_bucket: str
) -> dict[str, str]:
    """Where a run writes predictions.csv, rejected.csv and summary.json: under `output` when
    given (s3://bucket/prefix), else next to the dataset, in a folder of the run:
    s3://bucket/path/name.csv -> s3://bucket/path/name.scored/<run id>/. Only where Airflow
    may write (WRITABLE_KEYS of `data_bucket`): anywhere else, a ScoringError before any work
    (the object store would refuse the first upload after the whole file was scored)."""
    if output:
        bucket, prefix = parse_s3_uri(output.rstrip("/"), what="output")
    else:
        bucket, key = parse_s3_uri(dataset)
        stem = key[: -len(".csv")] if key.lower().endswith(".csv") else key
        prefix = f"{stem}{SCORED_SUFFIX}/{_UNSAFE_KEY_CHARACTERS.sub('-', dag_run_id)}"
    uris = {name: f"s3://{bucket}/{prefix}/{file}" for name, file in OUTPUT_FILES.items()}
    if dataset in uris.values():
        raise ScoringError(f"output {output!r} would overwrite the dataset {dataset}")
    _check_writable(bucket, prefix, dataset, output, data_bucket)
    return uris


def writable(bucket: str, key: str, data_bucket: str) -> bool:
    """Whether Airflow may put an object at s3://bucket/key: a key of WRITABLE_KEYS in the data
    bucket, without an empty, `.` or `..` path segment (which a store might resolve)."""
    segments = key.split("/")
    return (
        bucket == data_bucket
        and not {"", ".", ".."} & set(segments)
        and _WRITABLE.fullmatch(key) is not None
    )


def _check_writable(
    bucket: str, prefix: str, dataset: str, output: str | None, data_bucket: str
) -> None:
    if all(writable(bucket, f"{prefix}/{file}", data_bucket) for file in OUTPUT_FILES.values()):
        return
    where = f"s3://{data_bucket}/{OUTPUT_PREFIX}/<name>"
    if output:
        raise ScoringError(
            f"output {output!r} is not where Airflow may write: give an output under {where} "
            f"(or none, to write beside a dataset of {data_bucket}, in <name>{SCORED_SUFFIX}/"
            "<run id>/)"
        )
    raise ScoringError(
        f"Airflow may not write beside the dataset {dataset} (only in <name>{SCORED_SUFFIX}/ "
        f"folders of the data bucket {data_bucket}): give an output under {where}"
    )


def parse(column: signature.Column, cell: str) -> Any:
    """A CSV cell as the JSON value a client of the API would send for it (see the module's
    docstring); the cell itself when it is no value of the column's type."""
    if cell in NULL_CELLS or not cell.strip():
        return None
    if column.type == "string":
        return cell
    text = cell.strip()
    if column.type == "boolean":
        return _BOOLEANS.get(text.lower(), cell)
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text)  # an integral one (3.0) is accepted for an integer column, as by the API
    return cell


@dataclass(frozen=True)
class Layout:
    """Where the model's inputs and the passed-through columns are in the file's rows."""

    width: int
    inputs: list[tuple[signature.Column, int]]  # the model's inputs the file has
    passed_through: list[tuple[str, int]]  # the other columns (an id, the target, ...)
    absent_optional: list[str]  # optional inputs the file does not have: null in every row


def layout(
    header: list[str], columns: list[signature.Column], ref: ModelRef, source: str
) -> Layout:
    """Match the header with the model's inputs; a required input absent fails the file."""
    names = [name.strip() or f"Unnamed: {index}" for index, name in enumerate(header)]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ScoringError(f"{source} has duplicated column names: {', '.join(duplicated)}")
    position = {name: index for index, name in enumerate(names)}
    missing = [column.name for column in columns if column.required and column.name not in position]
    if missing:
        raise ScoringError(
            f"{source} has no column {', '.join(map(repr, missing))}, which {ref.label} "
            f"requires; the file's columns are: {', '.join(names)}"
        )
    inputs = {column.name for column in columns}
    return Layout(
        width=len(names),
        inputs=[(c, position[c.name]) for c in columns if c.name in position],
        passed_through=[(name, index) for name, index in position.items() if name not in inputs],
        absent_optional=[c.name for c in columns if c.name not in position],
    )


@dataclass
class Outcome:
    """What scoring a file came to: counts of rows and problems, and the file's columns."""

    rows: int = 0  # data rows in the file (blank lines are no rows)
    scored: int = 0
    rejected: int = 0  # rows with at least one problem
    problems: int = 0  # lines of rejected.csv: a row may have several
    problems_by_field: Counter = field(default_factory=Counter)
    passed_through: list[str] = field(default_factory=list)
    absent_optional: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    line: int
    field: str  # "" for the row as a whole
    type: str  # the API's error type: missing, number_type, ...; row_shape, prediction
    message: str


def score_csv(
    path: Path,
    source: str,
    ref: ModelRef,
    predictions: Path,
    rejected: Path,
    chunk_rows: int = CHUNK_ROWS,
) -> Outcome:
    """Score the CSV file at `path` (a local copy of `source`) with the model version `ref`:
    predictions.csv gets each scored row's line in the file (the header is line 1), its
    passed-through cells as they are, and its prediction; rejected.csv every problem of the
    other rows, by line and field."""
    columns = input_columns(ref)
    with (
        path.open(encoding="utf-8-sig", newline="") as file,
        predictions.open("w", encoding="utf-8", newline="") as scored_file,
        rejected.open("w", encoding="utf-8", newline="") as rejected_file,
    ):
        rows = _rows(file, source)
        first = next(rows, None)
        if first is None:
            raise ScoringError(f"{source} is empty: a CSV file with a header row is needed")
        where = layout(first[1], columns, ref, source)
        model = mlflow.pyfunc.load_model(ref.uri)
        names = [name for name, _ in where.passed_through]
        scored_out, rejected_out = csv.writer(scored_file), csv.writer(rejected_file)
        scored_out.writerow([_free("line", names), *names, _free("prediction", names)])
        rejected_out.writerow(["line", "field", "type", "message"])
        outcome = Outcome(passed_through=names, absent_optional=where.absent_optional)
        while chunk := list(islice(rows, chunk_rows)):
            _score_chunk(chunk, where, columns, model, ref, scored_out, rejected_out, outcome)
    return outcome


def _rows(file, source: str) -> Iterator[tuple[int, list[str]]]:
    """The file's rows with the line each starts on; blank lines skipped, as pandas does."""
    reader = csv.reader(file)
    line = 1
    try:
        for cells in reader:
            if cells:
                yield line, cells
            line = reader.line_num + 1
    except csv.Error as error:
        raise ScoringError(f"{source} is not a readable CSV file: line {line}: {error}") from error
    except UnicodeDecodeError as error:
        raise ScoringError(f"{source} is not UTF-8 text: {error}") from error


def _free(name: str, taken: list[str]) -> str:
    """A name for a column of our own that no passed-through column has."""
    while name in taken:
        name = f"_{name}"
    return name


def _score_chunk(chunk, where: Layout, columns, model, ref, scored_out, rejected_out, outcome):
    problems: list[Problem] = []
    records, kept = [], []  # kept: (line, passed-through cells) of each record
    for line, cells in chunk:
        if len(cells) != where.width:
            message = f"the row has {len(cells)} cells; the header has {where.width}"
            problems.append(Problem(line, "", "row_shape", message))
            continue
        records.append({column.name: parse(column, cells[i]) for column, i in where.inputs})
        kept.append((line, [cells[i] for _, i in where.passed_through]))
    bad: set[int] = set()
    for error in signature.check(records, columns, ref.label, limit=None):
        index, name = error["loc"][2], error["loc"][3]
        bad.add(index)
        problems.append(Problem(kept[index][0], name, error["type"], error["msg"]))
    good = [index for index in range(len(records)) if index not in bad]
    results = _predict(model, [records[index] for index in good], columns, ref)
    for index, (prediction, failure) in zip(good, results, strict=True):
        line, cells = kept[index]
        if failure is None:
            scored_out.writerow([line, *cells, _cell(prediction)])
            outcome.scored += 1
        else:
            problems.append(Problem(line, "", "prediction", failure))
    problems.sort(key=lambda problem: problem.line)
    for problem in problems:
        rejected_out.writerow([problem.line, problem.field, problem.type, problem.message])
        outcome.problems_by_field[problem.field or "(row)"] += 1
    outcome.rows += len(chunk)
    outcome.rejected += len({problem.line for problem in problems})
    outcome.problems += len(problems)


def _predict(model, records: list[dict], columns, ref: ModelRef) -> list[tuple[Any, str | None]]:
    """(prediction, None) or (None, why the model could not score it) for each record: all at
    once, or, when that fails, one by one, so that a row the model refuses is reported alone.
    When no row of several can be scored, the model is at fault, not the rows: ScoringError."""
    if not records:
        return []
    try:
        predicted = signature.jsonable(model.predict(signature.frame(records, columns)))
    except _PREDICTION_ERRORS as error:
        if len(records) == 1:
            return [(None, f"{ref.label} could not score the row: {error}"[:500])]
        results = [_predict(model, [record], columns, ref)[0] for record in records]
        if all(failure for _, failure in results):
            raise ScoringError(f"{ref.label} could not score any row: {error}") from error
        return results
    return [(prediction, None) for prediction in predicted]


def _cell(value: Any) -> Any:
    """A prediction as a CSV cell: a number or text as it is, a structure as JSON."""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else value


def score_dataset(
    dataset: str,
    ref: ModelRef,
    outputs: dict[str, str],
    workdir: Path,
    fetch: Callable[[str, Path], None],
    store: Callable[[Path, str], None],
    dag_run_id: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> dict:
    """Fetch the dataset into `workdir`, score it, store the three outputs at their URIs; the
    summary (also stored as summary.json)."""
    started = time.monotonic()
    local = {name: workdir / file for name, file in OUTPUT_FILES.items()}
    copy = workdir / "dataset.csv"
    fetch(dataset, copy)
    outcome = score_csv(copy, dataset, ref, local["predictions"], local["rejected"], chunk_rows)
    for name in ("predictions", "rejected"):
        store(local[name], outputs[name])
    summary = {
        "dataset": dataset,
        "model_name": ref.name,
        "model_version": ref.version,
        "model_alias": ref.alias,
        "model_run_id": ref.run_id,
        "dag_run_id": dag_run_id,
        "rows": outcome.rows,
        "scored": outcome.scored,
        "rejected": outcome.rejected,
        "problems": outcome.problems,
        "problems_by_field": dict(outcome.problems_by_field.most_common()),
        "passed_through_columns": outcome.passed_through,
        "absent_optional_columns": outcome.absent_optional,
        "outputs": outputs,
        "duration_seconds": round(time.monotonic() - started, 3),
    }
    local["summary"].write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    store(local["summary"], outputs["summary"])
    return summary
