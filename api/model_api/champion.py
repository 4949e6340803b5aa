"""Follow a registered model's alias and keep the model it points to loaded.

Loads run in a process of their own (Loader) where the service runs them, so that the GIL of
the serving process stays with its requests.

A background thread looks at the alias every poll interval, and at once when woken: an MLflow
webhook (model_api.webhooks) rewrites the wake file, which every worker's thread watches every
WAKE_CHECK_SECONDS. When the delivery named the version the alias moved to and the host has it
prepared, each worker hands it over at once, then confirms with the registry: the lookup, which
waits on MLflow (up to 5.8 s under load), comes after the swap instead of before it, and
corrects a delivery older than the alias (MLflow sends them from a thread pool, in any order).
When the alias points to a new version,
that version is loaded next to the one serving and then swapped in with one reference
assignment: requests hold the LoadedModel they started with, so none fails or waits. When a
load fails, the old model keeps serving; the error is logged, counted and shown by /ready and
/model, and the load is tried again at the next poll.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from urllib.parse import quote

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
    # The model's files (pickled model, checked ONNX model): its size in a bounded cache.
    size_bytes: int = 0
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
            "record_schema": schema.record_schema(self.columns),
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
        model_dir, model, fast, reason, stages = _prepare(name, version, run_id, fast_path, tmp)
        columns = schema.columns_of(model.metadata.signature)
        return _loaded(
            name, alias, version, run_id, model_dir, model, columns, fast, reason, stages, started
        )


def _size(directory: str) -> int:
    """The bytes of the files under `directory`."""
    return sum(path.stat().st_size for path in Path(directory).rglob("*") if path.is_file())


def _prepare(name: str, version: str, run_id: str | None, fast_path: bool, tmp: str):
    """Download into tmp, load as pyfunc, compile and check: (the model's directory, pyfunc,
    compiled or None, why that path, seconds by stage). The run's held-out sample downloads
    beside the model, in a thread: both mostly wait on MLflow."""
    started = time.monotonic()
    stages: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="holdout") as side:
        holdout = side.submit(_holdout, run_id, Path(tmp) / "checks") if fast_path else None
        model_dir = mlflow.artifacts.download_artifacts(
            f"models:/{name}/{version}", dst_path=str(Path(tmp) / "model")
        )
        stages["download"] = time.monotonic() - started
        model = mlflow.pyfunc.load_model(model_dir)
        columns = schema.columns_of(model.metadata.signature)
        stages["pyfunc"] = time.monotonic() - started - sum(stages.values())
        fast, reason = None, LoadedModel.serving_path_reason
        if holdout is not None:
            fast, reason = _compile(model, columns, model_dir, holdout.result(), stages)
    return model_dir, model, fast, reason, stages


def _holdout(run_id: str | None, dst: Path) -> list[dict]:
    """The run's held-out sample as records; none when the run logged none."""
    if not run_id:
        return []
    try:
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=compiled.HOLDOUT_ARTIFACT, dst_path=str(dst)
        )
    except (MlflowException, OSError) as error:
        log.info("run %s has no held-out sample: %s", run_id, error)
        return []
    return compiled.read_holdout(path)


def _loaded(
    name, alias, version, run_id, model_dir, model, columns, fast, reason, stages, started
) -> LoadedModel:
    """The LoadedModel, its size that of its files in `model_dir` and its ONNX bytes."""
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
        size_bytes=_size(model_dir) + (len(fast.onnx) if fast else 0),
    )


@dataclass(frozen=True)
class Prepared:
    """What the loader process hands back: where the model's files are, the ONNX model it
    proved equal to pyfunc (or None), why that path, the seconds of each stage, and the run
    the version came from."""

    model_dir: str
    onnx: bytes | None
    reason: str
    stages: dict
    run_id: str | None = None

    def save(self, slot: Path) -> None:
        """Into `slot` (a directory the model was downloaded under), for the host's other
        workers: the model's directory relative to it, the reason, the run and the ONNX bytes."""
        (slot / ONNX_FILE).write_bytes(self.onnx or b"")
        model_dir = str(Path(self.model_dir).relative_to(slot))
        record = {"model_dir": model_dir, "reason": self.reason, "run_id": self.run_id}
        (slot / PREPARED_FILE).write_text(json.dumps(record))

    @classmethod
    def read(cls, slot: Path) -> Prepared | None:
        """What another worker prepared in `slot`; None when nobody did yet."""
        try:
            record = json.loads((slot / PREPARED_FILE).read_text())
            onnx = (slot / ONNX_FILE).read_bytes()
        except FileNotFoundError:
            return None
        model_dir = str(slot / record["model_dir"])
        return cls(model_dir, onnx or None, record["reason"], {}, record.get("run_id"))


