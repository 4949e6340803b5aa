"""Log a trained pipeline to MLflow, register it, and move the champion alias when it wins."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import mlflow
import mlflow.sklearn
import pandas as pd
import skops.io
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from mlops_training.data import DatasetProfile
from mlops_training.model import TrainingConfig, report, score

CHAMPION_ALIAS = "champion"
INPUT_EXAMPLE_ROWS = 3
# Held-out rows logged with the run: the model API checks its compiled fast path against
# pyfunc on them before serving through it (api/model_api/compiled.py reads this path).
HOLDOUT_ARTIFACT = "model_checks/holdout.json"
HOLDOUT_SAMPLE_ROWS = 500


@dataclass(frozen=True)
class TrainedVersion:
    run_id: str
    version: str
    score: float
    metrics: dict[str, float]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    promoted: bool
    reason: str
    champion_version: str | None
    champion_score: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def log_and_register(
    searcher,
    *,
    model_name: str,
    experiment: str,
    profile: DatasetProfile,
    config: TrainingConfig,
    train: tuple[pd.DataFrame, pd.Series],
    holdout: tuple[pd.DataFrame, pd.Series],
    dataset: str,
    dag_run_id: str,
) -> TrainedVersion:
    """One MLflow run with params, metrics and the model; a new registered version of it."""
    best = searcher.best_estimator_
    holdout_features, holdout_target = holdout
    reported = report(best, profile.task, holdout_features, holdout_target)
    metrics = {f"holdout_{name}": value for name, value in reported.items()}
    holdout_score = score(best, config.promotion_metric, holdout_features, holdout_target)
    metrics["holdout_score"] = holdout_score
    metrics["cv_best_score"] = float(searcher.best_score_)

    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=f"{model_name} {dag_run_id}") as run:
        mlflow.set_tags({"airflow_dag_run_id": dag_run_id, "dataset": dataset})
        mlflow.log_params(
            {
                "dataset": dataset,
                "target": profile.target,
                "task": profile.task,
                "rows": profile.rows,
                "rows_without_target": profile.rows_without_target,
                "features_with_missing_values": ", ".join(profile.optional_features) or "none",
                "numeric_imputation": config.numeric_imputation,
                "categorical_imputation": config.categorical_imputation,
                "estimator": config.estimator,
                "promotion_metric": config.promotion_metric,
                "test_size": config.test_size,
                "random_seed": config.random_seed,
                "cv_folds": config.cv_folds,
                **{
                    f"best_{name.removeprefix('model__')}": value
                    for name, value in searcher.best_params_.items()
                },
            }
        )
        mlflow.log_metrics(metrics)
        mlflow.log_text(
            holdout_features.head(HOLDOUT_SAMPLE_ROWS).to_json(orient="split", index=False),
            HOLDOUT_ARTIFACT,
        )
        # inferred from every row trained or scored on: a feature with a missing value in any
        # of them is optional (MLflow marks it so), and the model API accepts null for it
        every_row = pd.concat([train[0], holdout_features])
        signature = infer_signature(every_row, best.predict(holdout_features))
        info = mlflow.sklearn.log_model(
            best,
            name="model",
            signature=signature,
            input_example=_example(train[0]),
            registered_model_name=model_name,
            # Our own freshly trained pipeline: trust exactly the types it is made of.
            skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(best)),
        )
    version = str(info.registered_model_version)
    client = MlflowClient()
    for key, value in {
        "airflow_dag_run_id": dag_run_id,
        "dataset": dataset,
        "target": profile.target,
        "promotion_metric": config.promotion_metric,
        "holdout_score": f"{holdout_score:.6f}",
    }.items():
        client.set_model_version_tag(model_name, version, key, value)
    return TrainedVersion(run.info.run_id, version, holdout_score, metrics)


def _example(features: pd.DataFrame) -> pd.DataFrame:
    """The input example: complete rows where there are enough (the model API checks its fast
    path on them, and it serves only records without a null through it)."""
    complete = features.dropna()
    return (complete if len(complete) >= INPUT_EXAMPLE_ROWS else features).head(INPUT_EXAMPLE_ROWS)


def current_champion(client: MlflowClient, model_name: str):
    try:
        return client.get_model_version_by_alias(model_name, CHAMPION_ALIAS)
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def decide(
    client: MlflowClient,
    *,
    model_name: str,
    challenger: TrainedVersion,
    profile: DatasetProfile,
    config: TrainingConfig,
    holdout: tuple[pd.DataFrame, pd.Series],
) -> Decision:
    """Score the champion on the challenger's held-out data; the challenger must beat it."""
    champion = current_champion(client, model_name)
    if champion is None:
        return Decision(True, "first version of the model: no champion yet", None, None)
    champion_version = str(champion.version)
    if champion_version == challenger.version:
        return Decision(False, "this version is already the champion", champion_version, None)
    uri = f"models:/{model_name}/{champion_version}"
    inputs = mlflow.models.get_model_info(uri).signature.inputs.input_names()
    champion_target = champion.tags.get("target")
    if sorted(inputs) != sorted(profile.features) or champion_target != profile.target:
        return Decision(
            True,
            f"champion v{champion_version} was trained on another schema "
            f"(target {champion_target!r}, {len(inputs)} inputs): it cannot be scored on "
            "this dataset, so the new version replaces it",
            champion_version,
            None,
        )
    try:
        champion_score = score(mlflow.sklearn.load_model(uri), config.promotion_metric, *holdout)
    except ValueError as error:  # e.g. a champion without imputers, and rows with gaps
        return Decision(
            True,
            f"champion v{champion_version} cannot score the held-out rows ({error}): the new "
            "version replaces it",
            champion_version,
            None,
        )
    if challenger.score > champion_score:
        reason = (
            f"{config.promotion_metric} {challenger.score:.4f} beats champion "
            f"v{champion_version}'s {champion_score:.4f} on the same held-out rows"
        )
        return Decision(True, reason, champion_version, champion_score)
    reason = (
        f"{config.promotion_metric} {challenger.score:.4f} does not beat champion "
        f"v{champion_version}'s {champion_score:.4f}: champion kept"
    )
    return Decision(False, reason, champion_version, champion_score)


def apply(client: MlflowClient, model_name: str, version: str, decision: Decision) -> None:
    """Record the decision on the version and move the alias when it was promoted."""
    client.set_model_version_tag(model_name, version, "promotion", decision.reason)
    if decision.promoted:
        client.set_registered_model_alias(model_name, CHAMPION_ALIAS, version)
