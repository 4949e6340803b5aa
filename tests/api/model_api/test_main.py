"""The model API end to end: real uvicorn, real MLflow store, models trained by the DAG's code."""

from __future__ import annotations

import json
import threading
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from tests.api.model_api.conftest import wait_for
from tests.ml import train_version, wine, with_gaps

FEATURES = wine().drop(columns="cultivar")


def records(count: int = 1) -> list[dict]:
    return FEATURES.head(count).to_dict(orient="records")


@pytest.fixture(scope="module")
def wine_api(api_factory):
    trained, _ = train_version("api-wine")
    server = api_factory("api-wine", MODEL_API_MAX_BATCH_SIZE="50")
    wait_for(lambda: server.serving(trained.version))
    return server


def test_health_and_ready_without_a_key(wine_api) -> None:
    assert wine_api.client.get("/health", headers={"X-API-Key": ""}).json() == {"status": "ok"}
    ready = wine_api.client.get("/ready", headers={"X-API-Key": ""})
    assert ready.status_code == 200
    assert ready.json()["ready"] is True


def test_predict_one_and_many(wine_api) -> None:
    one = wine_api.client.post("/predict", json={"records": records(1)})
    assert one.status_code == 200, one.text
    assert one.json()["predictions"] == ["class_0"]
    many = wine_api.client.post("/predict", json={"records": records(50)})
    assert many.status_code == 200
    body = many.json()
    assert body["model_name"] == "api-wine"
    assert len(body["predictions"]) == 50
    assert set(body["predictions"]) <= {"class_0", "class_1", "class_2"}


def test_integers_are_accepted_for_double_inputs(wine_api) -> None:
    record = {name: int(value) for name, value in records(1)[0].items()}
    assert wine_api.client.post("/predict", json={"records": [record]}).status_code == 200


def test_model_describes_what_is_served(wine_api) -> None:
    info = wine_api.client.get("/model").json()
    assert info["name"] == "api-wine"
    assert info["alias"] == "champion"
    assert info["run_id"]
    inputs = json.loads(info["signature"]["inputs"])
    assert [column["name"] for column in inputs] == FEATURES.columns.tolist()
    assert info["serving_path"] == "onnx", info["serving_path_reason"]
    assert info["last_load_error"] is None


def _bad(record_changes: dict | None = None, drop: str | None = None) -> dict:
    record = records(1)[0]
    if drop:
        record.pop(drop)
    record.update(record_changes or {})
    return {"records": [record]}


@pytest.mark.parametrize(
    ("body", "status", "loc", "message"),
    [
        (_bad({"alcohol": "strong"}), 422, ["body", "records", 0, "alcohol"], "must be a number"),
        (_bad({"hue": True}), 422, ["body", "records", 0, "hue"], "got bool True"),
        (_bad({"proline": None}), 422, ["body", "records", 0, "proline"], "is required"),
        (_bad(drop="ash"), 422, ["body", "records", 0, "ash"], "'ash' is required"),
        (_bad({"vintage": 1999}), 422, ["body", "records", 0, "vintage"], "not an input"),
        ({"records": []}, 422, ["body", "records"], "at least 1 item"),
        ({"records": [1, 2]}, 422, ["body", "records", 0], "valid dictionary"),
        ({"rows": records(1)}, 422, ["body", "records"], "Field required"),
        ({"records": records(1), "extra": 1}, 422, ["body", "extra"], "Extra inputs"),
        ({"records": records(51)}, 413, None, "51 records; at most 50"),
    ],
)
def test_bad_requests_get_a_clear_4xx(wine_api, body, status, loc, message) -> None:
    response = wine_api.client.post("/predict", json=body)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    if loc is None:
        assert message in detail
    else:
        assert any(item["loc"] == loc and message in item["msg"] for item in detail), detail


def test_malformed_json(wine_api) -> None:
    response = wine_api.client.post(
        "/predict", content=b'{"records": [', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_every_problem_is_listed(wine_api) -> None:
    body = {"records": [{"alcohol": "x"}, {**records(1)[0], "extra": 1}]}
    detail = wine_api.client.post("/predict", json=body).json()["detail"]
    assert len([item for item in detail if item["loc"][2] == 0]) == 13  # 12 missing, 1 wrong
    assert [item["loc"] for item in detail if item["loc"][2] == 1] == [
        ["body", "records", 1, "extra"]
    ]


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, "missing API key"), ({"X-API-Key": "wrong-key-0123456789"}, "invalid API key")],
)
def test_api_key_is_required(wine_api, headers: dict, message: str) -> None:
    for method, path in [("POST", "/predict"), ("GET", "/model")]:
        response = wine_api.client.request(
            method, path, json={"records": records(1)}, headers={"X-API-Key": "", **headers}
        )
        assert response.status_code == 401
        assert message in response.json()["detail"]


