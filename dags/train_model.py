"""Train a model on a CSV in the object store, register it in MLflow, promote it if it wins.

Parameters (all editable in the trigger form or the REST API's `conf`):

- `dataset`: s3://bucket/key of a CSV file with a header row;
- `target`: the column to predict; every other column is a feature;
- `model_name`: the registered model in MLflow (the model API serves its `champion`);
- `promotion_metric`: a scikit-learn scorer name (higher is better, e.g. `f1_macro`, `r2`,
  `neg_root_mean_squared_error`), or `auto`: `f1_macro` for classification, `r2` for
  regression. The new version becomes `champion` only when it beats the
  current champion on the same held-out rows; the first version always wins, and so does a
  version trained on a new schema the champion cannot score;
- `task`, `estimator`, `param_grid`, `test_size`, `random_seed`: how to train;
- `max_null_fraction`: the largest share of a feature's values that may be missing (more
  fails validation); missing values are imputed (`numeric_imputation`,
  `categorical_imputation`), and rows without a target are left out and counted.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

from mlops_training.tasks import (
    DEFAULT_DATASET,
    DEFAULT_MODEL,
    MODEL_NAME_PATTERN,
    S3_URI_PATTERN,
    TRAINING_QUEUE,
    fail_on_bad_data,
    read_frame,
    use_mlflow_connection,
)


def _config(params: dict, task: str):
    from mlops_training.model import TrainingConfig, promotion_metric

    return TrainingConfig(
        estimator=params["estimator"],
        param_grid=params["param_grid"] or None,
        promotion_metric=promotion_metric(params["promotion_metric"], task),
        test_size=float(params["test_size"]),
        random_seed=int(params["random_seed"]),
        numeric_imputation=params["numeric_imputation"],
        categorical_imputation=params["categorical_imputation"],
    )


@dag(
    dag_id="train_model",
    description="Validate a CSV, train with a grid search, register in MLflow, promote the winner",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["mlops", "training"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=20)},
    params={
        "dataset": Param(
            DEFAULT_DATASET,
            type="string",
            pattern=S3_URI_PATTERN,
            description="s3://bucket/key of a CSV file with a header row",
        ),
        "target": Param(
            "cultivar",
            type="string",
            minLength=1,
            description="the column to predict; every other column is a feature",
        ),
        "model_name": Param(
            DEFAULT_MODEL,
            type="string",
            pattern=MODEL_NAME_PATTERN,
            description="the registered model in MLflow (the model API serves its champion)",
        ),
        "promotion_metric": Param(
            "auto",
            type="string",
            description="a scikit-learn scorer, higher is better (f1_macro, r2, "
            "neg_root_mean_squared_error, ...), or auto: f1_macro for classification, r2 for "
            "regression; the new version becomes champion if it wins",
        ),
        "task": Param(
            "auto",
            enum=["auto", "classification", "regression"],
            description="auto: classification or regression, as the target column says",
        ),
        "estimator": Param(
            "random_forest",
            enum=["random_forest", "linear"],
            description="a random forest, or a linear model (logistic or ridge regression)",
        ),
        "param_grid": Param(
            {},
            type="object",
            additionalProperties={"type": "array", "minItems": 1},
            description="each parameter of the estimator with the values to try, e.g. "
            '{"max_depth": [3, 6]}; {} for the default grid',
        ),
        "test_size": Param(
            0.25,
            type="number",
            minimum=0.05,
            maximum=0.5,
            description="the share of the rows held out to score the model",
        ),
        "random_seed": Param(
            42, type="integer", description="the seed of the split and of the estimator"
        ),
        "max_null_fraction": Param(
            0.5,
            type="number",
            minimum=0,
            maximum=1,
            description="the largest share of a feature's values that may be missing (they "
            "are imputed); a feature missing more fails validation",
        ),
        "numeric_imputation": Param(
            "median",
            enum=["median", "mean", "most_frequent"],
            description="how a numeric feature's missing values are filled in",
        ),
        "categorical_imputation": Param(
            "most_frequent",
            enum=["most_frequent", "constant"],
            description="how a categorical feature's missing values are filled in: its most "
            "frequent value, or a category of their own ('missing')",
        ),
    },
)
def train_model():
    @task
    @fail_on_bad_data
    def validate_dataset(params: dict | None = None) -> dict:
        from mlops_training.data import validate

        profile = validate(
            read_frame(params["dataset"]),
            params["target"],
            task=params["task"],
            max_null_fraction=float(params["max_null_fraction"]),
        )
        _config(params, profile.task).check(profile.task)
        print(
            f"{params['dataset']}: {profile.rows} rows, task {profile.task}, "
            f"features {profile.features}, classes {profile.class_counts}, "
            f"{profile.rows_without_target} rows without a target left out, features with "
            f"missing values (imputed): {profile.optional_features or 'none'}"
        )
        return profile.to_dict()

    # On the CeleryExecutor the grid search goes to the `training` queue, which a group of
    # bigger workers can take alone (airflow_celery_queues); LocalExecutor ignores queues.
    @task(queue=TRAINING_QUEUE)
    @fail_on_bad_data
    def train(profile: dict, params: dict | None = None, run_id: str | None = None) -> dict:
        from mlops_training.data import DatasetProfile
        from mlops_training.model import search, split
        from mlops_training.registry import log_and_register

        use_mlflow_connection()
        dataset_profile = DatasetProfile.from_dict(profile)
        config = _config(params, dataset_profile.task)
        train_x, test_x, train_y, test_y = split(
            read_frame(params["dataset"]), dataset_profile, config
        )
        searcher = search(dataset_profile, config, train_x, train_y)
        trained = log_and_register(
            searcher,
            model_name=params["model_name"],
            experiment=params["model_name"],
            profile=dataset_profile,
            config=config,
            train=(train_x, train_y),
            holdout=(test_x, test_y),
            dataset=params["dataset"],
            dag_run_id=run_id,
        )
        print(f"registered {params['model_name']} v{trained.version}: {trained.metrics}")
        return trained.to_dict()

    @task
    def promote(profile: dict, trained: dict, params: dict | None = None) -> dict:
        from mlflow import MlflowClient

        from mlops_training.data import DatasetProfile
        from mlops_training.model import split
        from mlops_training.registry import TrainedVersion, apply, decide

        use_mlflow_connection()
        dataset_profile = DatasetProfile.from_dict(profile)
        config = _config(params, dataset_profile.task)
        _, test_x, _, test_y = split(read_frame(params["dataset"]), dataset_profile, config)
        client = MlflowClient()
        challenger = TrainedVersion(**trained)
        decision = decide(
            client,
            model_name=params["model_name"],
            challenger=challenger,
            profile=dataset_profile,
            config=config,
            holdout=(test_x, test_y),
        )
        apply(client, params["model_name"], challenger.version, decision)
        print(
            f"v{challenger.version}: {'promoted' if decision.promoted else 'not promoted'}: "
            f"{decision.reason}"
        )
        return decision.to_dict()

    profile = validate_dataset()
    promote(profile, train(profile))


train_model()
