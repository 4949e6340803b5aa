"""The pipeline: trigger the training DAG on the demo dataset, then time its run, the
promotion decision, and (when the new version wins) until the model API serves it; from the
API's journal, when MLflow's webhooks told it of the version's registration and of the
alias's move, and when it had the version prepared ahead (REGISTERED_AHEAD_S of the promotion
bench is the time between the first two)."""

from __future__ import annotations

import time

from bench.hosts import OnHost
from bench.platform import MODEL, Platform
from bench.promotion import what_the_api_logged
from local.clients import wait

DAG = "train_model"


def measure(platform: Platform, timeout: float = 900) -> dict:
    before = platform.champion()
    # right after `make up` the dag-processor may not have read the bundle yet
    wait(lambda: platform.airflow("GET", f"/api/v2/dags/{DAG}"), timeout=120, interval=2)
    started, triggered = time.monotonic(), time.time()
    run_id = platform.airflow.trigger(DAG, {})
    run = platform.airflow.finished(DAG, run_id, timeout=timeout)
    finished = time.monotonic() - started
    if run["state"] != "success":
        raise RuntimeError(f"{DAG} run {run_id} ended {run['state']}: see its task logs")
    (version,) = platform.registry.search_model_versions(
        f"name = '{MODEL}' and tag.airflow_dag_run_id = '{run_id}'"
    )
    promoted = platform.champion() == str(version.version)
    served = None
    if promoted:

        def serves_it() -> None:
            model = platform.model_api.get("/ready").json()["model"]
            if not model.endswith(f" v{version.version}"):
                raise AssertionError(model)

        wait(serves_it, timeout=120, interval=0.2)
        served = time.monotonic() - started
    app = OnHost.named(platform.replica, "app")
    journal = app.sh(f"journalctl -u model-api -o short-unix --no-pager --since @{int(triggered)}")
    api = what_the_api_logged(journal, triggered, str(version.version))  # since the trigger
    told = api["registered_s"], api["first_woken_s"]
    result = {
        "dag": DAG,
        "run_id": run_id,
        "champion_before": before,
        "version": str(version.version),
        "run_s": round(finished, 1),
        "promoted": promoted,
        "promotion": version.tags.get("promotion"),
        "trigger_to_served_s": None if served is None else round(served, 1),
        "api_since_trigger": api,
        "registered_to_moved_s": None if None in told else round(told[1] - told[0], 1),
    }
    print(
        f"pipeline: {DAG} v{version.version} in {finished:.1f} s, "
        + (f"promoted and served {served:.1f} s after the trigger" if promoted else "not promoted")
    )
    return result
