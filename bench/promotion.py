"""Promotion under load: the champion alias moves while wrk calls /predict; how long until
every uvicorn worker serves the new version, and how many requests failed meanwhile.

The alias moves to another version of the model (the newest other one; when the model has a
single version, a second one is registered from the same run's artifacts and said so), then
back, so the registry's champion is what it was before the bench. The first move is a new
version's case: what the host prepared of that version (MODEL_API_LOAD_DIR) is removed
first, so it is downloaded, converted and checked again. The move back is a rollback's: the
host still has what it prepared of the version it served. Both moves are told to the API by
MLflow's webhook; then both are made again with the webhook disabled, as when a delivery is
lost, so that polling alone finds them.
"""

from __future__ import annotations

import time

from bench.hosts import OnHost
from bench.load import Load
from bench.platform import MODEL, Platform

LOAD_CONNECTIONS = 16
SETTLE_SECONDS = 5  # load before the alias moves
MOVE_SECONDS = 50  # wrk's time per move: the settle, then up to 45 s for every worker to switch
ENV_FILE = "/etc/model-api/model-api.env"
POLL_SECONDS = 0.1
WEBHOOK = "model-api-app"  # the one ansible/group_vars/mlflow.yml registers for the app host
WEBHOOK_CACHE_SECONDS = 6  # MLflow's servers cache the webhooks 5 s (MLFLOW_WEBHOOK_CACHE_TTL)


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


def switch_time(
    platform: Platform, version: str, started: float, timeout: float
) -> tuple[float, float, int]:
    """After the alias was moved at `started` (time.monotonic): (seconds until one worker
    serves `version`, until all do, the number of workers)."""
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


def promote_under_load(
    platform: Platform, app: OnHost, version: str, seconds: int, webhook: bool, new: bool
) -> dict:
    if new:
        forget_prepared(app, version)
    wakes = platform.webhook_wakes()
    with Load(app, platform.api_key, LOAD_CONNECTIONS, seconds) as load:
        time.sleep(SETTLE_SECONDS)
        # from the moment the move is asked for (MLflow may deliver the webhook before it
        # answers); the app host is a container of this machine: the same clock
        moved, started = time.time(), time.monotonic()
        platform.registry.set_registered_model_alias(MODEL, "champion", version)
        first, every, workers = switch_time(platform, version, started, seconds - SETTLE_SECONDS)
    journal = app.sh(f"journalctl -u model-api -o short-unix --no-pager --since @{int(moved)}")
    return {
        **what_the_api_logged(journal, moved, version),
        "to_version": version,
        "case": "new version" if new else "rollback",
        "webhook": "active" if webhook else "disabled",
        "woken_by_webhook": platform.webhook_wakes() > wakes,
        "first_worker_s": round(first, 2),
        "every_worker_s": round(every, 2),
        "workers": workers,
        "load": load.figures(),
    }


def what_the_api_logged(journal: str, moved: float, version: str) -> dict:
    """From the API's journal (`-o short-unix`) since the alias moved: when MLflow's webhook
    delivery reached the API, and each worker's load of `version` by stage, as it logged them:
    what a slow move spent its time on."""
    woken, loads = None, []
    for line in journal.splitlines():
        stamp, _, rest = line.partition(" ")
        try:
            at = float(stamp)
        except ValueError:
            continue  # journalctl's "-- No entries --" and the like
        if at < moved:
            continue
        if "webhook delivery:" in rest and woken is None:
            woken = round(at - moved, 2)
        elif f"loaded {MODEL} v{version}:" in rest:
            loads.append(f"+{at - moved:.2f} s " + rest.split(f"loaded {MODEL} ", 1)[1])
    return {"first_woken_s": woken, "loads": loads}


def forget_prepared(app: OnHost, version: str) -> None:
    """Remove what the app host prepared of `version` (the API's MODEL_API_LOAD_DIR), as for
    a version it never served."""
    load_dir = app.sh(f"sed -n 's/^MODEL_API_LOAD_DIR=//p' {ENV_FILE}").strip().strip("'\"")
    if load_dir:
        app.sh(f"rm -rf {load_dir}/{MODEL}@v{version}-*")


def webhook_id(platform: Platform) -> str | None:
    found = [hook for hook in platform.registry.list_webhooks() if hook.name == WEBHOOK]
    return found[0].webhook_id if found else None


def measure(platform: Platform, seconds: int = MOVE_SECONDS, polling: bool = True) -> dict:
    """The moves under load; `polling` off leaves out the two with the webhook disabled."""
    app = OnHost.named(platform.replica, "app")
    before = platform.champion()
    if before is None:
        raise RuntimeError(f"{MODEL} has no champion yet: run the pipeline part first")
    target, registered = other_version(platform, before)
    if set(platform.worker_versions().values()) != {before}:
        raise RuntimeError(f"the workers do not all serve the champion v{before} yet")
    hook = webhook_id(platform)
    moves = []
    # with the webhook on, then (polling) off; a replica without the webhook: polling only
    webhook_states = ((True, False) if polling else (True,)) if hook else (False,)
    try:
        for webhook in webhook_states:
            if hook and not webhook:
                platform.registry.update_webhook(hook, status="DISABLED")
                time.sleep(WEBHOOK_CACHE_SECONDS)
            for version, new in ((target, True), (before, False)):
                moves.append(promote_under_load(platform, app, version, seconds, webhook, new))
    finally:
        if hook:
            platform.registry.update_webhook(hook, status="ACTIVE")
        platform.registry.set_registered_model_alias(MODEL, "champion", before)
    for move in moves:
        print(
            f"promotion: → v{move['to_version']} ({move['case']}, webhook {move['webhook']}): "
            f"woken {move['first_woken_s']} s, first worker "
            f"{move['first_worker_s']} s, every worker {move['every_worker_s']} s, failed "
            f"{move['load']['failed']} of {move['load']['requests']}"
        )
    return {
        "model": MODEL,
        "champion": before,
        "registered_for_bench": target if registered else None,
        "load_connections": LOAD_CONNECTIONS,
        "webhook": WEBHOOK if hook else None,
        "moves": moves,
    }
