"""Batch scoring against a real MLflow store (SQLite + local files) and models trained by the
pipeline: the rows the model can take are scored, every other one is listed with its line,
field and the API's message, and the summary counts them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.models import infer_signature

from mlops_training import signature
from mlops_training.data import DataValidationError
from mlops_training.registry import CHAMPION_ALIAS
from mlops_training.scoring import (
    OUTPUT_FILES,
    WRITABLE_KEYS,
    ModelRef,
    ScoringError,
    output_uris,
    parse,
    resolve,
    score_csv,
    score_dataset,
    writable,
)
from tests.ml import train_version

MODEL = "churn"
SMALL_GRID = {"n_estimators": [5], "max_depth": [3]}


def customers(rows: int = 160) -> pd.DataFrame:
    """Training data with every type a signature can hold here: long, double, boolean and an
    optional string (`plan` has gaps)."""
    rng = np.random.default_rng(3)
    tenure = rng.integers(1, 72, rows)
    vip = rng.random(rows) < 0.3
    return pd.DataFrame(
        {
            "tenure": tenure,
            "monthly": rng.normal(40, 10, rows).round(2),
            "plan": pd.Series(rng.choice(["basic", "pro"], rows)).mask(np.arange(rows) % 6 == 0),
            "vip": vip,
            "churned": np.where((tenure < 20) & ~vip, "yes", "no"),
        }
    )


@pytest.fixture(scope="module")
def versions(mlflow_store: str) -> dict[str, str]:
    """Two versions of MODEL: v1 the champion, v2 (a weaker grid) left beside it."""
    first, _ = train_version(MODEL, frame=customers(), target="churned", param_grid=SMALL_GRID)
    weak = {"n_estimators": [1], "max_depth": [1]}
    second, decision = train_version(MODEL, frame=customers(), target="churned", param_grid=weak)
    assert not decision.promoted, decision.reason
    return {"champion": first.version, "other": second.version}


@pytest.fixture(scope="module")
def champion(versions) -> ModelRef:
    return resolve(MlflowClient(), MODEL)


# The file to score: columns in another order than the signature's, an id and the target
# besides the inputs; a blank line and a quoted cell over two lines, so rows and lines differ.
HEADER = "churned,vip,id,monthly,plan,tenure"
LINES = [
    HEADER,
    "no,false,c-1,41.5,pro,30",  # 2: good
    "yes,False,c-2,39.0,,4",  # 3: plan is optional: an empty cell is null
    "no,true,c-3,52.25,basic,abc",  # 4: a word for a long
    "no,true,c-4,,basic,12",  # 5: null in a required input
    "no,false,c-5,1.2.3,pro,12",  # 6: no number
    "yes,maybe,c-6,33.0,pro,12",  # 7: no boolean
    "yes,false,c-7,33.0,pro,3.5",  # 8: no integer
    "yes,false,c-8,NA,pro,x",  # 9: two problems, listed in the signature's order
    "no,TRUE,c-9,60,NA,7.0",  # 10: 7.0 is an integer, 60 a double, NA a null plan
    "no,true,c-10,60,pro,7,extra",  # 11: one cell too many
    "",  # 12: blank, no row
    'no,false,"c-11\nsecond line",45.0,basic,50',  # 13-14: good, over two lines
    "yes,false,c-12,30.0,basic,2",  # 15: good
]
GOOD_LINES = [2, 3, 10, 13, 15]
PROBLEMS = [
    ["4", "tenure", "integer_type", "field 'tenure' must be an integer (long), got str 'abc'"],
    ["5", "monthly", "missing", "field 'monthly' is required by churn v{v}"],
    ["6", "monthly", "number_type", "field 'monthly' must be a number (double), got str '1.2.3'"],
    ["7", "vip", "boolean_type", "field 'vip' must be a boolean (boolean), got str 'maybe'"],
    ["8", "tenure", "integer_type", "field 'tenure' must be an integer (long), got float 3.5"],
    ["9", "tenure", "integer_type", "field 'tenure' must be an integer (long), got str 'x'"],
    ["9", "monthly", "missing", "field 'monthly' is required by churn v{v}"],
    ["11", "", "row_shape", "the row has 7 cells; the header has 6"],
]


def write(tmp_path: Path, lines: list[str], name: str = "customers.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def score(tmp_path: Path, ref: ModelRef, lines: list[str], **kwargs):
    outcome = score_csv(
        write(tmp_path, lines),
        "s3://data/customers.csv",
        ref,
        tmp_path / "predictions.csv",
        tmp_path / "rejected.csv",
        **kwargs,
    )
    return outcome, read(tmp_path / "predictions.csv"), read(tmp_path / "rejected.csv")


def expected_predictions(ref: ModelRef) -> list[str]:
    """What the model predicts for the good rows, asked directly with a DataFrame."""
    frame = pd.DataFrame(
        {
            "tenure": [30, 4, 7, 50, 2],
            "monthly": [41.5, 39.0, 60.0, 45.0, 30.0],
            "plan": ["pro", None, None, "basic", "basic"],
            "vip": [False, False, True, False, False],
        }
    )
    return [str(p) for p in mlflow.sklearn.load_model(ref.uri).predict(frame)]


def test_good_rows_are_scored_and_every_bad_one_is_listed(tmp_path, champion) -> None:
    outcome, predictions, rejected = score(tmp_path, champion, LINES)
    assert predictions[0] == ["line", "churned", "id", "prediction"]
    assert [row[:3] for row in predictions[1:]] == [
        ["2", "no", "c-1"],
        ["3", "yes", "c-2"],
        ["10", "no", "c-9"],
        ["13", "no", "c-11\nsecond line"],
        ["15", "yes", "c-12"],
    ]
    assert [row[3] for row in predictions[1:]] == expected_predictions(champion)
    assert rejected[0] == ["line", "field", "type", "message"]
    v = champion.version
    assert rejected[1:] == [[*row[:3], row[3].format(v=v)] for row in PROBLEMS]
    assert (outcome.rows, outcome.scored, outcome.rejected, outcome.problems) == (12, 5, 7, 8)
    assert outcome.problems_by_field == {"tenure": 3, "monthly": 3, "vip": 1, "(row)": 1}
    assert outcome.passed_through == ["churned", "id"]
    assert outcome.absent_optional == []


def test_rows_are_checked_with_the_apis_messages(tmp_path, champion) -> None:
    """The rejected rows' messages are the model API's 422 messages for the same values."""
    _, _, rejected = score(tmp_path, champion, [HEADER, "no,false,c-1,1.2.3,pro,abc"])
    from model_api import schema  # as the API imports it

    columns = schema.columns_of(mlflow.models.get_model_info(champion.uri).signature)
    record = {"monthly": "1.2.3", "plan": "pro", "tenure": "abc", "vip": False}
    api = schema.check([record], columns, champion.label)
    assert [row[3] for row in rejected[1:]] == [error["msg"] for error in api]


def test_chunks_change_nothing(tmp_path, champion) -> None:
    (tmp_path / "whole").mkdir()
    whole = score(tmp_path / "whole", champion, LINES)
    (tmp_path / "chunks").mkdir()
    chunked = score(tmp_path / "chunks", champion, LINES, chunk_rows=2)
    assert chunked == whole


def test_optional_inputs_may_be_absent_from_the_file(tmp_path, champion) -> None:
    lines = ["tenure,monthly,vip", "30,41.5,false", "4,,true"]
    outcome, predictions, rejected = score(tmp_path, champion, lines)
    assert outcome.absent_optional == ["plan"]
    assert outcome.passed_through == []
    assert [row[0] for row in predictions[1:]] == ["2"]
    assert [row[:2] for row in rejected[1:]] == [["3", "monthly"]]


def test_a_required_input_absent_from_the_file_fails_it_naming_the_columns(
    tmp_path, champion
) -> None:
    lines = ["id,tenure,plan", "c-1,30,pro"]
    with pytest.raises(ScoringError) as error:
        score(tmp_path, champion, lines)
    assert str(error.value) == (
        f"s3://data/customers.csv has no column 'monthly', 'vip', which churn "
        f"v{champion.version} requires; the file's columns are: id, tenure, plan"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty: a CSV file with a header row is needed"),
        (b"\n\n", "is empty"),
        ("tenure,monthly,vip\n30,41.5,caf\xe9\n".encode("latin-1"), "is not UTF-8 text"),
        (
            b"tenure,monthly,vip\n30,41.5,false\n" + b"9" * 200_000 + b"\n",
            "is not a readable CSV file: line 3: field larger",
        ),
        (b"tenure,monthly,vip,vip\n30,41.5,false,true\n", "duplicated column names: vip"),
    ],
)
def test_a_file_that_is_no_csv_fails(tmp_path, champion, content: bytes, message: str) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(content)
    with pytest.raises(ScoringError, match=message):
        score_csv(path, "s3://data/x.csv", champion, tmp_path / "p.csv", tmp_path / "r.csv")


def test_a_header_only_file_scores_nothing(tmp_path, champion) -> None:
    outcome, predictions, rejected = score(tmp_path, champion, [HEADER])
    assert (outcome.rows, outcome.scored, outcome.rejected) == (0, 0, 0)
    assert len(predictions) == len(rejected) == 1


def test_the_champion_or_a_given_version(versions, champion) -> None:
    client = MlflowClient()
    assert champion.version == versions["champion"]
    assert champion.alias == CHAMPION_ALIAS
    other = resolve(client, MODEL, versions["other"])
    assert (other.version, other.alias) == (versions["other"], None)
    assert other.run_id == client.get_model_version(MODEL, versions["other"]).run_id
    assert other.run_id != champion.run_id
    assert resolve(client, MODEL, int(versions["other"])) == other
    assert resolve(client, MODEL, "") == resolve(client, MODEL, None) == champion


def test_no_model_no_version_no_champion_fail_with_a_clear_message(versions) -> None:
    client = MlflowClient()
    with pytest.raises(ScoringError, match="there is no registered model 'nothing'"):
        resolve(client, "nothing")
    with pytest.raises(ScoringError, match=f"model '{MODEL}' has no version 99"):
        resolve(client, MODEL, "99")
    client.create_registered_model("untrained")
    with pytest.raises(ScoringError, match="model 'untrained' has no champion version yet"):
        resolve(client, "untrained")


@pytest.mark.parametrize(
    ("kind", "cell", "value"),
    [
        ("double", "1.5", 1.5),
        ("double", " -2 ", -2),
        ("double", "1e3", 1000.0),
        ("double", ".5", 0.5),
        ("double", "1_000", "1_000"),  # Python reads it, pandas does not
        ("double", "abc", "abc"),
        ("double", "", None),
        ("double", "  ", None),
        ("double", "NaN", None),
        ("long", "42", 42),
        ("long", "42.0", 42.0),  # an integral number: the check accepts it, as the API does
        ("long", "4.2", 4.2),  # the check refuses it
        ("boolean", "TRUE", True),
        ("boolean", "false", False),
        ("boolean", "1", "1"),
        ("string", " north ", " north "),
        ("string", "42", "42"),
        ("string", "null", None),
    ],
)
def test_a_cell_is_read_by_its_columns_type(kind: str, cell: str, value) -> None:
    parsed = parse(signature.Column("x", kind, required=True), cell)
    assert parsed == value
    assert type(parsed) is type(value)


class Picky(mlflow.pyfunc.PythonModel):
    """A model that cannot score a tenure of 13, as a model may refuse a value its signature
    allows."""

    def predict(self, context, model_input, params=None):
        if (model_input["tenure"] == 13).any():
            raise ValueError("tenure 13 is unlucky")
        return model_input["tenure"] * 2


@pytest.fixture(scope="module")
def picky(mlflow_store: str) -> ModelRef:
    frame = pd.DataFrame({"tenure": [1, 2]})
    with mlflow.start_run():
        mlflow.pyfunc.log_model(
            name="model",
            python_model=Picky(),
            signature=infer_signature(frame, frame.tenure * 2),
            registered_model_name="picky",
        )
    return resolve(MlflowClient(), "picky", "1")


def test_a_row_the_model_refuses_is_reported_alone(tmp_path, picky) -> None:
    outcome, predictions, rejected = score(tmp_path, picky, ["tenure", "1", "13", "2"])
    assert predictions[1:] == [["2", "2"], ["4", "4"]]
    assert rejected[1:] == [
        ["3", "", "prediction", "picky v1 could not score the row: tenure 13 is unlucky"]
    ]
    assert (outcome.scored, outcome.rejected) == (2, 1)


def test_a_model_that_scores_no_row_fails_the_file(tmp_path, picky) -> None:
    with pytest.raises(ScoringError, match="picky v1 could not score any row: tenure 13"):
        score(tmp_path, picky, ["tenure", "13", "13"])


def test_outputs_go_beside_the_dataset_in_a_folder_of_the_run_or_where_asked() -> None:
    run = "manual__2026-12-06T20:30:00.123456+00:00"
    assert output_uris("s3://data/in/customers.csv", "", run, "data") == {
        "predictions": f"s3://data/in/customers.scored/{RUN_KEY}/predictions.csv",
        "rejected": f"s3://data/in/customers.scored/{RUN_KEY}/rejected.csv",
        "summary": f"s3://data/in/customers.scored/{RUN_KEY}/summary.json",
    }
    assert output_uris("s3://data/in/customers.csv", None, run, "data") == output_uris(
        "s3://data/in/customers.csv", "", run, "data"
    )
    given = output_uris("s3://data/in/customers.CSV", "s3://data/scored/daily/", run, "data")
    assert given["summary"] == "s3://data/scored/daily/summary.json"
    with pytest.raises(DataValidationError, match="output 's3://out' is not an s3://bucket/key"):
        output_uris("s3://data/in/customers.csv", "s3://out", run, "data")
    with pytest.raises(ScoringError, match="would overwrite the dataset"):
        output_uris("s3://data/scored/x/predictions.csv", "s3://data/scored/x", run, "data")


RUN_KEY = "manual__2026-12-06T20-30-00.123456-00-00"


def test_the_writable_keys_are_the_outputs_beside_a_dataset_or_under_scored() -> None:
    """The rule the IAM policy and the replica's key share (tests/terraform checks they do)."""
    assert WRITABLE_KEYS == (
        "*.scored/*/predictions.csv",
        "*.scored/*/rejected.csv",
        "*.scored/*/summary.json",
        "scored/*/predictions.csv",
        "scored/*/rejected.csv",
        "scored/*/summary.json",
    )
    assert {key.rsplit("/", 1)[1] for key in WRITABLE_KEYS} == set(OUTPUT_FILES.values())


