from __future__ import annotations

import pytest
from sklearn.impute import SimpleImputer

from mlops_training.data import DataValidationError, validate
from mlops_training.model import (
    TrainingConfig,
    build_pipeline,
    promotion_metric,
    report,
    score,
    search,
    split,
)
from tests.ml import wine, with_gaps


@pytest.fixture(scope="module")
def profile():
    return validate(wine(), "cultivar")


def test_split_is_stratified_and_repeatable(profile) -> None:
    config = TrainingConfig()
    first = split(wine(), profile, config)
    second = split(wine(), profile, config)
    assert first[1].index.tolist() == second[1].index.tolist()
    assert len(first[1]) == 45
    assert set(first[3]) == {"class_0", "class_1", "class_2"}


def test_search_scores_with_the_promotion_metric(profile) -> None:
    config = TrainingConfig(estimator="linear", promotion_metric="balanced_accuracy")
    train_x, test_x, train_y, test_y = split(wine(), profile, config)
    searcher = search(profile, config, train_x, train_y)
    assert searcher.scoring == "balanced_accuracy"
    assert set(searcher.cv_results_["param_model__C"]) == {0.1, 1.0, 10.0}
    assert score(searcher.best_estimator_, "balanced_accuracy", test_x, test_y) > 0.9
    assert set(report(searcher.best_estimator_, "classification", test_x, test_y)) == {
        "accuracy",
        "f1_macro",
        "balanced_accuracy",
    }


def test_a_worse_grid_scores_worse(profile) -> None:
    good = TrainingConfig()
    bad = TrainingConfig(param_grid={"n_estimators": [1], "max_depth": [1]})
    train_x, test_x, train_y, test_y = split(wine(), profile, good)
    good_score = score(search(profile, good, train_x, train_y), "f1_macro", test_x, test_y)
    bad_score = score(search(profile, bad, train_x, train_y), "f1_macro", test_x, test_y)
    assert bad_score < good_score


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (TrainingConfig(estimator="xgboost"), "estimator 'xgboost' is not one of"),
        (TrainingConfig(promotion_metric="goodness"), "'goodness' is not a scikit-learn scorer"),
        (TrainingConfig(test_size=0.9), "test_size 0.9"),
        (TrainingConfig(param_grid={"depth": [3]}), "has no parameter 'depth'"),
        (TrainingConfig(param_grid={"max_depth": 3}), "'max_depth' needs a non-empty list"),
        (TrainingConfig(cv_folds=1), "cv_folds 1"),
        (TrainingConfig(numeric_imputation="zero"), "numeric_imputation 'zero' is not one of"),
        (TrainingConfig(categorical_imputation="mean"), "categorical_imputation 'mean' is not"),
    ],
)
def test_bad_configuration_is_refused(profile, config: TrainingConfig, message: str) -> None:
    with pytest.raises(DataValidationError, match=message):
        config.check(profile.task)


def imputers(pipeline) -> dict[str, str]:
    """The strategy of each kind of feature's imputer, by kind."""
    found = {}
    for kind, transformer, _ in pipeline.named_steps["preprocess"].transformers:
        steps = getattr(transformer, "steps", [(None, transformer)])
        found.update((kind, step.strategy) for _, step in steps if isinstance(step, SimpleImputer))
    return found


def test_complete_data_gets_no_imputer(profile) -> None:
    assert imputers(build_pipeline(profile, TrainingConfig())) == {}


@pytest.mark.parametrize("estimator", ["random_forest", "linear"])
def test_data_with_gaps_trains_and_predicts_rows_with_gaps(estimator: str) -> None:
    frame = with_gaps()
    gappy = validate(frame, "cultivar")
    config = TrainingConfig(estimator=estimator, categorical_imputation="constant")
    assert imputers(build_pipeline(gappy, config)) == {
        "numeric": "median",
        "categorical": "constant",
    }
    train_x, test_x, train_y, test_y = split(frame, gappy, config)
    assert len(train_x) + len(test_x) == 173  # the 5 rows without a target are left out
    assert test_x.alcohol.isna().any()
    assert test_x.region.isna().any()
    searcher = search(gappy, config, train_x, train_y)
    assert score(searcher.best_estimator_, "f1_macro", test_x, test_y) > 0.8


@pytest.mark.parametrize(
    ("requested", "task", "metric"),
    [
        ("auto", "classification", "f1_macro"),
        ("auto", "regression", "r2"),
        ("balanced_accuracy", "classification", "balanced_accuracy"),
        ("neg_mean_absolute_error", "regression", "neg_mean_absolute_error"),
    ],
)
def test_auto_promotion_metric_follows_the_task(requested: str, task: str, metric: str) -> None:
    assert promotion_metric(requested, task) == metric
