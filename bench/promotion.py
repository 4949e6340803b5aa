"""Promotion under load: the champion alias moves while wrk calls /predict; how long until
every uvicorn worker serves the new version, and how many requests failed meanwhile.

Three cases, each told to the API by MLflow's webhooks:
- a new version, as the training pipeline makes one: registered (from the champion's run),
  then promoted REGISTERED_AHEAD_S later, the time train_model's promote task takes to
  evaluate it (the API prepares a version ahead when its registration is delivered);
- a version the host never prepared (an older one whose prepared copy is removed first):
  the alias moved with no warning, so it is downloaded, converted and checked after the move;
- a rollback: back to the version served before, which the host still has.
Then the unprepared version and the rollback again with the webhook disabled, as when a
delivery is lost, so that polling alone finds them. The registry ends as it was: the champion
moved back, the version registered for the bench deleted.
"""

from __future__ import annotations

import re
import time

from bench.hosts import OnHost
from bench.load import Load
from bench.platform import MODEL, Platform

LOAD_CONNECTIONS = 16
SETTLE_SECONDS = 5  # load before the alias moves
MOVE_SECONDS = 40  # wrk's time per move: the settle, then up to 35 s for every worker to switch
# Registration → promotion in train_model: its promote task starts, reads the dataset, loads
# and scores the champion and the challenger, then moves the alias (pipeline bench
# `registered_to_moved_s`: 7.1 s on the idle replica; longer under load).
REGISTERED_AHEAD_S = 7
ENV_FILE = "/etc/model-api/model-api.env"
POLL_SECONDS = 0.1
WEBHOOK = "model-api-app"  # the one ansible/group_vars/mlflow.yml registers for the app host
WEBHOOK_CACHE_SECONDS = 6  # MLflow's servers cache the webhooks 5 s (MLFLOW_WEBHOOK_CACHE_TTL)
# How long a move may go on after its load ended, and still be measured (and flagged so).
LATE_SECONDS = 60


def older_version(platform: Platform, current: str) -> str:
    """The newest version but `current`, the one the bench promotes unprepared."""
    versions = platform.registry.search_model_versions(f"name = '{MODEL}'")
    others = sorted(int(v.version) for v in versions if str(v.version) != current)
    if not others:
        raise RuntimeError(f"{MODEL} has a single version: run the pipeline part once more")
    return str(others[-1])


def register_from(platform: Platform, current: str) -> str:
    """A new version of the model from `current`'s run, as train_model's train task makes one."""
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
    return str(made.version)


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
    platform: Platform,
    app: OnHost,
    version: str,
    seconds: int,
    webhook: bool,
    case: str,
    registered_ahead: float = REGISTERED_AHEAD_S,
) -> dict:
    """Move the alias under load, by `case` (CASES): for a new version, to one registered
    from `version`'s run `registered_ahead` seconds before the move; else to `version`."""
    if case == "never prepared":
        forget_prepared(app, version)
    wakes = platform.webhook_wakes()
    since = time.time()
    with Load(app, platform.api_key, LOAD_CONNECTIONS, seconds) as load:
        load_started = time.monotonic()
        time.sleep(SETTLE_SECONDS)
        if case == "new version":
            version = register_from(platform, version)
            time.sleep(registered_ahead)
        # from the moment the move is asked for (MLflow may deliver the webhook before it
        # answers); the app host is a container of this machine: the same clock
        moved, started = time.time(), time.monotonic()
        platform.registry.set_registered_model_alias(MODEL, "champion", version)
        # how long MLflow took to answer it: the alias moved at some point of that time
        move_call = time.monotonic() - started
        left = seconds - (started - load_started)  # while the load lasts
        first, every, workers = switch_time(platform, version, started, left + LATE_SECONDS)
    journal = app.sh(f"journalctl -u model-api -o short-unix --no-pager --since @{int(since)}")
    logged = what_the_api_logged(journal, moved, version)
    return {
        **logged,
        # as the workers logged it; None when the journal does not show every worker's swap
        "every_worker_swapped_s": (
            logged["swapped_s"][-1] if len(logged["swapped_s"]) == workers else None
        ),
        "to_version": version,
        "case": case,
        "webhook": "active" if webhook else "disabled",
        "woken_by_webhook": platform.webhook_wakes() > wakes,
        "move_call_s": round(move_call, 2),
        "first_worker_s": round(first, 2),
        "every_worker_s": round(every, 2),
        "under_load_throughout": every <= left,  # else the load ended before the move did
        "workers": workers,
        "load": load.figures(),
    }


