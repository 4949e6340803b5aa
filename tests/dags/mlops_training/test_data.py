from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_training.data import (
    DatasetProfile,
    DataValidationError,
    parse_s3_uri,
    read_csv,
    validate,
)
from tests.ml import wine


def test_wine_profile() -> None:
    profile = validate(wine(), "cultivar")
    assert profile.task == "classification"
    assert profile.rows == 178
    assert len(profile.numeric_features) == 13
    assert profile.categorical_features == []
    assert profile.class_counts == {"class_1": 71, "class_0": 59, "class_2": 48}
    assert DatasetProfile.from_dict(profile.to_dict()) == profile


def test_mixed_types_and_regression() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=60),
            "city": rng.choice(["lisbon", "porto"], size=60),
            "garden": rng.choice([True, False], size=60),
            "price": rng.normal(100, 10, size=60),
        }
    )
    profile = validate(frame, "price")
    assert profile.task == "regression"
    assert profile.numeric_features == ["size"]
    assert profile.categorical_features == ["city", "garden"]
    assert profile.class_counts == {}


def test_integer_target_with_few_values_is_classification() -> None:
    frame = pd.DataFrame({"x": range(40), "label": [0, 1] * 20})
    assert validate(frame, "label").task == "classification"
    assert validate(frame, "label", task="regression").task == "regression"


@pytest.mark.parametrize(
    ("mutate", "target", "message"),
    [
        (lambda f: f, "quality", "target column 'quality' is not in the dataset"),
        (lambda f: f[["cultivar"]], "cultivar", "no feature column"),
        (lambda f: f.head(10), "cultivar", "10 rows, fewer than the 20 required"),
        (
            lambda f: f.assign(alcohol=f.alcohol.mask(f.index < 120)),
            "cultivar",
            r"'alcohol' is empty in 120 of 178 rows \(more than max_null_fraction=0.5\)",
        ),
        (
            lambda f: f.assign(cultivar=f.cultivar.mask(f.index >= 15)),
            "cultivar",
            "15 rows with a 'cultivar' value, fewer than the 20 required",
        ),
        (lambda f: f.assign(cultivar="class_0"), "cultivar", "has 1 class"),
        (
            lambda f: pd.concat([f[f.cultivar != "class_2"], f[f.cultivar == "class_2"].head(3)]),
            "cultivar",
            "class 'class_2' has 3 of 133 rows",
        ),
    ],
)
def test_bad_data_is_refused_with_the_reason(mutate, target: str, message: str) -> None:
    with pytest.raises(DataValidationError, match=message):
        validate(mutate(wine()), target)


def test_every_problem_is_reported_at_once() -> None:
    frame = wine().head(12).assign(hue=np.nan)
    with pytest.raises(DataValidationError) as caught:
        validate(frame, "cultivar")
    text = str(caught.value)
    assert "12 rows" in text
    assert "'hue' is empty" in text


def test_missing_values_are_data() -> None:
    """Gaps in features are imputed later (optional features); rows without a target are left
    out and counted; numeric and categorical gaps alike."""
    frame = wine().assign(
        alcohol=lambda f: f.alcohol.mask(f.index % 4 == 0),
        region=lambda f: pd.Series(["north", "south", None] * 60)[: len(f)],
        cultivar=lambda f: f.cultivar.mask(f.index < 5),
    )
    profile = validate(frame, "cultivar")
    assert profile.optional_features == ["alcohol", "region"]
    assert profile.categorical_features == ["region"]
    assert profile.rows_without_target == 5
    assert profile.rows == 173
    assert sum(profile.class_counts.values()) == 173
    assert DatasetProfile.from_dict(profile.to_dict()) == profile


def test_the_largest_fraction_of_missing_values_is_a_setting() -> None:
    frame = wine().assign(alcohol=lambda f: f.alcohol.mask(f.index % 4 == 0))  # 45 of 178
    assert validate(frame, "cultivar", max_null_fraction=0.3).optional_features == ["alcohol"]
    with pytest.raises(DataValidationError, match="'alcohol' is empty in 45 of 178 rows"):
        validate(frame, "cultivar", max_null_fraction=0.2)
    with pytest.raises(DataValidationError, match=r"max_null_fraction 1\.5 must be from 0 to 1"):
        validate(frame, "cultivar", max_null_fraction=1.5)


def test_regression_needs_a_numeric_target() -> None:
    frame = pd.DataFrame({"x": range(30), "y": ["a", "b", "c"] * 10})
    with pytest.raises(DataValidationError, match="numeric target"):
        validate(frame, "y", task="regression")


def test_unknown_task() -> None:
    with pytest.raises(DataValidationError, match="task 'clustering'"):
        validate(wine(), "cultivar", task="clustering")


def test_read_csv() -> None:
    assert read_csv(b"a, b\n1,2\n", "s3://b/k.csv").columns.tolist() == ["a", "b"]
    with pytest.raises(DataValidationError, match=r"s3://b/empty\.csv is not a readable CSV"):
        read_csv(b"", "s3://b/empty.csv")
    with pytest.raises(DataValidationError, match="not a readable CSV"):
        read_csv(b'a,b\n1,2,3,4\n"x', "s3://b/broken.csv")


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("s3://mlops-data/demo/wine.csv", ("mlops-data", "demo/wine.csv")),
        ("s3://my.bucket/a/b/c.csv", ("my.bucket", "a/b/c.csv")),
    ],
)
def test_parse_s3_uri(uri: str, parts: tuple[str, str]) -> None:
    assert parse_s3_uri(uri) == parts


@pytest.mark.parametrize("uri", ["", "/data/x.csv", "s3://bucket", "s3://B/x", "http://h/b/k"])
def test_parse_s3_uri_refuses(uri: str) -> None:
    with pytest.raises(DataValidationError, match="is not an s3://bucket/key URI"):
        parse_s3_uri(uri)
