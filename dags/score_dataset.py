"""Score a CSV in the object store with a registered model; predictions go back beside it.

Parameters (all editable in the trigger form or the REST API's `conf`):

- `dataset`: s3://bucket/key of a CSV file with a header row; its columns are matched to the
  model's inputs by name, in any order;
- `model_name`: the registered model in MLflow;
- `version`: the model version to score with; empty for the `champion` (resolved once, at
  the start of the run: a promotion meanwhile does not change the version a run uses);
- `output`: s3://bucket/prefix to write the results under; empty for a folder of the run next
  to the dataset: `s3://bucket/path/name.csv` -> `s3://bucket/path/name.scored/<run id>/`.

Where a run may write: Airflow's hosts may put objects in the data bucket only
(`MLOPS_DATA_BUCKET` on the hosts), and there only the three outputs, in a
`<name>.scored/<folder>/` or under `scored/<folder>/`: an `output` must be
`s3://<data bucket>/scored/<name>`, and a dataset of another bucket needs one. Any other
`output` fails the run at once, before the model is even looked up: the Airflow hosts' IAM
roles on AWS, and the replica's object store key, allow nothing else.

Each row is checked with the model API's own checks of the model's signature: a missing,
null (where the signature does not make the input optional) or mistyped value rejects the row,
not the file. A cell is read by its column's type in the signature: empty (or `NA`, `null`,
... as pandas reads them) is null, a number column's cell a number, a boolean's true or false,
a string's the text; a cell that is no value of its type (`abc` for a number) is reported with
the API's message. The file's other columns (an id, the target, ...) are passed through. The
file is copied to the worker and read, checked and predicted 10,000 rows at a time, so memory
does not grow with the file.

Outputs, under the output folder:

- `predictions.csv`: `line` (the line the row starts on in the file; the header is line 1), the
  passed-through columns as they are in the file, `prediction`;
- `rejected.csv`: `line`, `field` (empty for the row as a whole), `type` (the API's error type;
  `row_shape`: more or fewer cells than the header; `prediction`: a row the model refused),
  `message`: every problem of every rejected row;
- `summary.json` (also the `score` task's XCom): dataset, model name, version, alias and run
  id, this run's id, rows, scored, rejected, problems (by field), the passed-through columns,
  the optional inputs absent from the file, the outputs' URIs, the duration.

A problem with the whole file fails the run at once, without retries and with a message that
names it: the dataset does not exist or is no UTF-8 CSV, no such model, version or champion,
a column the model requires is absent (named, with the file's columns), an output where
Airflow may not write.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

from mlops_training.tasks import (
    DATA_BUCKET,
    DEFAULT_DATASET,
    DEFAULT_MODEL,
    MODEL_NAME_PATTERN,
    S3_URI_PATTERN,
    download,
    fail_on_bad_data,
    upload,
    use_mlflow_connection,
)


@dag(
    dag_id="score_dataset",
    description="Score a CSV in the object store with a model version; write predictions, "
    "rejected rows and a summary beside it",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["mlops", "scoring"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=20)},
    params={
        "dataset": Param(
            DEFAULT_DATASET,
            type="string",
            pattern=S3_URI_PATTERN,
            description="s3://bucket/key of the CSV file to score, with a header row",
        ),
        "model_name": Param(
            DEFAULT_MODEL,
            type="string",
            pattern=MODEL_NAME_PATTERN,
            description="the registered model in MLflow",
        ),
        # null or "": the default (the trigger form sends null for a field left empty)
        "version": Param(
            None,
            type=["null", "string", "integer"],
            pattern=r"^([1-9][0-9]*)?$",
            minimum=1,
            description="the model version to score with; empty for the champion",
        ),
        "output": Param(
            None,
            type=["null", "string"],
            pattern=r"^(s3://\S+/\S+)?$",
            description="s3://bucket/prefix for predictions.csv, rejected.csv and "
            f"summary.json, under s3://{DATA_BUCKET}/scored/ (the only prefix Airflow may "
            "write to); empty for <dataset without .csv>.scored/<run id>/ beside the dataset, "
            f"which must then be in {DATA_BUCKET}",
        ),
    },
)
def score_dataset():
    @task
    @fail_on_bad_data
    def resolve_model(params: dict | None = None, run_id: str | None = None) -> dict:
        from mlflow import MlflowClient

        from mlops_training.scoring import output_uris, resolve

        # An output Airflow may not write to fails the run here, before any work.
        output_uris(params["dataset"], params["output"], run_id, DATA_BUCKET)
        use_mlflow_connection()
        ref = resolve(MlflowClient(), params["model_name"], params["version"])
        how = f"its {ref.alias}" if ref.alias else "as asked"
        print(f"scoring with {ref.label} ({how}), from MLflow run {ref.run_id}")
        return ref.to_dict()

    @task
    @fail_on_bad_data
    def score(model: dict, params: dict | None = None, run_id: str | None = None) -> dict:
        import tempfile
        from pathlib import Path

        from mlops_training.scoring import ModelRef, output_uris, score_dataset

        use_mlflow_connection()
        outputs = output_uris(params["dataset"], params["output"], run_id, DATA_BUCKET)
        with tempfile.TemporaryDirectory(prefix="score_dataset-") as workdir:
            summary = score_dataset(
                params["dataset"],
                ModelRef(**model),
                outputs,
                Path(workdir),
                fetch=download,
                store=upload,
                dag_run_id=run_id,
            )
        print(
            f"{summary['rows']} rows: {summary['scored']} scored, {summary['rejected']} "
            f"rejected ({summary['problems_by_field'] or 'no problem'}); {outputs}"
        )
        return summary

    score(resolve_model())


score_dataset()
