"""MLflow reads against a real store holding versions trained by the training pipeline."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow import MlflowClient

from dashboard import forms, tracking
from tests.ml import train_version, wine

MODEL = "dash-wine"


@pytest.fixture(scope="module")
def trained(mlflow_store: str):
    """Two versions: the first becomes champion; the second, with a worse grid, does not."""
    first, _ = train_version(MODEL, dag_run_id="manual__first")
    second, decision = train_version(
        MODEL, dag_run_id="manual__second", estimator="random_forest",
        param_grid={"max_depth": [1], "n_estimators": [2]},
    )  # fmt: skip
    return first, second, decision


@pytest.fixture
def client(trained) -> MlflowClient:
    return tracking.client(MlflowClient().tracking_uri)


def test_experiments_by_name(client) -> None:
    experiments = tracking.experiments(client)
    assert MODEL in experiments
    assert experiments[MODEL] == client.get_experiment_by_name(MODEL).experiment_id


def test_runs_table_has_a_row_per_run_with_metrics_and_params(client, trained) -> None:
    first, second, _ = trained
    table = tracking.experiment_runs(client, tracking.experiments(client)[MODEL])
    assert table.frame["run_id"].tolist() == [second.run_id, first.run_id]  # newest first
    assert table.frame["run name"].tolist() == [f"{MODEL} manual__second", f"{MODEL} manual__first"]
    assert {"holdout_f1_macro", "holdout_score", "cv_best_score"} <= set(table.metrics)
    assert "estimator" in table.params
    row = table.frame.iloc[1]
    assert row["metrics.holdout_score"] == pytest.approx(first.score)
    assert row["params.estimator"] == "random_forest"
    assert row["status"] == "FINISHED"
    assert isinstance(row["start"], pd.Timestamp)
    assert row["duration (s)"] > 0


def test_metric_history(client, trained) -> None:
    first, _, _ = trained
    history = tracking.metric_history(client, first.run_id, "holdout_score")
    assert history.to_dict("records") == [{"step": 0, "holdout_score": first.score}]


def test_registered_models_show_versions_aliases_and_tags(client, trained) -> None:
    first, second, decision = trained
    model = next(m for m in tracking.registered_models(client) if m.name == MODEL)
    assert not decision.promoted
    assert model.champion == first.version
    versions = model.versions
    assert versions["version"].tolist() == [int(second.version), int(first.version)]
    champion = versions[versions["aliases"] == "champion"]
    assert champion["version"].tolist() == [int(first.version)]
    assert champion["run_id"].tolist() == [first.run_id]
    assert champion["airflow_dag_run_id"].tolist() == ["manual__first"]
    assert list(versions.columns) == [
        *("version", "aliases", "created", "status", "run_id"),
        *("holdout_score", "promotion_metric", "airflow_dag_run_id", "dataset", "target"),
        "promotion",
    ]
    assert "does not beat" in versions.iloc[0]["promotion"]


def test_the_prediction_form_from_a_real_model(trained) -> None:
    """The record schema the model API publishes for a model trained by the pipeline (made
    by the model API's own code), prefilled from the model's input example."""
    from model_api import schema

    first, _, _ = trained
    signature = tracking.mlflow.models.get_model_info(f"models:/{MODEL}/{first.version}").signature
    record = schema.record_schema(schema.columns_of(signature))
    example = forms.example_record(tracking.input_example(MODEL, first.version))
    fields = forms.prediction_fields(record, example)
    features = wine().drop(columns="cultivar")
    assert [field.name for field in fields] == features.columns.tolist()
    assert all(field.widget == "float" for field in fields)
    defaults = {field.name: field.default for field in fields}
    assert defaults in features.to_dict("records")  # a real row of the training data


def test_no_input_example_is_none(trained) -> None:
    assert tracking.input_example(MODEL, "999") is None
