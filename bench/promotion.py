"""Promotion under load: the champion alias moves while wrk calls /predict; how long until
every uvicorn worker serves the new version, and how many requests failed meanwhile.

The alias moves to another version of the model (the newest other one; when the model has a
single version, a second one is registered from the same run's artifacts and said so), then
back, so the registry's champion is what it was before the bench.
"""

from __future__ import annotations

import time

from bench.hosts import OnHost
from bench.load import Load
from bench.platform import MODEL, Platform

LOAD_CONNECTIONS = 16
SETTLE_SECONDS = 5  # load before the alias moves
POLL_SECONDS = 0.1


def other_version(platform: Platform, current: str) -> tuple[str, bool]:
    """A version to promote that is not `current`; True when it had to be registered."""
    versions = platform.registry.search_model_versions(f"name = '{MODEL}'")
    others = sorted(int(v.version) for v in versions if str(v.version) != current)
    if others:
        return str(others[-1]), False
    source = platform.registry.get_model_version(MODEL, current)
    made = platform.registry.create_model_version(
        MODEL,
        source.source,
        run_id=source.run_id,
        # MLflow 3: the source names a logged model (models:/m-...), which must be given too;
        # the REST API leaves the version's model_id empty
        model_id=source.model_id or source.source.removeprefix("models:/"),
        description=f"registered by `make bench` from v{current}'s run to measure a promotion",
    )
    return str(made.version), True


def switch_time(platform: Platform, version: str, timeout: float) -> tuple[float, float, int]:
    """After the alias moved: (seconds until one worker serves `version`, until all do,
    the number of workers)."""
    started = time.monotonic()
    first = None
    while time.monotonic() - started < timeout:
        workers = platform.worker_versions()
        serving_it = [pid for pid, served in workers.items() if served == version]
        if serving_it and first is None:
            first = time.monotonic() - started
        if workers and len(serving_it) == len(workers):
            return first, time.monotonic() - started, len(workers)
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"not every worker serves v{version} {timeout:.0f} s after the alias moved")


def promote_under_load(platform: Platform, app: OnHost, version: str, seconds: int) -> dict:
    with Load(app, platform.api_key, LOAD_CONNECTIONS, seconds) as load:
        time.sleep(SETTLE_SECONDS)
        platform.registry.set_registered_model_alias(MODEL, "champion", version)
        first, every, workers = switch_time(platform, version, timeout=seconds - SETTLE_SECONDS)
    return {
        "to_version": version,
        "first_worker_s": round(first, 2),
        "every_worker_s": round(every, 2),
        "workers": workers,
        "load": load.figures(),
    }


def measure(platform: Platform, seconds: int = 120) -> dict:
    app = OnHost.named(platform.replica, "app")
    before = platform.champion()
    if before is None:
        raise RuntimeError(f"{MODEL} has no champion yet: run the pipeline part first")
    target, registered = other_version(platform, before)
    if set(platform.worker_versions().values()) != {before}:
        raise RuntimeError(f"the workers do not all serve the champion v{before} yet")
    moves = []
    try:
        moves.append(promote_under_load(platform, app, target, seconds))
        moves.append(promote_under_load(platform, app, before, seconds))
    finally:
        platform.registry.set_registered_model_alias(MODEL, "champion", before)
    for move in moves:
        print(
            f"promotion: → v{move['to_version']}: first worker {move['first_worker_s']} s, "
            f"every worker {move['every_worker_s']} s, failed {move['load']['failed']} "
            f"of {move['load']['requests']}"
        )
    return {
        "model": MODEL,
        "champion": before,
        "registered_for_bench": target if registered else None,
        "load_connections": LOAD_CONNECTIONS,
        "moves": moves,
    }