def test_openapi_reflects_the_signature_and_limits(wine_api) -> None:
    document = wine_api.client.get("/openapi.json").json()
    records_schema = document["components"]["schemas"]["PredictRequest"]["properties"]["records"]
    assert records_schema["maxItems"] == 50
    item = records_schema["items"]
    assert list(item["properties"]) == FEATURES.columns.tolist()
    assert item["properties"]["alcohol"]["type"] == "number"
    assert item["additionalProperties"] is False
    assert "APIKeyHeader" in document["components"]["securitySchemes"]
    assert {"401", "413", "422", "503"} <= set(document["paths"]["/predict"]["post"]["responses"])


def test_metrics(wine_api) -> None:
    wine_api.client.post("/predict", json={"records": records(2)})
    text = wine_api.client.get("/metrics").text
    assert 'model_api_requests_total{method="POST",route="/predict",status="200"}' in text
    assert "model_api_request_duration_seconds_bucket" in text
    assert "model_api_model_version" in text
    assert 'model_api_model_loads_total{result="success"}' in text
    assert 'model_api_serving_path{path="onnx"' in text
    assert 'model_api_predictions_total{path="onnx"}' in text


def test_a_starting_worker_takes_requests_once_it_serves(wine_api, api_factory) -> None:
    """A worker started where a champion exists (a restart, or uvicorn replacing a worker
    under traffic) answers its first request with the model, not with a 503."""
    server = api_factory("api-wine")  # returns once /health answers
    response = server.client.post("/predict", json={"records": records(1)})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("frame", "optional"),
    [
        (with_gaps(), ["alcohol", "region"]),
        (wine().assign(alcohol=lambda f: f.alcohol.mask(f.index % 4 == 0)), ["alcohol"]),
    ],
    ids=["numeric and categorical gaps", "numeric gaps"],
)
def test_a_model_trained_on_data_with_gaps_accepts_null_where_it_imputes(
    api_factory, frame, optional
) -> None:
    name = f"api-gaps-{len(optional)}"
    trained, _ = train_version(name, frame=frame)
    server = api_factory(name)
    wait_for(lambda: server.serving(trained.version))
    record = frame.drop(columns="cultivar").dropna().head(1).to_dict(orient="records")[0]
    nulls = {column: None for column in optional}
    response = server.client.post("/predict", json={"records": [record, {**record, **nulls}]})
    assert response.status_code == 200, response.text
    assert set(response.json()["predictions"]) <= {"class_0", "class_1", "class_2"}
    absent = {key: value for key, value in record.items() if key not in optional}
    assert server.client.post("/predict", json={"records": [absent]}).status_code == 200
    refused = server.client.post("/predict", json={"records": [{**record, "hue": None}]})
    assert refused.status_code == 422
    assert "hue" in refused.text
    # the fast path serves the complete records (the imputers are left out of its copy)
    assert server.client.get("/model").json()["serving_path"] == "onnx"


def test_no_model_yet_is_503_not_a_crash(api_factory) -> None:
    server = api_factory("not-trained-yet")
    wait_for(lambda: server.client.get("/ready").json()["last_checked"])
    ready = server.client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["last_load_error"] == (
        "no model named not-trained-yet is registered yet: train one: trigger Airflow's "
        "train_model DAG (model_name=not-trained-yet), which registers a version and gives it "
        "the alias champion when it wins"
    )
    response = server.client.post("/predict", json={"records": records(1)})
    assert response.status_code == 503
    assert "no model is being served" in response.json()["detail"]


def test_a_model_without_the_alias_says_so(api_factory) -> None:
    MlflowClient().create_registered_model("registered-not-promoted")
    server = api_factory("registered-not-promoted")
    wait_for(lambda: server.client.get("/ready").json()["last_checked"])
    error = server.client.get("/ready").json()["last_load_error"]
    assert error.startswith(
        "no version of registered-not-promoted has the alias champion yet: train one"
    )


def test_promotion_under_load_drops_no_request(api_factory) -> None:
    first, _ = train_version("api-swap", param_grid={"n_estimators": [1], "max_depth": [1]})
    server = api_factory("api-swap")
    wait_for(lambda: server.serving(first.version))
    outcomes: Counter = Counter()
    versions: Counter = Counter()
    stop = threading.Event()

    def load() -> None:
        with server.new_client() as client:
            while not stop.is_set():
                response = client.post("/predict", json={"records": records(5)})
                outcomes[response.status_code] += 1
                if response.status_code == 200:
                    versions[response.json()["model_version"]] += 1

    senders = [threading.Thread(target=load) for _ in range(4)]
    for sender in senders:
        sender.start()
    try:
        second, decision = train_version("api-swap")
        assert decision.promoted
        wait_for(lambda: server.serving(second.version))
        wait_for(lambda: versions[second.version] > 20)
    finally:
        stop.set()
        for sender in senders:
            sender.join()
    assert set(outcomes) == {200}, outcomes
    assert versions[first.version] > 0
    assert versions[second.version] > 0


