"""Build, search and score scikit-learn pipelines for a validated dataset."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import get_scorer, get_scorer_names
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlops_training.data import DatasetProfile, DataValidationError

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
# Scores reported for every run, besides the one that decides promotion.
REPORTED_METRICS = {
    "classification": ("accuracy", "f1_macro", "balanced_accuracy"),
    "regression": ("r2", "neg_root_mean_squared_error", "neg_mean_absolute_error"),
}


@dataclass(frozen=True)
class TrainingConfig:
    """The DAG parameters that shape training, checked before any work is done."""

    estimator: str = "random_forest"
    param_grid: dict | None = None
    promotion_metric: str = "f1_macro"
    test_size: float = 0.25
    random_seed: int = 42
    cv_folds: int = 3

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
    """Train/held-out split; the same seed and size always give the same held-out rows."""
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
    factory, _ = ESTIMATORS[config.estimator][profile.task]
    preprocess = ColumnTransformer(
        [
            ("numeric", StandardScaler(), profile.numeric_features),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), profile.categorical_features),
        ]
    )
    return Pipeline([("preprocess", preprocess), ("model", factory(config.random_seed))])


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
