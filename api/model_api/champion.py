"""Follow a registered model's alias and keep the model it points to loaded.

Loads run in a process of their own (Loader) where the service runs them, so that the GIL of
the serving process stays with its requests.

A background thread looks at the alias every poll interval, and at once when woken: an MLflow
webhook (model_api.webhooks) touches the wake file, which every worker's thread watches every
WAKE_CHECK_SECONDS. When the alias points to a new version,
that version is loaded next to the one serving and then swapped in with one reference
assignment: requests hold the LoadedModel they started with, so none fails or waits. When a
load fails, the old model keeps serving; the error is logged, counted and shown by /ready and
/model, and the load is tried again at the next poll.
"""

from __future__ import annotations

import logging
import multiprocessing
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import mlflow.artifacts
import mlflow.pyfunc
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from model_api import compiled, schema

log = logging.getLogger("model_api.champion")
# How often a waiting poller looks at the wake file.
WAKE_CHECK_SECONDS = 0.2


@dataclass(frozen=True)
class LoadedModel:
    name: str
    alias: str
    version: str
    run_id: str | None
    columns: list[schema.Column]
    signature: dict
    pyfunc: object = field(repr=False)
    loaded_at: datetime
    load_seconds: float
    # The fast path when it is proven equal to pyfunc (model_api.compiled), else None.
    compiled: compiled.CompiledModel | None = field(default=None, repr=False)
    serving_path_reason: str = "the fast path is off (MODEL_API_FAST_PATH=false)"
    # This worker's request batchers by serving path, made on first use (model_api.routes).
    batchers: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def serving_path(self) -> str:
        return "onnx" if self.compiled is not None else "pyfunc"

    def describe(self) -> dict:
        return {
            "name": self.name,
            "alias": self.alias,
            "version": self.version,
            "run_id": self.run_id,
            "signature": self.signature,
            "loaded_at": self.loaded_at.isoformat(),
            "load_seconds": round(self.load_seconds, 3),
            "serving_path": self.serving_path,
            "serving_path_reason": self.serving_path_reason,
        }


def load(
    name: str, alias: str, version: str, run_id: str | None, fast_path: bool = True
) -> LoadedModel:
    """The version downloaded once, loaded as pyfunc, and compiled where it is proven equal,
    all in this process."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="model-api-") as tmp:
        _, model, fast, reason, stages = _prepare(name, version, run_id, fast_path, tmp)
    columns = schema.columns_of(model.metadata.signature)
    return _loaded(name, alias, version, run_id, model, columns, fast, reason, stages, started)


def _prepare(name: str, version: str, run_id: str | None, fast_path: bool, tmp: str):
    """Download into tmp, load as pyfunc, compile and check: (the model's directory, pyfunc,
    compiled or None, why that path, seconds by stage)."""
    started = time.monotonic()
    stages: dict[str, float] = {}
    model_dir = mlflow.artifacts.download_artifacts(f"models:/{name}/{version}", dst_path=tmp)
    stages["download"] = time.monotonic() - started
    model = mlflow.pyfunc.load_model(model_dir)
    columns = schema.columns_of(model.metadata.signature)
    stages["pyfunc"] = time.monotonic() - started - sum(stages.values())
    fast, reason = None, LoadedModel.serving_path_reason
    if fast_path:
        fast, reason = _compile(model, columns, model_dir, run_id, tmp)
        stages["compile and check"] = time.monotonic() - started - sum(stages.values())
    return model_dir, model, fast, reason, stages


def _loaded(
    name, alias, version, run_id, model, columns, fast, reason, stages, started
) -> LoadedModel:
    log.info(
        "loaded %s v%s: %s",
        name,
        version,
        ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in stages.items()),
    )
    return LoadedModel(
        name=name,
        alias=alias,
        version=version,
        run_id=run_id,
        columns=columns,
        signature=model.metadata.signature.to_dict(),
        pyfunc=model,
        loaded_at=datetime.now(UTC),
        load_seconds=time.monotonic() - started,
        compiled=fast,
        serving_path_reason=reason,
    )


@dataclass(frozen=True)
class Prepared:
    """What the loader process hands back: where the model's files are, the ONNX model it
    proved equal to pyfunc (or None), why that path, and the seconds of each stage."""

    model_dir: str
    onnx: bytes | None
    reason: str
    stages: dict


def prepare(name: str, version: str, run_id: str | None, fast_path: bool, tmp: str) -> Prepared:
    """The loader process's part of a load: everything but keeping the model."""
    model_dir, _, fast, reason, stages = _prepare(name, version, run_id, fast_path, tmp)
    return Prepared(model_dir, fast.onnx if fast else None, reason, stages)


def _warm() -> None:
    """Import what a load needs once, when the loader process starts."""
    import onnxruntime  # noqa: F401
    import skl2onnx  # noqa: F401