def test_new_signature_is_enforced_after_promotion(api_factory) -> None:
    train_version("api-reshape")
    server = api_factory("api-reshape")
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "tenure": rng.integers(1, 60, 120).astype(float),
            "plan": rng.choice(["basic", "pro"], 120),
            "churned": rng.choice(["yes", "no"], 120),
        }
    )
    reshaped, _ = train_version("api-reshape", frame=frame, target="churned")
    wait_for(lambda: server.serving(reshaped.version))
    ok = server.client.post("/predict", json={"records": [{"tenure": 12.0, "plan": "pro"}]})
    assert ok.status_code == 200, ok.text
    assert ok.json()["predictions"][0] in {"yes", "no"}
    old = server.client.post("/predict", json={"records": records(1)})
    assert old.status_code == 422
    assert "'tenure' is required" in old.text


def test_a_failed_load_keeps_the_old_model(api_factory, tmp_path) -> None:
    good, _ = train_version("api-broken")
    server = api_factory("api-broken")
    wait_for(lambda: server.serving(good.version))
    client = MlflowClient()
    broken = client.create_model_version("api-broken", source=str(tmp_path / "nothing-here"))
    client.set_registered_model_alias("api-broken", "champion", broken.version)

    def reports_failure():
        """/ready to report the failed load"""
        return server.client.get("/ready").json()["last_load_error"]

    error = wait_for(reports_failure)
    assert f"loading api-broken v{broken.version} failed" in error
    response = server.client.post("/predict", json={"records": records(1)})
    assert response.status_code == 200
    assert response.json()["model_version"] == good.version
    assert 'model_api_model_loads_total{result="failure"}' in server.client.get("/metrics").text


def test_unreachable_mlflow_is_reported_not_fatal(api_factory) -> None:
    from tests.conftest import free_port

    server = api_factory(
        "anything",
        MLFLOW_TRACKING_URI=f"http://127.0.0.1:{free_port()}",
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
    )
    wait_for(lambda: server.client.get("/ready").json()["last_checked"], timeout=30)
    ready = server.client.get("/ready")
    assert ready.status_code == 503
    error = ready.json()["last_load_error"]
    assert "cannot resolve anything@champion" in error
    assert "Connection refused" in error
    assert server.client.get("/health").status_code == 200


def test_two_models_at_once_and_the_cache_drops_the_least_recently_used(
    api_factory, wine_api
) -> None:
    """Any registered model by its name, without a redeploy: with room for one other model,
    a second evicts the first, and the next request for the first loads it again."""
    gaps, _ = train_version("api-second", frame=with_gaps())
    server = api_factory("not-configured-here", MODEL_API_CACHE_MAX_MODELS="1")
    wine_record = records(1)
    gaps_record = with_gaps().drop(columns="cultivar").dropna().head(1).to_dict(orient="records")

    def predict(name: str, body: list[dict]) -> str:
        response = server.client.post(f"/models/{name}/predict", json={"records": body})
        assert response.status_code == 200, response.text
        return response.json()["model_version"]

    def metric(name: str) -> float:
        lines = server.client.get("/metrics").text.splitlines()
        return sum(float(line.split()[-1]) for line in lines if line.startswith(name))

    wine_version = server.client.get("/models/api-wine").json()["version"]
    assert predict("api-wine", wine_record) == wine_version
    assert predict("api-second", gaps_record) == gaps.version  # api-wine evicted
    assert predict("api-second", [{**gaps_record[0], "alcohol": None}]) == gaps.version
    assert metric("model_api_model_cache_evictions_total") == 1
    loads = metric('model_api_model_loads_total{result="success"}')
    assert predict("api-wine", wine_record) == wine_version  # loaded again
    assert metric('model_api_model_loads_total{result="success"}') == loads + 1
    assert metric("model_api_model_cache_evictions_total") == 2
    # its own signature: alcohol may be null (imputed), hue may not
    refused = server.client.post(
        "/models/api-second/predict", json={"records": [{**gaps_record[0], "hue": None}]}
    )
    assert refused.status_code == 422
    assert f"'hue' is required by api-second v{gaps.version}" in refused.text
    missing = server.client.get("/models/never-registered")
    assert missing.status_code == 404
    assert "no model named never-registered is registered yet" in missing.json()["detail"]
