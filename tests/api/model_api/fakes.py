"""An app built in-process around a fake champion: no MLflow, no uvicorn, no thread."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from model_api.champion import LoadedModel
from model_api.main import create_app
from model_api.schema import Column
from model_api.settings import Settings

API_KEY = "in-process-key-0123456789"
COLUMNS = [
    Column("alcohol", "double", True),
    Column("ratio", "float", True),
    Column("count", "long", True),
    Column("small", "integer", True),
    Column("organic", "boolean", True),
    Column("region", "string", True),
    Column("note", "string", False),
    Column("hue", "double", False),
]


class Predictor:
    """A pyfunc stand-in that remembers the frames it was given."""

    def __init__(self) -> None:
        self.frames: list[pd.DataFrame] = []

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        self.frames.append(frame)
        return pd.Series(["class_1"] * len(frame))


class Compiled:
    """A CompiledModel stand-in that takes the records with every input set."""

    def __init__(self, columns: list[Column]) -> None:
        self.names = [column.name for column in columns]
        self.batches: list[list[dict]] = []

    def accepts(self, records: list[dict]) -> bool:
        return all(record.get(name) is not None for record in records for name in self.names)

    def predict(self, records: list[dict]) -> list:
        self.batches.append(records)
        return ["fast"] * len(records)


def loaded_model(
    version: str = "3", columns: list[Column] = COLUMNS, fast: bool = False
) -> LoadedModel:
    return LoadedModel(
        name="fake",
        alias="champion",
        version=version,
        run_id="run-1",
        columns=columns,
        signature={"inputs": "[]", "outputs": None, "params": None},
        pyfunc=Predictor(),
        loaded_at=datetime(2026, 1, 1, tzinfo=UTC),
        load_seconds=0.5,
        compiled=Compiled(columns) if fast else None,
        serving_path_reason="checked" if fast else "no scikit-learn flavour (flavours: fake)",
    )


class FakeChampion:
    """What the routes read of a Champion; start/stop do nothing."""

    name = "fake"
    alias = "champion"
    loader = None
    untrained = False

    def __init__(self, current: LoadedModel | None = None, last_error: str | None = None):
        self.current = current
        self.last_error = last_error
        self.last_checked = datetime(2026, 1, 1, 12, tzinfo=UTC) if last_error else None
        self.wakes = 0
        self.moved_to: list[str | None] = []  # what each wake said
        self.prepared: list[str] = []
        self.can_prepare = True  # a loader with a directory the host's workers share
        self.stopped = False

    def wake(self, moved_to: str | None = None) -> None:
        self.wakes += 1
        self.moved_to.append(moved_to)

    def prepare_ahead(self, version: str) -> bool:
        if self.can_prepare:
            self.prepared.append(version)
        return self.can_prepare

    def start(self) -> None:
        pass

    def first_look(self, timeout: float) -> bool:
        return True

    def stop(self, wait: bool = True) -> None:
        self.stopped = True


def settings(**values) -> Settings:
    return Settings(model_name="fake", api_keys=[API_KEY], **values)


def unregistered(name: str, wake_file=None) -> FakeChampion:
    """Another model's champion, as when no model of that name is registered."""
    champion = FakeChampion(None, f"no model named {name} is registered yet: train one")
    champion.name, champion.untrained = name, True
    return champion


def app(model: LoadedModel | None = None, last_error: str | None = None, follow=None, **values):
    """The app serving `model`; other models' champions made by `follow` (none registered)."""
    return create_app(settings(**values), FakeChampion(model, last_error), follow or unregistered)


def record(**changes) -> dict:
    base = {
        "alcohol": 13.2,
        "ratio": 0.5,
        "count": 7,
        "small": -3,
        "organic": True,
        "region": "north",
        "note": "fine",
        "hue": 1.05,
    }
    return {key: value for key, value in {**base, **changes}.items() if value is not ...}