@pytest.mark.parametrize(
    ("bucket", "key", "allowed"),
    [
        ("data", "in/customers.scored/manual__1/predictions.csv", True),
        ("data", "customers.scored/r/summary.json", True),
        ("data", "uploads/ana/x.scored/a/b/rejected.csv", True),  # `*` spans `/`, as in IAM
        ("data", "scored/daily/predictions.csv", True),
        ("data", "scored/2026/12/06/summary.json", True),
        ("data", "in/x.scored/r/model.pkl", False),  # not an output of scoring
        ("data", "scored/predictions.csv", False),  # no folder of its own under scored/
        ("data", "in/customers.csv", False),
        ("data", "in/scored/r/predictions.csv", False),  # scored/ is a top-level prefix
        ("data", "in/customersscored/r/predictions.csv", False),
        ("data", "scored/../uploads/predictions.csv", False),  # a store might resolve `..`
        ("data", "scored/./x/predictions.csv", False),
        ("data", "scored//predictions.csv", False),
        ("other", "scored/daily/predictions.csv", False),  # the data bucket only
        ("dags", "x.scored/r/predictions.csv", False),
    ],
)
def test_airflow_may_write_only_where_the_policies_allow(bucket, key, allowed) -> None:
    assert writable(bucket, key, "data") is allowed


