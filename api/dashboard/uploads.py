"""A user's CSV file: read and described before it is stored, then stored in the data bucket
under the user's own prefix, where the training DAG reads it. No Streamlit in here.

The dashboard never reads the bucket back: it may only write under the upload prefix (the
app hosts' IAM role on AWS, a key of its own on the replica's object store).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError
from pandas.api import types

from dashboard.clients import ServiceError

PREVIEW_ROWS = 10
# Column names that say "this is what to predict", in order of preference.
TARGET_NAMES = ("target", "label", "class", "y")
# The training DAG's pattern for a registered model's name.
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][\w.-]{0,99}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadError(ValueError):
    """The file cannot be trained on as it is; the message says why."""


@dataclass(frozen=True)
class Upload:
    """A CSV file as uploaded: its name, its bytes (stored as they are) and its rows."""

    filename: str
    content: bytes
    frame: pd.DataFrame

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)


def read(filename: str, content: bytes, max_bytes: int) -> Upload:
    """Parse an uploaded file; UploadError when it is too large, not a CSV file, or has no
    row or no column besides a target."""
    if len(content) > max_bytes:
        raise UploadError(
            f"{filename} has {_size(len(content))}; files up to {_size(max_bytes)} are accepted"
        )
    if not content.strip():
        raise UploadError(f"{filename} is empty")
    try:
        frame = pd.read_csv(io.BytesIO(content))
        # The header row as written: pandas renames a repeated name to "name.1".
        header = pd.read_csv(io.BytesIO(content), header=None, nrows=1, dtype=str).iloc[0]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise UploadError(f"{filename} is not a readable CSV file: {error}") from error
    names = [str(name).strip() for name in header]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise UploadError(f"{filename} repeats column names: {', '.join(duplicated)}")
    frame.columns = names
    if len(frame.columns) < 2:
        raise UploadError(
            f"{filename} has {len(frame.columns)} column; training needs a target and at least "
            "one feature (is the file comma-separated, with a header row?)"
        )
    if frame.empty:
        raise UploadError(f"{filename} has a header row and no data")
    return Upload(filename, content, frame)


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MiB" if count >= 2**20 else f"{count / 2**10:.1f} KiB"


def kind(column: pd.Series) -> str:
    """How training will read a column: number, boolean or text (a category)."""
    if types.is_bool_dtype(column):
        return "boolean"
    if types.is_integer_dtype(column):
        return "integer"
    if types.is_numeric_dtype(column):
        return "number"
    return "text"


def describe(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per column: its inferred type, missing values and distinct values."""
    return pd.DataFrame(
        [
            {
                "column": name,
                "type": kind(frame[name]),
                "missing": int(frame[name].isna().sum()),
                "missing (%)": round(100 * float(frame[name].isna().mean()), 1),
                "distinct": int(frame[name].nunique()),
            }
            for name in frame.columns
        ]
    )


def default_target(columns: list[str]) -> str:
    """A column named like a target, else the last one (where most datasets keep it)."""
    by_name = {column.lower(): column for column in columns}
    return next((by_name[name] for name in TARGET_NAMES if name in by_name), columns[-1])


def model_name(filename: str) -> str:
    """A registered model's name from a file name ("Churn 2024.csv" -> "churn-2024")."""
    stem = re.sub(r"\.csv$", "", filename.strip(), flags=re.IGNORECASE)
    name = _UNSAFE.sub("-", stem).strip("-._").lower()[:100]
    return name if _MODEL_NAME.match(name) else "uploaded-model"


def check_model_name(name: str) -> str:
    """The name as the training DAG accepts it, or UploadError saying what it may hold."""
    if not _MODEL_NAME.match(name):
        raise UploadError(
            f"model name {name!r} must start with a letter or a digit and hold only letters, "
            "digits, '_', '-' and '.' (at most 100)"
        )
    return name


def user_prefix(prefix: str, user: str) -> str:
    """The key prefix of a user's files: <prefix>/<user>/, the name made safe for a key."""
    return f"{prefix.strip('/')}/{_UNSAFE.sub('_', user).strip('_') or 'user'}/"


def object_key(prefix: str, user: str, filename: str, now: datetime | None = None) -> str:
    """Where a user's file goes: <prefix>/<user>/<UTC time>-<file name>; never overwrites an
    earlier upload of the same name."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    safe_name = _UNSAFE.sub("_", filename).strip("_") or "upload.csv"
    return f"{user_prefix(prefix, user)}{stamp}-{safe_name}"


def store(client, bucket: str, key: str, content: bytes) -> str:
    """Write the file as it was uploaded; its s3:// URI. ServiceError when refused."""
    try:
        client.put_object(Bucket=bucket, Key=key, Body=content, ContentType="text/csv")
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        message = error.response.get("Error", {}).get("Message", "")
        raise ServiceError(
            f"The object store refused to store s3://{bucket}/{key}: {code} {message}".strip()
        ) from error
    except BotoCoreError as error:
        raise ServiceError(f"The object store cannot be reached: {error}") from error
    return f"s3://{bucket}/{key}"
