"""Build, search and score scikit-learn pipelines for a validated dataset."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import get_scorer, get_scorer_names
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlops_training.data import DatasetProfile, DataValidationError, labelled

# estimator name -> task -> (factory, default hyper-parameter grid)
ESTIMATORS = {
    "random_forest": {
        "classification": (
            lambda seed: RandomForestClassifier(random_state=seed, n_jobs=1),
            {"n_estimators": [50, 150], "max_depth": [None, 6]},
        ),
        "regression": (
            lambda seed: RandomForestRegressor(random_state=seed, n_jobs=1),
            {"n_estimators": [50, 150], "max_depth": [None, 6]},
        ),
    },
    "linear": {
        "classification": (
            lambda seed: LogisticRegression(max_iter=2000, random_state=seed),
            {"C": [0.1, 1.0, 10.0]},
        ),
        "regression": (lambda seed: Ridge(random_state=seed), {"alpha": [0.1, 1.0, 10.0]}),
    },
}
# How missing values are filled in (scikit-learn's SimpleImputer strategies), by feature kind;
# "constant" fills a category of its own, MISSING_CATEGORY.
NUMERIC_IMPUTATION = ("median", "mean", "most_frequent")
CATEGORICAL_IMPUTATION = ("most_frequent", "constant")
MISSING_CATEGORY = "missing"
# What promotion_metric "auto" stands for, by task.
AUTO_METRICS = {"classification": "f1_macro", "regression": "r2"}
# Scores reported for every run, besides the one that decides promotion.
REPORTED_METRICS = {
    "classification": ("accuracy", "f1_macro", "balanced_accuracy"),
    "regression": ("r2", "neg_root_mean_squared_error", "neg_mean_absolute_error"),
}


def promotion_metric(requested: str, task: str) -> str:
    """The scorer that decides promotion: as requested, or for "auto" the task's usual one."""
    return AUTO_METRICS[task] if requested == "auto" else requested


@dataclass(frozen=True)
class TrainingConfig:
    """The DAG parameters that shape training, checked before any work is done."""

    estimator: str = "random_forest"
    param_grid: dict | None = None
    promotion_metric: str = "f1_macro"
    test_size: float = 0.25
    random_seed: int = 42
    cv_folds: int = 3
    numeric_imputation: str = "median"
    categorical_imputation: str = "most_frequent"

    def check(self, task: str) -> None:
        if self.estimator not in ESTIMATORS:
            raise DataValidationError(
                f"estimator {self.estimator!r} is not one of {', '.join(ESTIMATORS)}"
            )
        if self.promotion_metric not in get_scorer_names():
            raise DataValidationError(
                f"promotion_metric {self.promotion_metric!r} is not a scikit-learn scorer name "
                "(e.g. f1_macro, accuracy, roc_auc, r2, neg_root_mean_squared_error)"
            )
        if not 0.05 <= self.test_size <= 0.5:
            raise DataValidationError(f"test_size {self.test_size} must be between 0.05 and 0.5")
        if self.cv_folds < 2:
            raise DataValidationError(f"cv_folds {self.cv_folds} must be at least 2")
        for kind, value, allowed in (
            ("numeric", self.numeric_imputation, NUMERIC_IMPUTATION),
            ("categorical", self.categorical_imputation, CATEGORICAL_IMPUTATION),
        ):
            if value not in allowed:
                raise DataValidationError(
                    f"{kind}_imputation {value!r} is not one of {', '.join(allowed)}"
                )
        factory, _ = ESTIMATORS[self.estimator][task]
        known = factory(self.random_seed).get_params()
        for name, values in self.grid(task).items():
            if name not in known:
                raise DataValidationError(
                    f"param_grid: {self.estimator} for {task} has no parameter {name!r}; "
                    f"it has: {', '.join(sorted(known))}"
                )
            if not isinstance(values, list) or not values:
                raise DataValidationError(f"param_grid: {name!r} needs a non-empty list of values")

    def grid(self, task: str) -> dict:
        return self.param_grid or ESTIMATORS[self.estimator][task][1]


def split(frame: pd.DataFrame, profile: DatasetProfile, config: TrainingConfig):
    """Train/held-out split of the rows that have a target; the same seed and size always give
    the same held-out rows."""
    frame = labelled(frame, profile.target)
    features = frame[profile.features]
    target = frame[profile.target]
    if profile.task == "classification":
        target = target.astype(str)
    return train_test_split(
        features,
        target,
        test_size=config.test_size,
        random_state=config.random_seed,
        stratify=target if profile.task == "classification" else None,
    )


def build_pipeline(profile: DatasetProfile, config: TrainingConfig) -> Pipeline:
    """Scaling and one-hot encoding, then the estimator. A kind of feature (numeric,
    categorical) with missing values in the data is imputed first; one without has no imputer,
    so that the pipeline of complete data stays as simple as it was (and converts to ONNX)."""
    factory, _ = ESTIMATORS[config.estimator][profile.task]
    missing = set(profile.optional_features)
    numeric: list = [StandardScaler()]
    categorical: list = [OneHotEncoder(handle_unknown="ignore")]
    if missing & set(profile.numeric_features):
        numeric.insert(0, SimpleImputer(strategy=config.numeric_imputation))
    if missing & set(profile.categorical_features):
        fill = MISSING_CATEGORY if config.categorical_imputation == "constant" else None
        imputer = SimpleImputer(strategy=config.categorical_imputation, fill_value=fill)
        categorical.insert(0, imputer)
    preprocess = ColumnTransformer(
        [
            ("numeric", _steps(numeric), profile.numeric_features),
            ("categorical", _steps(categorical), profile.categorical_features),
        ]
    )
    return Pipeline([("preprocess", preprocess), ("model", factory(config.random_seed))])


def _steps(steps: list):
    """One transformer as itself, several as a pipeline."""
    return steps[0] if len(steps) == 1 else make_pipeline(*steps)


def search(
    profile: DatasetProfile, config: TrainingConfig, features: pd.DataFrame, target: pd.Series
) -> GridSearchCV:
    """Grid search over the configured hyper-parameters, scored by the promotion metric."""
    grid = {f"model__{name}": values for name, values in config.grid(profile.task).items()}
    searcher = GridSearchCV(
        build_pipeline(profile, config),
        grid,
        scoring=config.promotion_metric,
        cv=config.cv_folds,
        n_jobs=1,
        error_score="raise",
    )
    return searcher.fit(features, target)


def score(model, metric: str, features: pd.DataFrame, target: pd.Series) -> float:
    """A scikit-learn scorer's value: higher is better for every scorer name."""
    return float(get_scorer(metric)(model, features, target))


def report(model, task: str, features: pd.DataFrame, target: pd.Series) -> dict[str, float]:
    return {name: score(model, name, features, target) for name in REPORTED_METRICS[task]}
