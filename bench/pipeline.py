"""The pipeline: trigger the training DAG on the demo dataset, then time its run, the
promotion decision, and (when the new version wins) until the model API serves it."""

from __future__ import annotations

import time

from bench.platform import MODEL, Platform
from local.clients import wait

DAG = "train_model"


def measure(platform: Platform, timeout: float = 900) -> dict:
    before = platform.champion()
    # right after `make up` the dag-processor may not have read the bundle yet
    wait(lambda: platform.airflow("GET", f"/api/v2/dags/{DAG}"), timeout=120, interval=2)
    started = time.monotonic()
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
    result = {
        "dag": DAG,
        "run_id": run_id,
        "champion_before": before,
        "version": str(version.version),
        "run_s": round(finished, 1),
        "promoted": promoted,
        "promotion": version.tags.get("promotion"),
        "trigger_to_served_s": None if served is None else round(served, 1),
    }
    print(
        f"pipeline: {DAG} v{version.version} in {finished:.1f} s, "
        + (f"promoted and served {served:.1f} s after the trigger" if promoted else "not promoted")
    )
    return result