@pytest.mark.parametrize(
    ("dataset", "output", "message"),
    [
        # an output elsewhere in the data bucket, or in another bucket
        (
            "s3://data/in/customers.csv",
            "s3://data/results/today",
            r"output 's3://data/results/today' is not where Airflow may write: give an output "
            r"under s3://data/scored/<name> \(or none, to write beside a dataset of data",
        ),
        ("s3://data/in/customers.csv", "s3://data/scored", "is not where Airflow may write"),
        ("s3://data/in/customers.csv", "s3://other/scored/x", "is not where Airflow may write"),
        ("s3://data/in/customers.csv", "s3://data/scored/../x", "is not where Airflow may"),
        # beside a dataset that is not in the data bucket
        (
            "s3://dags/customers.csv",
            None,
            r"Airflow may not write beside the dataset s3://dags/customers.csv \(only in "
            r"<name>.scored/ folders of the data bucket data\): give an output under "
            r"s3://data/scored/<name>",
        ),
        ("s3://other/x/customers.csv", "", "may not write beside the dataset"),
    ],
)
def test_an_output_where_airflow_may_not_write_is_refused(dataset, output, message) -> None:
    with pytest.raises(ScoringError, match=message):
        output_uris(dataset, output, "manual__1", "data")


def test_a_dataset_elsewhere_may_be_scored_into_the_data_bucket() -> None:
    outputs = output_uris("s3://dags/customers.csv", "s3://data/scored/dags", "r", "data")
    assert outputs["predictions"] == "s3://data/scored/dags/predictions.csv"


