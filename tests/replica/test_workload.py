"""The ML workload end to end on the replica: the training DAG, promotion, the model API.

The tests run in file order and build on each other, as a user's day would:
1. the first training (a deliberately weak grid) registers v1, which becomes champion, and
   the API serves it without a restart;
2. a better training is promoted while a load generator calls the API: MLflow's webhook
   wakes every worker, and no request fails; with the webhook disabled, moving the alias
   back is found by polling, again without a failed request;
3. a worse training registers a version that does not become champion.

A user's own CSV files (one that fails validation, one of another schema with gaps trained
under its own name and served beside the demo) go through the dashboard, in
test_dashboard.py, as a user sends them.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from contextlib import contextmanager

import httpx
import mlflow
import pytest
from mlflow import MlflowClient

from local import podman
from tests.conftest import VENV_BIN, run
from tests.ml import wine
from tests.replica.conftest import ip, wait

MODEL = "wine-cultivar"
WEAK = {"param_grid": {"n_estimators": [1], "max_depth": [1]}}
FEATURES = wine().drop(columns="cultivar")


def records(count: int = 1, start: int = 0) -> list[dict]:
    return FEATURES.iloc[start : start + count].to_dict(orient="records")


@pytest.fixture(scope="module")
def registry(converged, secrets):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        patch.setenv("MLFLOW_TRACKING_PASSWORD", secrets["secret_mlflow_admin_password"])
        mlflow.set_tracking_uri(f"http://{ip(converged, 'mlflow')}:5000")
        yield MlflowClient()
        mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def model_api(converged, secrets):
    with httpx.Client(
        base_url=f"http://{ip(converged, 'app')}:8000",
        headers={"X-API-Key": secrets["secret_model_api_key"]},
        timeout=30,
    ) as client:
        yield client


@pytest.fixture(scope="module")
def api_pid(converged):
    """The model API's main process: a promotion must not restart it."""
    container = f"{converged.name}-app"
    return podman.exec_(container, ["systemctl", "show", "-P", "ExecMainPID", "model-api"])


def train(airflow_api, **conf) -> dict:
    wait(lambda: airflow_api("GET", "/api/v2/dags/train_model"), timeout=180)
    run = airflow_api.run_dag("train_model", conf)
    assert run["state"] == "success", run
    return run


def version_of(registry, run: dict, model: str = MODEL):
    """The model version the DAG run registered (tagged with its run id)."""
    found = registry.search_model_versions(
        f"name = '{model}' and tag.airflow_dag_run_id = '{run['dag_run_id']}'"
    )
    assert len(found) == 1, found
    return found[0]


def champion(registry, model: str = MODEL) -> str:
    return str(registry.get_model_version_by_alias(model, "champion").version)


def serving(model_api, version: str) -> None:
    ready = model_api.get("/ready").json()
    assert ready["model"] == f"{MODEL}@champion v{version}", ready


def test_first_training_becomes_champion_and_is_served(
    airflow_api, registry, model_api, api_pid
) -> None:
    run = train(airflow_api, **WEAK)
    version = version_of(registry, run)
    assert champion(registry) == str(version.version)
    assert "first version" in version.tags["promotion"]
    wait(lambda: serving(model_api, str(version.version)), timeout=60)
    response = model_api.post("/predict", json={"records": records(3)})
    assert response.status_code == 200, response.text
    assert response.json()["model_version"] == str(version.version)
    assert len(response.json()["predictions"]) == 3


def test_tasks_ran_where_the_executor_puts_them(airflow_api, converged) -> None:
    """LocalExecutor: on the airflow host. CeleryExecutor (a replica with workers,
    MLOPS_E2E_SCALE="airflow_worker=1"): on the workers, training on its own queue."""
    (latest,) = airflow_api(
        "GET", "/api/v2/dags/train_model/dagRuns?state=success&order_by=-run_after&limit=1"
    )["dag_runs"]
    path = f"/api/v2/dags/train_model/dagRuns/{latest['dag_run_id']}/taskInstances"
    tasks = {t["task_id"]: t for t in airflow_api("GET", path)["task_instances"]}
    workers = {converged.ip(h) for h in converged.hosts if "airflow_worker" in h.groups}
    where = {t["hostname"] for t in tasks.values()}
    assert where <= (workers or {ip(converged, "airflow")}), where
    assert tasks["train"]["queue"] == "training"


