"""Logging, registration and promotion against a real MLflow store (SQLite + local files)."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from mlops_training.registry import CHAMPION_ALIAS, current_champion
from tests.ml import train_version, wine, with_gaps


@pytest.fixture(autouse=True)
def _store(mlflow_store: str) -> None:
    """Every test here talks to the module's MLflow store."""


def test_first_version_becomes_champion_with_lineage() -> None:
    trained, decision = train_version("first", dag_run_id="manual__2026-11-27")
    assert decision.promoted
    assert "first version" in decision.reason
    client = MlflowClient()
    version = client.get_model_version_by_alias("first", CHAMPION_ALIAS)
    assert str(version.version) == trained.version
    assert version.tags["airflow_dag_run_id"] == "manual__2026-11-27"
    assert version.tags["target"] == "cultivar"
    assert version.tags["promotion"] == decision.reason
    run = client.get_run(trained.run_id)
    assert run.data.params["estimator"] == "random_forest"
    assert run.data.metrics["holdout_score"] == trained.score
    assert {"holdout_accuracy", "holdout_f1_macro", "cv_best_score"} <= set(run.data.metrics)


def test_model_carries_signature_and_input_example() -> None:
    train_version("signed")
    info = mlflow.models.get_model_info(f"models:/signed@{CHAMPION_ALIAS}")
    assert info.signature.inputs.input_names() == wine().columns.drop("cultivar").tolist()
    assert info.saved_input_example_info is not None
    loaded = mlflow.pyfunc.load_model(f"models:/signed@{CHAMPION_ALIAS}")
    predictions = loaded.predict(wine().drop(columns="cultivar").head(3))
    assert set(predictions) <= {"class_0", "class_1", "class_2"}


def test_worse_configuration_leaves_the_champion() -> None:
    first, _ = train_version("kept")
    worse, decision = train_version("kept", param_grid={"n_estimators": [1], "max_depth": [1]})
    assert not decision.promoted
    assert "champion kept" in decision.reason
    assert decision.champion_version == first.version
    assert worse.score < decision.champion_score
    champion = current_champion(MlflowClient(), "kept")
    assert str(champion.version) == first.version


def test_better_version_replaces_the_champion() -> None:
    weak, _ = train_version("improved", param_grid={"n_estimators": [1], "max_depth": [1]})
    strong, decision = train_version("improved")
    assert decision.promoted, decision.reason
    assert decision.champion_version == weak.version
    assert "beats champion" in decision.reason
    assert str(current_champion(MlflowClient(), "improved").version) == strong.version


def test_new_schema_replaces_a_champion_it_cannot_score() -> None:
    train_version("reshaped")
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "tenure": rng.integers(1, 60, 200),
            "plan": rng.choice(["basic", "pro"], 200),
            "churned": rng.choice(["yes", "no"], 200),
        }
    )
    trained, decision = train_version("reshaped", frame=frame, target="churned")
    assert decision.promoted
    assert "another schema" in decision.reason
    info = mlflow.models.get_model_info(f"models:/reshaped@{CHAMPION_ALIAS}")
    assert info.signature.inputs.input_names() == ["tenure", "plan"]
    assert str(current_champion(MlflowClient(), "reshaped").version) == trained.version


def test_no_champion_for_an_unknown_model() -> None:
    assert current_champion(MlflowClient(), "never-trained") is None


def test_features_with_gaps_are_optional_in_the_signature() -> None:
    trained, _ = train_version("gappy", frame=with_gaps(), categorical_imputation="constant")
    info = mlflow.models.get_model_info(f"models:/gappy@{CHAMPION_ALIAS}")
    optional = {spec.name for spec in info.signature.inputs.inputs if not spec.required}
    assert optional == {"alcohol", "region"}
    params = MlflowClient().get_run(trained.run_id).data.params
    assert params["rows_without_target"] == "5"
    assert params["features_with_missing_values"] == "alcohol, region"
    assert params["categorical_imputation"] == "constant"
    record = with_gaps().drop(columns="cultivar").head(1).assign(alcohol=None, region=None)
    loaded = mlflow.pyfunc.load_model(f"models:/gappy@{CHAMPION_ALIAS}")
    assert loaded.predict(record)[0] in {"class_0", "class_1", "class_2"}


def test_a_champion_that_cannot_score_rows_with_gaps_is_replaced() -> None:
    champion, _ = train_version("imputed-later", estimator="linear")
    gaps = wine().assign(alcohol=lambda f: f.alcohol.mask(f.index % 4 == 0))
    _, decision = train_version("imputed-later", frame=gaps, estimator="linear")
    assert decision.promoted
    assert f"champion v{champion.version} cannot score the held-out rows" in decision.reason
    assert "NaN" in decision.reason