PREPARED_FILE = "prepared.json"
ONNX_FILE = "checked.onnx"
# Prepared versions kept per model in the shared directory: the one serving, the one before (an
# alias moved back is served again without a new download) and one prepared ahead of its
# promotion (Loader.prepare_ahead); the one serving is kept whatever its age.
KEPT_PER_MODEL = 3


def prepare(
    name: str,
    version: str,
    run_id: str | None,
    fast_path: bool,
    tmp: str,
    look_up_run: bool = False,
) -> Prepared:
    """The loader process's part of a load: everything but keeping the model. With
    `look_up_run`, the version's run is asked of the registry first (a version known by its
    number only: a registration's webhook)."""
    if look_up_run:
        run_id = MlflowClient().get_model_version(name, version).run_id
    model_dir, _, fast, reason, stages = _prepare(name, version, run_id, fast_path, tmp)
    return Prepared(model_dir, fast.onnx if fast else None, reason, stages, run_id)


def _warm_with(model_dir: str) -> None:
    """In the loader process: load a model once and drop it, for the imports its flavour
    needs (when this host's copy served the worker, the loader process loaded nothing yet,
    and its first load paid them: 1.1-1.6 s under load)."""
    try:
        mlflow.pyfunc.load_model(model_dir, suppress_warnings=True)
    except Exception as error:  # only a warm-up: the next load says what is wrong
        log.info("warming the loader process with %s failed: %s", model_dir, error)


def _exit_with_parent(parent: int) -> None:
    """In the loader process, from its start: exit once the worker that started it is gone. A
    worker killed (SIGKILL, the OOM killer) cannot stop its loader process, which would live on
    holding its memory, and keep systemd waiting for the unit's processes on a stop."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


PARENT_CHECK_SECONDS = 0.5


def _warm() -> None:
    """Import what a load needs once, when the loader process starts: a first load paid
    1.5 s more under load for the scikit-learn flavour's imports alone."""
    import mlflow.sklearn  # noqa: F401 - the platform's models' flavour
    import onnxruntime  # noqa: F401
    import skl2onnx  # noqa: F401


@cache
def _fingerprint(fast_path: bool) -> str:
    """What a prepared version depends on besides the model: the libraries that converted and
    checked it, and whether the fast path was on. Another set of libraries prepares anew."""
    packages = ("scikit-learn", "skl2onnx", "onnxruntime")  # mlflow may be mlflow-skinny
    versions = [mlflow.__version__, *(importlib.metadata.version(p) for p in packages)]
    return hashlib.sha256(json.dumps([fast_path, *versions]).encode()).hexdigest()[:12]


