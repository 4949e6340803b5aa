"""The fast path: served only where ONNX Runtime predicts exactly what pyfunc predicts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import mlflow
import mlflow.pyfunc
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from mlops_training import registry
from model_api import champion, compiled, schema
from tests.api.model_api import fakes
from tests.ml import REPO, train_version, wine

FEATURES = wine().drop(columns="cultivar")


@pytest.fixture(scope="module")
def wine_version(mlflow_store):
    trained, _ = train_version("compiled-wine")
    return trained


@pytest.fixture(scope="module")
def loaded(wine_version) -> champion.LoadedModel:
    return champion.load("compiled-wine", "champion", wine_version.version, wine_version.run_id)


def test_the_dags_model_is_served_through_onnx(loaded) -> None:
    assert loaded.serving_path == "onnx"
    assert "ONNX Runtime predicts what pyfunc predicts" in loaded.serving_path_reason
    assert loaded.describe()["serving_path"] == "onnx"


def test_onnx_predicts_what_pyfunc_predicts_on_every_row(loaded) -> None:
    records = compiled.records_of(FEATURES)
    expected = schema.jsonable(loaded.pyfunc.predict(schema.frame(records, loaded.columns)))
    assert loaded.compiled.predict(records) == expected
    assert loaded.compiled.predict(records[:1]) == expected[:1]


def test_the_held_out_sample_is_logged_where_the_api_reads_it(wine_version) -> None:
    assert registry.HOLDOUT_ARTIFACT == compiled.HOLDOUT_ARTIFACT
    path = mlflow.artifacts.download_artifacts(
        run_id=wine_version.run_id, artifact_path=compiled.HOLDOUT_ARTIFACT
    )
    holdout = compiled.read_holdout(path)
    assert len(holdout) == 45  # wine's 178 rows, test_size 0.25
    assert set(holdout[0]) == set(FEATURES.columns)


def test_records_with_a_null_go_through_pyfunc(loaded) -> None:
    record = compiled.records_of(FEATURES.head(1))[0]
    assert loaded.compiled.accepts([record])
    assert not loaded.compiled.accepts([record, {**record, "hue": None}])
    assert not loaded.compiled.accepts([{k: v for k, v in record.items() if k != "hue"}])


class Disagreeing:
    """The real pyfunc, except that its predictions differ from the raw model's on one row."""

    def __init__(self, real) -> None:
        self.real = real
        self.metadata = real.metadata

    def get_raw_model(self):
        return self.real.get_raw_model()

    def predict(self, frame):
        predictions = self.real.predict(frame).copy()
        predictions[-1] = "class_9"
        return predictions


def test_a_model_whose_onnx_predictions_differ_is_refused(loaded, wine_version) -> None:
    example = compiled.records_of(FEATURES.head(3))
    holdout = compiled.records_of(FEATURES.tail(20))
    differs = r"predicts '.*' where pyfunc predicts 'class_9'"
    with pytest.raises(compiled.NotCompiled, match=differs):
        compiled.compile_model(Disagreeing(loaded.pyfunc), loaded.columns, example, holdout)
    # the same model, agreeing, compiles: the refusal above is the difference
    assert compiled.compile_model(loaded.pyfunc, loaded.columns, example, holdout)


def test_without_a_held_out_sample_pyfunc_serves(loaded) -> None:
    example = compiled.records_of(FEATURES.head(3))
    with pytest.raises(compiled.NotCompiled, match="no held-out sample"):
        compiled.compile_model(loaded.pyfunc, loaded.columns, example, [])


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return model_input["alcohol"] * 2


def test_a_custom_pyfunc_is_served_through_pyfunc(mlflow_store) -> None:
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=Doubler(),
            input_example=FEATURES.head(3),
            registered_model_name="compiled-custom",
        )
    served = champion.load(
        "compiled-custom", "champion", str(info.registered_model_version), run.info.run_id
    )
    assert served.serving_path == "pyfunc"
    assert served.serving_path_reason.startswith("no scikit-learn flavour")


def test_the_fast_path_can_be_turned_off(wine_version) -> None:
    served = champion.load(
        "compiled-wine", "champion", wine_version.version, wine_version.run_id, fast_path=False
    )
    assert served.serving_path == "pyfunc"
    assert "MODEL_API_FAST_PATH=false" in served.serving_path_reason