def what_the_api_logged(journal: str, moved: float, version: str) -> dict:
    """From the API's journal (`-o short-unix`), relative to `moved` (when the alias moved):
    when MLflow's webhook delivery of the move reached the API, when the registration of
    `version` did and when the host had it prepared ahead (negative: before the move), and
    each worker's load of `version` by stage, as it logged them: what a slow move spent its
    time on; and when each worker swapped to it (`swapped_s`, by worker: its requests get
    `version` from then on, while the bench's look at /metrics waits behind the load)."""
    found: dict = {"first_woken_s": None, "registered_s": None, "prepared_s": None}
    loads, swapped = [], {}
    for line in journal.splitlines():
        stamp, _, rest = line.partition(" ")
        try:
            at = round(float(stamp) - moved, 2)
        except ValueError:
            continue  # journalctl's "-- No entries --" and the like
        worker = _WORKER.search(rest)
        if f"serving {MODEL} v{version} (was" in rest and at >= 0 and worker:
            swapped.setdefault(worker.group(1), at)
        if "webhook delivery:" in rest and "moved" in rest:
            if at >= 0 and found["first_woken_s"] is None:
                found["first_woken_s"] = at
        elif f"{MODEL} v{version} registered" in rest:
            found["registered_s"] = at
        elif f"prepared {MODEL} v{version} ahead:" in rest:
            found["prepared_s"] = at
            loads.append(f"{at:+.2f} s v{version} ahead: " + rest.split(" ahead: ", 1)[1])
        elif f"loaded {MODEL} v{version}:" in rest and at >= 0:
            loads.append(f"{at:+.2f} s " + rest.split(f"loaded {MODEL} ", 1)[1])
    return {**found, "loads": loads, "swapped_s": sorted(swapped.values())}


_WORKER = re.compile(r"\[(\d+)\]: ")


def forget_prepared(app: OnHost, version: str) -> None:
    """Remove what the app host prepared of `version` (the API's MODEL_API_LOAD_DIR), as for
    a version it never served."""
    load_dir = app.sh(f"sed -n 's/^MODEL_API_LOAD_DIR=//p' {ENV_FILE}").strip().strip("'\"")
    if load_dir:
        app.sh(f"rm -rf {load_dir}/{MODEL}@v{version}-*")


def webhook_id(platform: Platform) -> str | None:
    found = [hook for hook in platform.registry.list_webhooks() if hook.name == WEBHOOK]
    return found[0].webhook_id if found else None


# (webhook on, case) of each move: to a new version, to one never prepared, back to the
# champion; then, with the webhook disabled, the last two again (polling alone finds them).
CASES = (
    (True, "new version"),
    (True, "never prepared"),
    (True, "rollback"),
    (False, "never prepared"),
    (False, "rollback"),
)
# `make test`'s smoke run: the pipeline's own case and the way back.
SMOKE_CASES = ((True, "new version"), (True, "rollback"))


def measure(
    platform: Platform,
    seconds: int = MOVE_SECONDS,
    cases=CASES,
    registered_ahead: float = REGISTERED_AHEAD_S,
) -> dict:
    """The moves of `cases` under load (without the webhook registered: polling's only)."""
    app = OnHost.named(platform.replica, "app")
    before = platform.champion()
    if before is None:
        raise RuntimeError(f"{MODEL} has no champion yet: run the pipeline part first")
    if set(platform.worker_versions().values()) != {before}:
        raise RuntimeError(f"the workers do not all serve the champion v{before} yet")
    hook = webhook_id(platform)
    plan = [(webhook, case) for webhook, case in cases if hook or not webhook]
    older = older_version(platform, before) if any(c == "never prepared" for _, c in plan) else None
    targets = {"new version": before, "never prepared": older, "rollback": before}
    moves = []
    try:
        for webhook, case in plan:
            if hook and not webhook and (not moves or moves[-1]["webhook"] == "active"):
                platform.registry.update_webhook(hook, status="DISABLED")
                time.sleep(WEBHOOK_CACHE_SECONDS)
            moves.append(promote_under_load(platform, app, targets[case], seconds, webhook, case))
    finally:
        if hook:
            platform.registry.update_webhook(hook, status="ACTIVE")
        platform.registry.set_registered_model_alias(MODEL, "champion", before)
        for move in moves:
            if move["case"] == "new version":
                platform.registry.delete_model_version(MODEL, move["to_version"])
    for move in moves:
        print(
            f"promotion: → v{move['to_version']} ({move['case']}, webhook {move['webhook']}): "
            f"woken {move['first_woken_s']} s, first worker "
            f"{move['first_worker_s']} s, every worker {move['every_worker_s']} s (swapped "
            f"{move['every_worker_swapped_s']} s, says the API), failed "
            f"{move['load']['failed']} of {move['load']['requests']}"
        )
    return {
        "model": MODEL,
        "champion": before,
        "registered_ahead_s": registered_ahead,
        "load_connections": LOAD_CONNECTIONS,
        "webhook": WEBHOOK if hook else None,
        "moves": moves,
    }