def test_score_dataset_stores_three_outputs_and_returns_the_summary(tmp_path, champion) -> None:
    dataset = "s3://data/in/customers.csv"
    bucket = {dataset: "\n".join(LINES).encode()}

    def fetch(uri: str, path: Path) -> None:
        path.write_bytes(bucket[uri])

    def store(path: Path, uri: str) -> None:
        bucket[uri] = path.read_bytes()

    outputs = output_uris(dataset, "", "manual__1", "data")
    summary = score_dataset(dataset, champion, outputs, tmp_path, fetch, store, "manual__1")
    assert set(bucket) == {dataset, *outputs.values()}
    assert json.loads(bucket[outputs["summary"]]) == summary
    duration = summary.pop("duration_seconds")
    assert 0 < duration < 60
    assert summary == {
        "dataset": dataset,
        "model_name": MODEL,
        "model_version": champion.version,
        "model_alias": "champion",
        "model_run_id": champion.run_id,
        "dag_run_id": "manual__1",
        "rows": 12,
        "scored": 5,
        "rejected": 7,
        "problems": 8,
        "problems_by_field": {"tenure": 3, "monthly": 3, "vip": 1, "(row)": 1},
        "passed_through_columns": ["churned", "id"],
        "absent_optional_columns": [],
        "outputs": outputs,
    }
    scored = list(csv.reader(io.StringIO(bucket[outputs["predictions"]].decode())))
    assert [int(row[0]) for row in scored[1:]] == GOOD_LINES
    rejected = list(csv.reader(io.StringIO(bucket[outputs["rejected"]].decode())))
    assert len(rejected) == 1 + summary["problems"]


def test_a_model_without_a_signature_cannot_be_scored(mlflow_store: str) -> None:
    with mlflow.start_run():
        mlflow.pyfunc.log_model(
            name="model", python_model=Picky(), registered_model_name="unsigned"
        )
    with pytest.raises(ScoringError, match="unsigned v1 cannot be scored: the model has no sig"):
        resolve(MlflowClient(), "unsigned", 1)