def test_a_model_with_another_predict_function_is_refused(loaded) -> None:
    class ProbaFlavour(Disagreeing):
        def __init__(self, real) -> None:
            super().__init__(real)
            flavors = {**real.metadata.flavors}
            pyfunc_conf = {**flavors["python_function"], "predict_fn": "predict_proba"}
            flavors["python_function"] = pyfunc_conf
            self.metadata = type("Meta", (), {"flavors": flavors})()

    with pytest.raises(compiled.NotCompiled, match="pyfunc calls predict_proba"):
        compiled.compile_model(ProbaFlavour(loaded.pyfunc), loaded.columns, [{}], [{}])


@pytest.fixture
def loader():
    loader = champion.Loader()
    yield loader
    loader.stop()


def test_the_loader_process_serves_what_an_in_process_load_serves(
    loader, wine_version, loaded
) -> None:
    assert loader._executor().submit(os.getpid).result() != os.getpid()  # another process
    served = loader.load("compiled-wine", "champion", wine_version.version, wine_version.run_id)
    assert (served.serving_path, served.serving_path_reason) == (
        loaded.serving_path,
        loaded.serving_path_reason,
    )
    records = compiled.records_of(FEATURES)
    assert served.compiled.predict(records) == loaded.compiled.predict(records)
    # its size in the cache of other models: the same files and ONNX bytes either way
    assert served.size_bytes == loaded.size_bytes > len(loaded.compiled.onnx) > 0
    frame = schema.frame(records, served.columns)
    assert served.pyfunc.predict(frame).tolist() == loaded.pyfunc.predict(frame).tolist()


def test_a_dead_loader_process_fails_its_load_and_the_next_load_starts_anew(
    loader, wine_version
) -> None:
    os.kill(loader._executor().submit(os.getpid).result(), signal.SIGKILL)
    with pytest.raises(RuntimeError, match="the loader process died"):
        loader.load("compiled-wine", "champion", wine_version.version, wine_version.run_id)
    served = loader.load("compiled-wine", "champion", wine_version.version, wine_version.run_id)
    assert served.serving_path == "onnx"


def test_a_loader_process_exits_with_the_worker_that_started_it() -> None:
    """A worker killed outright cannot stop its loader process: the loader sees its parent go
    and exits by itself (else it lives on, and systemd waits for it on every stop)."""
    worker = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; from model_api import champion; loader = champion.Loader(); "
            "print(loader._executor().submit(os.getpid).result(), flush=True); os._exit(0)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO / "api")},
        check=True,
    )
    loader_pid = int(worker.stdout.split()[-1])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{loader_pid}").exists():
        time.sleep(0.1)
    assert not Path(f"/proc/{loader_pid}").exists(), "the loader process outlived its worker"


def test_a_version_is_prepared_once_per_host(tmp_path, wine_version, loaded) -> None:
    """Two workers' loaders sharing MODEL_API_LOAD_DIR: the second loads what the first
    prepared, without preparing it again, and serves the same."""
    first, second = champion.Loader(tmp_path), champion.Loader(tmp_path)

    def prepared_twice(*args):
        raise AssertionError("the second worker prepared the version again")

    second._prepare = prepared_twice
    try:
        served = first.load("compiled-wine", "champion", wine_version.version, wine_version.run_id)
        again = second.load("compiled-wine", "champion", wine_version.version, wine_version.run_id)
    finally:
        first.stop()
        second.stop()
    assert (again.serving_path, again.serving_path_reason) == (
        served.serving_path,
        served.serving_path_reason,
    )
    records = compiled.records_of(FEATURES)
    assert again.compiled.predict(records) == loaded.compiled.predict(records)
    slots = [path.name for path in tmp_path.iterdir() if path.is_dir()]
    assert slots == [f"compiled-wine@v{wine_version.version}-{champion._fingerprint(True)}"]


def test_older_prepared_versions_and_dead_preparations_are_removed(tmp_path, wine_version) -> None:
    fingerprint = champion._fingerprint(True)
    slot = tmp_path / f"compiled-wine@v{wine_version.version}-{fingerprint}"
    dead = tmp_path / f".{slot.name}.preparing-x"  # a worker killed while preparing it
    older = [tmp_path / f"compiled-wine@v{n}0-{fingerprint}" for n in range(3)]
    other_model = tmp_path / f"other@v1-{fingerprint}"
    for age, path in enumerate([*older, other_model, dead], start=1):
        path.mkdir()
        os.utime(path, (time.time() - 100 * age, time.time() - 100 * age))
    loader = champion.Loader(tmp_path)
    try:
        loader.load("compiled-wine", "champion", wine_version.version, wine_version.run_id)
    finally:
        loader.stop()
    left = sorted(path.name for path in tmp_path.iterdir() if path.is_dir())
    # the new one and the two newest older ones of the model; another model's untouched
    assert left == sorted([slot.name, older[0].name, older[1].name, other_model.name])