def test_predictions_through_the_load_balancer_verify_against_the_replica_ca(
    converged, model_api
) -> None:
    """As users call the API on AWS: https://api.<domain> through the load balancer (the lb
    host, standing in for the ALB), its certificate verified against the replica's CA."""
    name = converged.service_name("api")
    lb = ip(converged, "lb")
    curl = [
        "curl",
        "--silent",
        "--show-error",
        *("--cacert", str(converged.tls_dir / "ca.crt")),
        *("--resolve", f"{name}:443:{lb}"),
        *("--write-out", "\n%{http_code}"),
    ]
    body = json.dumps({"records": records(2)})
    headers = [f"X-API-Key: {model_api.headers['X-API-Key']}", "Content-Type: application/json"]
    predicted = run(
        [*curl, *(a for h in headers for a in ("-H", h)), "-d", body, f"https://{name}/predict"]
    )
    assert predicted.returncode == 0, predicted.stderr
    answer, status = predicted.stdout.rsplit("\n", 1)
    assert status == "200", answer
    assert len(json.loads(answer)["predictions"]) == 2
    # the ALB's default action for a name it has no rule for
    other = run([*curl, "-H", f"Host: unknown.{converged.domain}", f"https://{name}/health"])
    assert other.stdout.rsplit("\n", 1)[1] == "404"
    # and no TLS without the CA: the certificate is the replica's, not a public one
    untrusted = run(["curl", "--silent", "--resolve", f"{name}:443:{lb}", f"https://{name}/health"])
    assert untrusted.returncode == 60  # SSL certificate problem


@contextmanager
def under_load(model_api, label: str):
    """Four clients calling /predict until the block ends: (outcomes, versions served)."""
    outcomes: Counter = Counter()
    versions: Counter = Counter()
    latencies: list[float] = []
    stop = threading.Event()

    def generate_load(offset: int) -> None:
        with httpx.Client(
            base_url=str(model_api.base_url), headers=model_api.headers, timeout=30
        ) as client:
            while not stop.is_set():
                sent = time.perf_counter()
                try:
                    response = client.post("/predict", json={"records": records(5, offset)})
                except httpx.HTTPError as error:
                    outcomes[type(error).__name__] += 1
                    continue
                latencies.append(time.perf_counter() - sent)
                outcomes[response.status_code] += 1
                if response.status_code == 200:
                    versions[response.json()["model_version"]] += 1

    senders = [threading.Thread(target=generate_load, args=(i * 5,)) for i in range(4)]
    for sender in senders:
        sender.start()
    try:
        yield outcomes, versions
    finally:
        stop.set()
        for sender in senders:
            sender.join()
    latencies.sort()
    print(
        f"{label}: {sum(outcomes.values())} requests {dict(outcomes)}, by version "
        f"{dict(versions)}, p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, p99 "
        f"{latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms"
    )


def metric(model_api, name: str) -> dict[str, float]:
    """One metric's samples from /metrics, by their labels."""
    found = {}
    for line in model_api.get("/metrics").text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            labels, _, value = line[len(name) :].rpartition(" ")
            found[labels] = float(value)
    return found


def every_worker_serves(model_api, version: str) -> None:
    """Each uvicorn worker reports the version it serves (model_api_model_version{pid})."""
    workers = metric(model_api, "model_api_model_version")
    assert len(workers) >= 2, workers
    assert set(workers.values()) == {float(version)}, workers


def woken(model_api) -> float:
    return metric(model_api, "model_api_webhooks_total").get('{result="woke"}', 0.0)


def test_promotion_under_load_fails_no_request(
    airflow_api, registry, model_api, converged, api_pid
) -> None:
    """MLflow's webhook tells the API the alias moved: every worker serves the new version."""
    before, woke = champion(registry), woken(model_api)
    with under_load(model_api, "promotion under load") as (outcomes, versions):
        version = version_of(registry, train(airflow_api))
        after = str(version.version)
        assert champion(registry) == after, version.tags["promotion"]
        wait(lambda: every_worker_serves(model_api, after), timeout=90)
        wait(lambda: served_enough(versions, after), timeout=60)
    assert set(outcomes) == {200}, (outcomes, worker_starts(converged))
    assert versions[before] > 0
    assert versions[after] > 0
    assert woken(model_api) > woke, "no webhook delivery woke the API"
    container = f"{converged.name}-app"
    assert podman.exec_(container, ["systemctl", "show", "-P", "ExecMainPID", "model-api"]) == (
        api_pid
    )


def worker_starts(replica) -> list[str]:
    """The API's journal lines of workers started, replaced or failing (what a 503 under load
    would come from)."""
    journal = podman.exec_(
        f"{replica.name}-app", ["journalctl", "-u", "model-api", "--no-pager", "-o", "cat"]
    )
    marks = ("Started server process", "died", "Traceback", "no model after")
    return [line for line in journal.splitlines() if any(mark in line for mark in marks)]


def served_enough(versions: Counter, version: str) -> None:
    assert versions[version] > 50