class Loader:
    """Loads versions in a process of its own, so that a load never competes with serving for
    this process's GIL: beside an event loop kept busy by traffic, a load in a thread of the
    serving process took 47-60 s (download 20-35 s, compile and check 24-33 s;
    bench-20261206T044557Z), most of it then spent on MLflow's 0.55 s password check per call,
    since cached (mlflow_auth_cache_ttl_seconds). With both, loads under load took 1.3-6.7 s
    (bench-20261206T051929Z); the loader process's own share was not measured apart. It
    downloads, loads, compiles and checks; this process then loads only the pyfunc from the
    downloaded files and an ONNX Runtime session from the checked model's bytes. The process
    is started once and kept, and made anew if it dies."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    def start(self) -> None:
        """Start the loader process and do its imports before the first load needs them."""
        self._executor().submit(_warm)

    def load(
        self, name: str, alias: str, version: str, run_id: str | None, fast_path: bool = True
    ) -> LoadedModel:
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="model-api-") as tmp:
            try:
                prepared = (
                    self._executor().submit(prepare, name, version, run_id, fast_path, tmp).result()
                )
            except BrokenProcessPool as error:
                self._pool = None  # the next load starts a new loader process
                raise RuntimeError(f"the loader process died: {error}") from error
            finishing = time.monotonic()
            model = mlflow.pyfunc.load_model(prepared.model_dir)
            columns = schema.columns_of(model.metadata.signature)
            fast = compiled.from_onnx(prepared.onnx, columns) if prepared.onnx else None
        stages = {**prepared.stages, "handed over": time.monotonic() - finishing}
        return _loaded(
            name, alias, version, run_id, model, columns, fast, prepared.reason, stages, started
        )

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _compile(model, columns, model_dir: str, run_id: str | None, tmp: str):
    """(the compiled model, why it serves) or (None, why pyfunc serves)."""
    example = compiled.records_of(model.metadata.load_input_example(model_dir))
    holdout: list[dict] = []
    if run_id:
        try:
            holdout = compiled.read_holdout(
                mlflow.artifacts.download_artifacts(
                    run_id=run_id, artifact_path=compiled.HOLDOUT_ARTIFACT, dst_path=tmp
                )
            )
        except (MlflowException, OSError) as error:
            log.info("run %s has no held-out sample: %s", run_id, error)
    try:
        fast = compiled.compile_model(model, columns, example, holdout)
    except compiled.NotCompiled as why:
        log.info("serving through pyfunc: %s", why)
        return None, str(why)
    checked = len(example) + len(holdout)
    return fast, f"ONNX Runtime predicts what pyfunc predicts on {checked} records checked"


class Champion:
    """The model currently served, and the thread that keeps it current."""

    def __init__(
        self,
        name: str,
        alias: str,
        poll_interval: float,
        on_change=None,
        fast_path: bool = True,
        wake_file: Path | None = None,
        loader: Loader | None = None,
    ) -> None:
        self.name = name
        self.alias = alias
        self.poll_interval = poll_interval
        self.fast_path = fast_path
        # Shared by the host's workers: touched by the one a webhook reached.
        self.wake_file = wake_file
        # Loads in a process of its own (Loader), or in the poller's thread (None).
        self.loader = loader
        self._load = loader.load if loader else load
        self.current: LoadedModel | None = None
        self.last_error: str | None = None
        self.last_checked: datetime | None = None
        self._on_change = on_change or (lambda event, model: None)
        self._stop = threading.Event()
        self._woken = threading.Event()
        self._wake_seen = self._wake_mark()
        self._thread: threading.Thread | None = None

    def poll(self) -> bool:
        """Look at the alias once; load and swap when it moved. True when a swap happened."""
        try:
            version = MlflowClient().get_model_version_by_alias(self.name, self.alias)
        except MlflowException as error:
            if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                self._failed(f"{self.name}@{self.alias} does not exist yet", quiet=True)
            else:
                self._failed(f"cannot resolve {self.name}@{self.alias}: {error}")
            return False
        except Exception as error:  # network, DNS, TLS: keep serving, try later
            self._failed(f"cannot reach MLflow to resolve {self.name}@{self.alias}: {error}")
            return False
        finally:
            self.last_checked = datetime.now(UTC)
        version_id = str(version.version)
        if self.current is not None and self.current.version == version_id:
            self.last_error = None
            return False
        try:
            loaded = self._load(self.name, self.alias, version_id, version.run_id, self.fast_path)
        except Exception as error:
            self._failed(f"loading {self.name} v{version_id} failed: {error}")
            self._on_change("load_failed", None)
            return False
        previous = self.current
        self.current = loaded  # the swap: one reference assignment
        self.last_error = None
        log.info(
            "serving %s v%s (was %s) through %s, loaded in %.2f s",
            self.name,
            version_id,
            f"v{previous.version}" if previous else "nothing",
            loaded.serving_path,
            loaded.load_seconds,
        )
        self._on_change("loaded", loaded)
        return True

    def _failed(self, message: str, quiet: bool = False) -> None:
        if message != self.last_error and not quiet:
            log.error("%s; %s", message, "still serving" if self.current else "nothing served")
        self.last_error = message

    def wake(self) -> None:
        """Resolve the alias now, in every worker of the host."""
        self._woken.set()
        if self.wake_file is not None:
            self.wake_file.touch()

    def _wake_mark(self) -> int | None:
        try:
            return self.wake_file.stat().st_mtime_ns if self.wake_file else None
        except OSError:
            return None

    def _sleep(self) -> None:
        """Until the next poll: the poll interval, or less when woken."""
        deadline = time.monotonic() + self.poll_interval
        while not self._stop.is_set():
            mark = self._wake_mark()
            if self._woken.is_set() or mark != self._wake_seen:
                self._woken.clear()
                self._wake_seen = mark
                log.info("woken: resolving %s@%s now", self.name, self.alias)
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._stop.wait(min(WAKE_CHECK_SECONDS, left))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._sleep()

    def start(self) -> None:
        if self.loader:
            self.loader.start()
        self._thread = threading.Thread(target=self._run, name="champion-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.loader:
            self.loader.stop()
