"""Helpers for tests that need a real MLflow store and a real model trained by our pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def churn(rows: int = 240, seed: int = 7) -> pd.DataFrame:
    """A user's dataset of another schema, with the gaps real data has: missing numbers
    (support_tickets) and categories (plan), and a few rows without a target (churned)."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows)
    plan = rng.choice(["basic", "pro", "team"], rows)
    tickets = rng.poisson(2, rows)
    churned = np.where(tenure < 12 + 6 * (plan == "basic") - tickets, "yes", "no")
    frame = pd.DataFrame(
        {"tenure_months": tenure, "plan": plan, "support_tickets": tickets, "churned": churned}
    )
    return frame.assign(
        support_tickets=frame.support_tickets.mask(frame.index % 5 == 0),
        plan=frame.plan.mask(frame.index % 7 == 0),
        churned=frame.churned.mask(frame.index % 40 == 1),
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