@contextmanager
def _locked(lock: Path, shared: bool = False, wait: bool = True):
    """Hold a lock on the file `lock`, exclusive or shared (yields False when `wait` is off
    and another process holds it)."""
    mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if wait else fcntl.LOCK_NB)
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, mode)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Loader:
    """Loads versions in a process of its own, so that a load never competes with serving for
    this process's GIL: beside an event loop kept busy by traffic, a load in a thread of the
    serving process took 47-60 s (download 20-35 s, compile and check 24-33 s;
    bench-20261206T044557Z), most of it then spent on MLflow's 0.55 s password check per call,
    since cached (mlflow_auth_cache_ttl_seconds). It downloads, loads, compiles and checks; this
    process then loads only the pyfunc from the downloaded files and an ONNX Runtime session
    from the checked model's bytes. The process is started once and kept, and made anew if it
    dies.

    With `shared_dir` (MODEL_API_LOAD_DIR), a version is prepared once per host, not once per
    worker: the first worker to want it prepares it under a lock into the directory, and the
    others, waiting on that lock, load what it left there (in the same libraries' versions:
    _fingerprint). On a 2-core host under load, two workers preparing the same version at once
    each took twice as long as one."""

    def __init__(self, shared_dir: Path | None = None) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()  # the poller and a preparation ahead both use it
        self.shared_dir = shared_dir
        self._warmed = False  # the loader process has loaded a model (_warm_with)

    def _executor(self) -> ProcessPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_exit_with_parent,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def start(self) -> None:
        """Start the loader process and do its imports before a load needs them (Champion
        calls it after its first look, which starts the process itself when it prepares)."""
        self._executor().submit(_warm)

    def _prepare(self, *args) -> Prepared:
        """prepare(*args) in the loader process."""
        try:
            return self._executor().submit(prepare, *args).result()
        except BrokenProcessPool as error:
            self._pool = None  # the next load starts a new loader process
            raise RuntimeError(f"the loader process died: {error}") from error

    def load(
        self, name: str, alias: str, version: str, run_id: str | None, fast_path: bool = True
    ) -> LoadedModel:
        started = time.monotonic()
        if self.shared_dir is None:
            with tempfile.TemporaryDirectory(prefix="model-api-") as tmp:
                prepared = self._prepare(name, version, run_id, fast_path, tmp)
                return self._finish(name, alias, version, prepared, started)
        loaded = self.load_prepared(name, alias, version, fast_path)
        if loaded is not None:
            return loaded
        slot, lock = self._slot(name, version, fast_path)
        with _locked(lock):
            prepared = Prepared.read(slot)  # another worker may have prepared it meanwhile
            if prepared is not None:
                return self._reuse(slot, name, alias, version, prepared, started)
            prepared = self._prepare_into(slot, name, version, run_id, fast_path)
            self._warmed = True
            self._forget_older(name, keep=version)
            return self._finish(name, alias, version, prepared, started)

    def load_prepared(
        self, name: str, alias: str, version: str, fast_path: bool = True
    ) -> LoadedModel | None:
        """The version loaded from what the host prepared of it; None when it has not (or
        has no directory shared by its workers). A preparation under way is waited for."""
        if self.shared_dir is None:
            return None
        started = time.monotonic()
        slot, lock = self._slot(name, version, fast_path)
        # Readers share the lock, so that workers load a prepared version at once; preparing
        # it, and removing it (_forget_older), take it alone.
        with _locked(lock, shared=True):
            prepared = Prepared.read(slot)
            if prepared is None:
                return None
            return self._reuse(slot, name, alias, version, prepared, started)

    def prepare_ahead(
        self, name: str, version: str, fast_path: bool, keep: str | None
    ) -> dict | None:
        """Prepare a version into the shared directory without loading it (the alias does not
        name it yet; its run is looked up): the seconds of each stage, or None when the host
        had it already. The version `keep` (the one serving) is not pruned to make room."""
        slot, lock = self._slot(name, version, fast_path)
        with _locked(lock, shared=True):
            if Prepared.read(slot) is not None:
                return None
        with _locked(lock):
            if Prepared.read(slot) is not None:
                return None
            prepared = self._prepare_into(slot, name, version, None, fast_path, look_up_run=True)
            self._warmed = True
            self._forget_older(name, keep=keep)
        return prepared.stages

    def holds(self, name: str) -> bool:
        """Whether the host has a version of model `name` prepared: one of its workers serves
        it, or did lately."""
        if self.shared_dir is None:
            return False
        return any(path.is_dir() for path in self.shared_dir.glob(f"{quote(name, safe='')}@v*"))

    def _slot(self, name: str, version: str, fast_path: bool) -> tuple[Path, Path]:
        """Where the host keeps a version prepared, and the lock file that guards it."""
        self.shared_dir.mkdir(parents=True, exist_ok=True)
        slot = self.shared_dir / f"{quote(name, safe='')}@v{version}-{_fingerprint(fast_path)}"
        return slot, self.shared_dir / f"{slot.name}.lock"

    def _reuse(self, slot, name, alias, version, prepared: Prepared, started: float):
        """Load what another worker prepared (the caller holds the slot's lock)."""
        os.utime(slot)  # the newest again: kept by _forget_older
        waited = {"waited for the host's copy": time.monotonic() - started}
        prepared = replace(prepared, stages=waited)
        loaded = self._finish(name, alias, version, prepared, started)
        if not self._warmed:  # after the hand-over, which it would otherwise compete with
            self._executor().submit(_warm_with, prepared.model_dir)
            self._warmed = True
        return loaded

    def _prepare_into(
        self,
        slot: Path,
        name: str,
        version: str,
        run_id: str | None,
        fast_path: bool,
        look_up_run: bool = False,
    ) -> Prepared:
        """Prepare into a new directory, renamed to `slot` once complete: a worker that dies
        half-way leaves no slot that looks prepared."""
        self._remove(slot)  # what a worker that died while preparing it left
        tmp = Path(tempfile.mkdtemp(prefix=f".{slot.name}.preparing-", dir=self.shared_dir))
        try:
            # MLflow's files go to tmp/model and tmp/checks, apart from ours (Prepared.save)
            prepared = self._prepare(name, version, run_id, fast_path, str(tmp), look_up_run)
            prepared.save(tmp)
            tmp.rename(slot)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return replace(prepared, model_dir=str(slot / Path(prepared.model_dir).relative_to(tmp)))

    def _forget_older(self, name: str, keep: str | None) -> None:
        """Delete the model's prepared versions but the newest KEPT_PER_MODEL and version
        `keep`, and the leftovers of preparations that died; a slot another worker holds is
        left for next time."""
        model = quote(name, safe="")
        slots = sorted(
            (path for path in self.shared_dir.glob(f"{model}@v*") if path.is_dir()),
            key=lambda path: path.stat().st_mtime,
            reverse=True,
        )
        kept = [slot for slot in slots if slot.name.startswith(f"{model}@v{keep}-")]
        for slot in [slot for slot in slots if slot not in kept][KEPT_PER_MODEL - len(kept) :]:
            with _locked(self.shared_dir / f"{slot.name}.lock", wait=False) as held:
                if held:
                    self._remove(slot)

    def _remove(self, slot: Path) -> None:
        """A slot and the leftovers of preparing it (the caller holds its lock)."""
        for path in (slot, *self.shared_dir.glob(f".{slot.name}.preparing-*")):
            shutil.rmtree(path, ignore_errors=True)

    @staticmethod
    def _finish(name, alias, version, prepared: Prepared, started: float) -> LoadedModel:
        finishing = time.monotonic()
        model = mlflow.pyfunc.load_model(prepared.model_dir)
        columns = schema.columns_of(model.metadata.signature)
        fast = compiled.from_onnx(prepared.onnx, columns) if prepared.onnx else None
        stages = {**prepared.stages, "handed over": time.monotonic() - finishing}
        return _loaded(
            name,
            alias,
            version,
            prepared.run_id,
            prepared.model_dir,
            model,
            columns,
            fast,
            prepared.reason,
            stages,
            started,
        )

    def stop(self) -> None:
        """Stop the loader process and wait for it (a load under way is finished first): the
        worker exits after it, so a stop leaves no process behind."""
        with self._pool_lock:
            pool, self._pool = self._pool, None  # a load after this starts a new process
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _compile(model, columns, model_dir: str, holdout: list[dict], stages: dict):
    """(the compiled model, why it serves) or (None, why pyfunc serves); the seconds of each
    step go to `stages`."""
    example = compiled.records_of(model.metadata.load_input_example(model_dir))
    try:
        fast = compiled.compile_model(model, columns, example, holdout, stages)
    except compiled.NotCompiled as why:
        log.info("serving through pyfunc: %s", why)
        return None, str(why)
    checked = len(example) + len(holdout)
    return fast, f"ONNX Runtime predicts what pyfunc predicts on {checked} records checked"