def test_with_the_webhook_disabled_polling_still_moves_every_worker(registry, model_api) -> None:
    """The fallback: MLflow delivers nothing, and each worker's poll finds the alias moved."""
    (hook,) = [h for h in registry.list_webhooks() if h.name == "model-api-app"]
    current = champion(registry)
    previous = str(int(current) - 1)
    woke = woken(model_api)
    registry.update_webhook(hook.webhook_id, status="DISABLED")
    try:
        time.sleep(6)  # MLflow's cache of the webhooks lasts 5 s (MLFLOW_WEBHOOK_CACHE_TTL)
        with under_load(model_api, "alias moved back with the webhook disabled") as (
            outcomes,
            versions,
        ):
            registry.set_registered_model_alias(MODEL, "champion", previous)
            wait(lambda: every_worker_serves(model_api, previous), timeout=90)
            wait(lambda: served_enough(versions, previous), timeout=60)
        assert set(outcomes) == {200}, outcomes
        assert woken(model_api) == woke
    finally:
        registry.update_webhook(hook.webhook_id, status="ACTIVE")
        registry.set_registered_model_alias(MODEL, "champion", current)
    wait(lambda: every_worker_serves(model_api, current), timeout=90)


def test_worse_training_leaves_the_champion(airflow_api, registry, model_api) -> None:
    before = champion(registry)
    version = version_of(registry, train(airflow_api, **WEAK))
    assert champion(registry) == before
    assert "champion kept" in version.tags["promotion"]
    assert model_api.post("/predict", json={"records": records(1)}).json()["model_version"] == (
        before
    )


def test_bench_and_drills_run_in_smoke_mode(converged, model_api, tmp_path) -> None:
    """`make bench` and `make drills`, each part for seconds, on this replica (so they cannot
    rot): the figures go to a temporary directory, not to bench/results."""
    env = {
        "MLOPS_REPLICA_NAME": converged.name,
        "MLOPS_REPLICA_SUBNET": converged.subnet,
        "MLOPS_REPLICA_STATE": str(converged.state_dir),
        "MLOPS_REPLICA_INVENTORY": str(converged.inventory_dir),
    }
    python = str(VENV_BIN / "python")
    results = ["--results", str(tmp_path)]
    bench = run([python, "-m", "bench", "--smoke", "--only", "serving,promotion", *results], **env)
    assert bench.returncode == 0, bench.stdout[-3000:] + bench.stderr[-3000:]
    (result,) = [json.loads(path.read_text()) for path in tmp_path.glob("bench-*.json")]
    cells = {(cell["target"], cell["rows"]) for cell in result["serving"]["runs"]}
    targets = ("model_api", "model_api_pyfunc", "mlflow_serve")
    assert cells == {(target, rows) for target in targets for rows in (1, 100)}
    assert all(cell["failed"] == 0 and cell["requests"] > 0 for cell in result["serving"]["runs"])
    moves = result["promotion"]["moves"]
    assert [move["case"] for move in moves] == ["new version", "rollback"]
    assert all(move["load"]["failed"] == 0 and move["woken_by_webhook"] for move in moves)
    # MLflow told the API of the registration, and the host prepared the version ahead
    assert None not in (moves[0]["registered_s"], moves[0]["prepared_s"]), moves[0]
    drill_argv = [python, "-m", "bench.drills", "--only", "kill -9 dashboard", "--load-seconds"]
    drills = run([*drill_argv, "8", *results], **env)
    assert drills.returncode == 0, drills.stdout[-3000:] + drills.stderr[-3000:]
    (result,) = [json.loads(path.read_text()) for path in tmp_path.glob("drills-*.json")]
    (drill,) = result["drills"]["drills"]
    assert drill["back_after_failure_s"] is not None
    assert drill["lost"] == {}
    assert drill["load"]["error_answers"] == 0


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b'{"records": [', {}, 422, "JSON decode error"),
        (json.dumps({"records": [{"alcohol": "x"}]}).encode(), {}, 422, "must be a number"),
        (json.dumps({"records": [{**records(1)[0], "vintage": 1}]}).encode(), {}, 422, "not an"),
        (json.dumps({"records": []}).encode(), {}, 422, "at least 1 item"),
        (json.dumps({"records": records(1) * 1001}).encode(), {}, 413, "at most 1000"),
        (json.dumps({"records": records(1)}).encode(), {"X-API-Key": ""}, 401, "missing API key"),
        (json.dumps({"records": records(1)}).encode(), {"X-API-Key": "x" * 20}, 401, "invalid"),
    ],
)
def test_bad_requests_get_a_clear_4xx(model_api, body, headers, status, message) -> None:
    response = model_api.post(
        "/predict", content=body, headers={"Content-Type": "application/json", **headers}
    )
    assert response.status_code == status, response.text
    assert message in response.text
