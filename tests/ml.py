"""Helpers for tests that need a real MLflow store and a real model trained by our pipeline."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlops_training import data, model, registry

REPO = Path(__file__).resolve().parents[1]

WINE = REPO / "datasets" / "wine.csv"


def wine() -> pd.DataFrame:
    return pd.read_csv(WINE)


def with_gaps() -> pd.DataFrame:
    """The demo data with a quarter of one numeric feature missing, a categorical feature with
    a third missing, and 5 rows without a target."""
    return wine().assign(
        alcohol=lambda f: f.alcohol.mask(f.index % 4 == 0),
        region=lambda f: pd.Series(["north", "south", None] * 60)[: len(f)],
        cultivar=lambda f: f.cultivar.mask(f.index < 5),
    )


def train_version(
    model_name: str,
    frame: pd.DataFrame | None = None,
    target: str = "cultivar",
    dag_run_id: str = "manual__test",
    **config,
) -> tuple[registry.TrainedVersion, registry.Decision]:
    """Run the pipeline's three steps in-process: validate, train+register, decide+apply."""
    from mlflow import MlflowClient

    frame = wine() if frame is None else frame
    profile = data.validate(frame, target)
    settings = model.TrainingConfig(**config)
    settings.check(profile.task)
    train_x, test_x, train_y, test_y = model.split(frame, profile, settings)
    searcher = model.search(profile, settings, train_x, train_y)
    trained = registry.log_and_register(
        searcher,
        model_name=model_name,
        experiment=model_name,
        profile=profile,
        config=settings,
        train=(train_x, train_y),
        holdout=(test_x, test_y),
        dataset=f"s3://tests/{model_name}.csv",
        dag_run_id=dag_run_id,
    )
    client = MlflowClient()
    decision = registry.decide(
        client,
        model_name=model_name,
        challenger=trained,
        profile=profile,
        config=settings,
        holdout=(test_x, test_y),
    )
    registry.apply(client, model_name, trained.version, decision)
    return trained, decision