# What MLflow answers for an alias of a model that is not there (PERMISSION_DENIED: see
# Champion._untrained).
UNRESOLVED_CODES = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "PERMISSION_DENIED")


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
        # The last look found no version with the alias, or no such model: nothing to serve
        # until one is trained (last_error says how), rather than a failure.
        self.untrained = False
        self.last_checked: datetime | None = None
        self._on_change = on_change or (lambda event, model: None)
        self._stop = threading.Event()
        self._woken = threading.Event()
        self._moved_to: str | None = None  # what the last wake in this worker said
        self._wake_seen = self._wake_mark()
        # Set once the first look at the alias is over (whatever it found): see first_look.
        self._looked = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self, moved_to: str | None = None) -> bool:
        """Look at the alias once; load and swap when it moved. True when a swap happened.
        `moved_to`, the version a webhook delivery says the alias moved to, is handed over
        before the lookup when the host has it prepared; the lookup then confirms or
        corrects it."""
        handed_over = moved_to is not None and self._hand_over(moved_to)
        try:
            version = MlflowClient().get_model_version_by_alias(self.name, self.alias)
        except MlflowException as error:
            untrained = self._untrained(error)
            self.untrained = untrained is not None
            if untrained:
                self._failed(untrained, quiet=True)
            else:
                self._failed(f"cannot resolve {self.name}@{self.alias}: {error}")
            return False
        except Exception as error:  # network, DNS, TLS: keep serving, try later
            self.untrained = False
            self._failed(f"cannot reach MLflow to resolve {self.name}@{self.alias}: {error}")
            return False
        finally:
            self.last_checked = datetime.now(UTC)
        self.untrained = False
        version_id, run_id = str(version.version), version.run_id
        current = self.current
        if current is not None and current.version == version_id:
            if handed_over:
                log.info("the registry confirms %s@%s is v%s", self.name, self.alias, version_id)
            self.last_error = None
            return handed_over
        if handed_over:
            log.warning(
                "%s@%s is v%s, not v%s as a delivery said: loading v%s",
                self.name,
                self.alias,
                version_id,
                moved_to,
                version_id,
            )
        try:
            loaded = self._load(self.name, self.alias, version_id, run_id, self.fast_path)
        except Exception as error:
            self._failed(f"loading {self.name} v{version_id} failed: {error}")
            self._on_change("load_failed", None)
            return False
        self._swap(loaded, "the registry names it")
        return True

    def _hand_over(self, version: str) -> bool:
        """Serve `version` at once if the host has it prepared: True when swapped."""
        current = self.current
        if self.loader is None or (current is not None and current.version == version):
            return False
        try:
            loaded = self.loader.load_prepared(self.name, self.alias, version, self.fast_path)
        except Exception as error:  # the lookup that follows loads it the usual way
            log.warning("handing over %s v%s failed: %s", self.name, version, error)
            return False
        if loaded is None:
            return False
        self._swap(loaded, "a signed delivery names it and the host had it prepared")
        return True

    def _swap(self, loaded: LoadedModel, why: str) -> None:
        previous = self.current
        self.current = loaded  # the swap: one reference assignment
        self.last_error = None
        log.info(
            "serving %s v%s (was %s) through %s, loaded in %.2f s: %s",
            self.name,
            loaded.version,
            f"v{previous.version}" if previous else "nothing",
            loaded.serving_path,
            loaded.load_seconds,
            why,
        )
        self._on_change("loaded", loaded)

    def _untrained(self, error: MlflowException) -> str | None:
        """What to say when the alias cannot be resolved because nothing was trained yet, or
        None. With MLflow's authentication, a user who is not an admin is refused (403) a
        model that does not exist, as one it may not read: the search tells them apart (it
        lists the models the user may read, and every user may read with the default READ)."""
        if error.error_code not in UNRESOLVED_CODES:
            return None
        train = f"train one: trigger Airflow's train_model DAG (model_name={self.name}), which "
        train += (
            f"registers a version and gives it the alias {self.alias} when it wins"
            if self.alias == "champion"  # the alias the DAG moves (mlops_training.registry)
            else f"registers a version; then give one the alias {self.alias} in MLflow"
        )
        quoted = self.name.replace("'", "\\'")
        try:
            registered = MlflowClient().search_registered_models(f"name = '{quoted}'")
        except Exception:  # only to word the message: then say what MLflow said
            registered = None
        if registered == []:
            return f"no model named {self.name} is registered yet: {train}"
        if error.error_code == "PERMISSION_DENIED":
            return None  # the model exists: a permission problem, said as MLflow says it
        return f"no version of {self.name} has the alias {self.alias} yet: {train}"

    def _failed(self, message: str, quiet: bool = False) -> None:
        if message != self.last_error and not quiet:
            log.error("%s; %s", message, "still serving" if self.current else "nothing served")
        self.last_error = message

    def prepare_ahead(self, version: str) -> bool:
        """Prepare a version just registered on this host, in the background, so that the
        alias moving to it finds it ready; False when there is nothing to do it with (no
        loader process, or no directory shared by the host's workers: MODEL_API_LOAD_DIR)."""
        if self.loader is None or self.loader.shared_dir is None:
            return False
        current = self.current
        if current is not None and current.version == version:
            return False  # served already
        threading.Thread(
            target=self._prepare_ahead,
            args=(version, current.version if current else None),
            name=f"prepare-ahead-v{version}",
            daemon=True,
        ).start()
        return True

    def _prepare_ahead(self, version: str, keep: str | None) -> None:
        try:
            stages = self.loader.prepare_ahead(self.name, version, self.fast_path, keep)
        except Exception as error:  # only ahead of time: a promotion prepares it anew
            log.warning("preparing %s v%s ahead failed: %s", self.name, version, error)
            return
        if stages is None:
            log.info("%s v%s is prepared on this host already", self.name, version)
        else:
            log.info(
                "prepared %s v%s ahead: %s",
                self.name,
                version,
                ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in stages.items()),
            )

    def wake(self, moved_to: str | None = None) -> None:
        """Resolve the alias now, in every worker of the host; `moved_to` is the version a
        delivery says it moved to (written into the wake file for the host's other workers,
        whole: a new file renamed over the old)."""
        self._moved_to = moved_to
        self._woken.set()
        if self.wake_file is not None:
            write_wake_file(self.wake_file, moved_to)

    def _wake_mark(self) -> tuple[int, int] | None:
        try:
            found = self.wake_file.stat() if self.wake_file else None
        except OSError:
            return None
        return (found.st_ino, found.st_mtime_ns) if found else None

    def _sleep(self) -> str | None:
        """Until the next poll: the poll interval, or less when woken. The version a delivery
        said the alias moved to, when woken by one that named it."""
        deadline = time.monotonic() + self.poll_interval
        while not self._stop.is_set():
            mark = self._wake_mark()
            if self._woken.is_set() or mark != self._wake_seen:
                moved_to = self._moved_to if self._woken.is_set() else self._read_wake_file()
                self._woken.clear()
                self._wake_seen = mark
                log.info(
                    "woken: resolving %s@%s now%s",
                    self.name,
                    self.alias,
                    f" (moved to v{moved_to}, says the delivery)" if moved_to else "",
                )
                return moved_to
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._stop.wait(min(WAKE_CHECK_SECONDS, left))
        return None

    def _read_wake_file(self) -> str | None:
        try:
            moved_to = self.wake_file.read_text().strip()
        except OSError:
            return None
        return moved_to if moved_to.isdigit() else None

    def _run(self) -> None:
        self.poll()
        self._looked.set()
        if self.loader:  # its imports, once they no longer compete with the first load
            self.loader.start()
        while not self._stop.is_set():
            moved_to = self._sleep()
            if not self._stop.is_set():
                self.poll(moved_to)

    def first_look(self, timeout: float) -> bool:
        """Wait until the first look at the alias is over (the version it named loaded, or
        the reason it is not), at most `timeout` seconds; False when it took longer."""
        return self._looked.wait(timeout)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="champion-poller", daemon=True)
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """Stop following the alias (`wait`: for the poller to end, at most 5 s; else it ends
        after what it is doing). The loader is its owner's to stop: it may serve others."""
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join(timeout=5)


def write_wake_file(path: Path, moved_to: str | None) -> None:
    """Wake the host's workers that follow the model of `path`: the version the alias moved
    to (or nothing), written whole (a new file renamed over the old)."""
    written = path.with_name(f".{path.name}.{os.getpid()}")
    written.write_text(moved_to or "")
    written.replace(path)