def test_a_version_prepared_ahead_is_only_loaded_when_the_alias_names_it(
    tmp_path, wine_version
) -> None:
    """A version registered is prepared on the host before its promotion (webhook
    model_version.created); the load that follows the alias prepares nothing."""
    ahead, worker = champion.Loader(tmp_path), champion.Loader(tmp_path)

    def prepared_twice(*args):
        raise AssertionError("the version was prepared again when the alias named it")

    worker._prepare = prepared_twice
    version, run_id = wine_version.version, wine_version.run_id
    try:
        assert worker.load_prepared("compiled-wine", "champion", version) is None
        stages = ahead.prepare_ahead("compiled-wine", version, True, keep=None)
        again = ahead.prepare_ahead("compiled-wine", version, True, keep=None)
        served = worker.load("compiled-wine", "champion", version, run_id)
        handed_over = worker.load_prepared("compiled-wine", "champion", version)
    finally:
        ahead.stop()
        worker.stop()
    assert {"download", "pyfunc", "convert", "check"} <= set(stages)
    assert again is None  # the host has it: nothing done
    # checked on its run's held-out sample: the run was looked up in the registry
    assert served.serving_path_reason.endswith("records checked"), served.serving_path_reason
    assert (served.run_id, handed_over.run_id) == (run_id, run_id)
    assert handed_over.serving_path_reason == served.serving_path_reason
    assert champion.Loader().load_prepared("compiled-wine", "champion", version) is None


def test_the_version_serving_is_kept_however_many_are_prepared_ahead(tmp_path) -> None:
    fingerprint = champion._fingerprint(True)
    serving, *newer = [tmp_path / f"wine@v{n}-{fingerprint}" for n in (1, 12, 13, 14)]
    for age, path in enumerate(reversed([serving, *newer]), start=1):
        path.mkdir()
        os.utime(path, (time.time() - 100 * age, time.time() - 100 * age))
    champion.Loader(tmp_path)._forget_older("wine", keep="1")
    left = sorted(path.name for path in tmp_path.iterdir() if path.is_dir())
    assert left == sorted(path.name for path in [serving, newer[1], newer[2]])


class RecordingLoader:
    """A loader whose preparations ahead are recorded."""

    def __init__(self, shared_dir) -> None:
        self.shared_dir = shared_dir
        self.calls: list[tuple] = []
        self.done = threading.Event()

    def load(self, *args):
        raise AssertionError("only prepared ahead, never loaded")

    def prepare_ahead(self, *args) -> dict:
        self.calls.append(args)
        self.done.set()
        return {"download": 0.1}


def test_the_champion_prepares_ahead_in_the_background_keeping_what_it_serves(tmp_path) -> None:
    loader = RecordingLoader(tmp_path)
    followed = champion.Champion("wine", "champion", 60, loader=loader)
    followed.current = fakes.loaded_model(version="3")
    assert followed.prepare_ahead("4")
    assert loader.done.wait(5)
    assert loader.calls == [("wine", "4", True, "3")]
    assert not followed.prepare_ahead("3")  # the version it serves
    assert not champion.Champion("wine", "champion", 60).prepare_ahead("4")  # no loader
    no_shared_dir = champion.Champion("wine", "champion", 60, loader=RecordingLoader(None))
    assert not no_shared_dir.prepare_ahead("4")


def test_the_imputers_are_left_out_of_a_copy_not_out_of_the_served_model() -> None:
    frame = pd.DataFrame({"x": [1.0, None, 3.0, 4.0], "c": ["a", "b", None, "a"]})
    numeric = make_pipeline(SimpleImputer(), StandardScaler())
    categorical = make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder())
    preprocess = ColumnTransformer([("n", numeric, ["x"]), ("c", categorical, ["c"])])
    model = make_pipeline(preprocess, DecisionTreeClassifier()).fit(frame, [0, 1, 0, 1])

    def imputers(pipeline) -> int:
        fitted = pipeline.steps[0][1].transformers_
        return sum(isinstance(s, SimpleImputer) for _, t, _ in fitted for _, s in t.steps)

    stripped = compiled._without_imputers(model)
    assert (imputers(model), imputers(stripped)) == (2, 0)
    complete = frame.dropna()
    assert stripped.predict(complete).tolist() == model.predict(complete).tolist()
