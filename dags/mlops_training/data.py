"""Read a CSV dataset and decide whether it is fit to train on."""

from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass, field

import pandas as pd
from pandas.api import types

TASKS = ("auto", "classification", "regression")
# An integer target with at most this many distinct values is taken as class labels.
MAX_INTEGER_CLASSES = 20
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>\S+)$")


class DataValidationError(ValueError):
    """The dataset cannot be trained on; the message says why, problem by problem."""


@dataclass(frozen=True)
class DatasetProfile:
    """What validation learnt about a dataset: what training needs to know."""

    rows: int
    target: str
    task: str
    numeric_features: list[str]
    categorical_features: list[str]
    class_counts: dict[str, int] = field(default_factory=dict)
    # Features with missing values: imputed by the pipeline, optional in the model's signature
    # (the model API accepts null for exactly these).
    optional_features: list[str] = field(default_factory=list)
    # Rows whose target is missing: left out of training and of the held-out rows.
    rows_without_target: int = 0

    @property
    def features(self) -> list[str]:
        return self.numeric_features + self.categorical_features

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DatasetProfile:
        return cls(**data)


def parse_s3_uri(uri: str, what: str = "dataset") -> tuple[str, str]:
    """Split s3://bucket/key into its parts, or say what is wrong with it (`what`: the name
    of the parameter it came from)."""
    match = _S3_URI.match(uri or "")
    if match is None:
        raise DataValidationError(f"{what} {uri!r} is not an s3://bucket/key URI")
    return match["bucket"], match["key"]


def read_csv(content: bytes, source: str) -> pd.DataFrame:
    """Parse CSV bytes; an unreadable or empty file is a validation error naming its source."""
    try:
        frame = pd.read_csv(io.BytesIO(content))
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataValidationError(f"{source} is not a readable CSV file: {error}") from error
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame


def infer_task(target: pd.Series, requested: str = "auto") -> str:
    """classification or regression: as requested, or from the target's values."""
    if requested not in TASKS:
        raise DataValidationError(f"task {requested!r} is not one of {', '.join(TASKS)}")
    if requested != "auto":
        return requested
    if types.is_float_dtype(target) or (
        types.is_integer_dtype(target) and target.nunique() > MAX_INTEGER_CLASSES
    ):
        return "regression"
    return "classification"


def validate(
    frame: pd.DataFrame,
    target: str,
    *,
    task: str = "auto",
    min_rows: int = 20,
    max_null_fraction: float = 0.5,
    min_class_fraction: float = 0.05,
) -> DatasetProfile:
    """Check schema, nulls and class balance; raise DataValidationError listing every problem.

    Missing values are data: a feature may miss up to `max_null_fraction` of its values (the
    pipeline imputes them); rows without a target are left out and counted."""
    if not 0 <= max_null_fraction <= 1:
        raise DataValidationError(f"max_null_fraction {max_null_fraction} must be from 0 to 1")
    if target not in frame.columns:
        raise DataValidationError(
            f"target column {target!r} is not in the dataset; its columns are: "
            + ", ".join(map(str, frame.columns))
        )
    features = [column for column in frame.columns if column != target]
    if not features:
        raise DataValidationError(f"the dataset has no feature column besides {target!r}")
    if frame.columns.duplicated().any():
        duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise DataValidationError(f"duplicated column names: {', '.join(duplicated)}")

    problems: list[str] = []
    target_nulls = int(frame[target].isna().sum())
    frame = labelled(frame, target)
    if len(frame) < min_rows:
        without = f" with a {target!r} value" if target_nulls else ""
        problems.append(f"{len(frame)} rows{without}, fewer than the {min_rows} required")
    optional = []
    for column in features:
        nulls = int(frame[column].isna().sum())
        if nulls:
            optional.append(column)
        if nulls and nulls / max(len(frame), 1) > max_null_fraction:
            problems.append(
                f"column {column!r} is empty in {nulls} of {len(frame)} rows "
                f"(more than max_null_fraction={max_null_fraction})"
            )
    numeric = [
        column
        for column in features
        if types.is_numeric_dtype(frame[column]) and not types.is_bool_dtype(frame[column])
    ]
    categorical = [c for c in features if c not in numeric]

    resolved_task = infer_task(frame[target].dropna(), task)
    class_counts: dict[str, int] = {}
    if resolved_task == "classification":
        counts = frame[target].dropna().astype(str).value_counts()
        class_counts = {str(label): int(count) for label, count in counts.items()}
        if len(counts) < 2:
            problems.append(f"target {target!r} has {len(counts)} class; at least 2 are needed")
        total = int(counts.sum())
        for label, count in class_counts.items():
            if total and count / total < min_class_fraction:
                problems.append(
                    f"class {label!r} has {count} of {total} rows "
                    f"(less than min_class_fraction={min_class_fraction})"
                )
            elif count < 2:
                problems.append(f"class {label!r} has a single row; each class needs 2")
    elif not types.is_numeric_dtype(frame[target]):
        problems.append(f"regression needs a numeric target; {target!r} is {frame[target].dtype}")

    if problems:
        raise DataValidationError("the dataset failed validation:\n- " + "\n- ".join(problems))
    return DatasetProfile(
        rows=len(frame),
        target=target,
        task=resolved_task,
        numeric_features=numeric,
        categorical_features=categorical,
        class_counts=class_counts,
        optional_features=optional,
        rows_without_target=target_nulls,
    )


def labelled(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """The rows that have a target value: the only ones a model can learn from or be scored on."""
    return frame[frame[target].notna()]
