"""The HTTP layer in-process (TestClient): routes, dependencies, errors, the OpenAPI document.

The same API on a real uvicorn over a real MLflow store is in test_main.py.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from model_api.dependencies import require_api_key, served_model
from tests.api.model_api import fakes
from tests.api.model_api.fakes import API_KEY, record

KEY = {"X-API-Key": API_KEY}
INT64_MAX = 2**63 - 1


@pytest.fixture
def model():
    return fakes.loaded_model()


@pytest.fixture
def client(model):
    return TestClient(fakes.app(model, max_batch_size=5), headers=KEY)


def test_predict_sends_the_model_a_frame_in_its_columns_and_dtypes(client, model) -> None:
    response = client.post("/predict", json={"records": [record(), record(note=..., hue=None)]})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "model_name": "fake",
        "model_version": "3",
        "predictions": ["class_1", "class_1"],
    }
    (frame,) = model.pyfunc.frames
    assert frame.columns.tolist() == [column.name for column in fakes.COLUMNS]
    assert frame.dtypes.astype(str).tolist()[:6] == [
        "float64", "float32", "int64", "int32", "bool", "object"
    ]  # fmt: skip
    assert frame["note"].tolist() == ["fine", None]


@pytest.mark.parametrize(
    ("changes", "field", "kind", "message"),
    [
        ({"alcohol": "strong"}, "alcohol", "number_type", "must be a number (double)"),
        ({"alcohol": True}, "alcohol", "number_type", "got bool True"),
        ({"count": 1.5}, "count", "integer_type", "must be an integer (long)"),
        ({"count": 742.5}, "count", "integer_type", "got float 742.5"),
        ({"count": INT64_MAX + 1}, "count", "out_of_range", "must be a long from"),
        ({"small": 2**31}, "small", "out_of_range", "must be an integer from"),
        ({"ratio": 1e39}, "ratio", "out_of_range", "must be a float from"),
        ({"alcohol": 10**400}, "alcohol", "out_of_range", "must be a double from"),
        ({"organic": 1}, "organic", "boolean_type", "got int 1"),
        ({"region": None}, "region", "missing", "'region' is required by fake v3"),
        ({"region": ...}, "region", "missing", "'region' is required by fake v3"),
        ({"vintage": 1999}, "vintage", "extra_forbidden", "not an input of fake v3"),
    ],
)
def test_each_bad_field_gets_its_own_422(client, changes, field, kind, message) -> None:
    response = client.post("/predict", json={"records": [record(), record(**changes)]})
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "records", 1, field]
    assert problem["type"] == kind
    assert message in problem["msg"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_json_extensions_for_non_finite_numbers_are_refused(client, literal) -> None:
    body = json.dumps({"records": [record()]}).replace("13.2", literal)
    response = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "records", 0, "alcohol"]


def test_integral_numbers_are_integers_as_in_json_schema(client, model) -> None:
    response = client.post("/predict", json={"records": [record(count=742.0, small=-3.0)]})
    assert response.status_code == 200, response.text
    assert model.pyfunc.frames[0][["count", "small"]].values.tolist() == [[742, -3]]


def test_the_extreme_values_of_a_type_are_served(client) -> None:
    extremes = record(count=INT64_MAX, small=-(2**31), ratio=3.4e38, alcohol=-1.7e308)
    assert client.post("/predict", json={"records": [extremes]}).status_code == 200


@pytest.mark.parametrize(
    ("content", "status", "kind"),
    [
        (b'{"records": [', 422, "json_invalid"),
        (b'{"records": "x"}', 422, "list_type"),
        (b"[]", 422, "model_attributes_type"),
    ],
)
def test_a_body_that_is_no_request_gets_a_422(client, content, status, kind) -> None:
    response = client.post(
        "/predict", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert response.json()["detail"][0]["type"] == kind


def test_a_body_that_is_not_utf8_gets_the_declared_400(client) -> None:
    response = client.post(
        "/predict", content=b'{"records": ["\xff"]}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "400" in client.get("/openapi.json").json()["paths"]["/predict"]["post"]["responses"]


def test_more_records_than_allowed_is_413(client) -> None:
    response = client.post("/predict", json={"records": [record()] * 6})
    assert response.status_code == 413
    assert response.json()["detail"] == "6 records; at most 5 per request"


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, "missing API key"), ({"X-API-Key": "not-the-key-0123456789"}, "invalid API key")],
)
@pytest.mark.parametrize(("method", "path"), [("POST", "/predict"), ("GET", "/model")])
def test_the_key_is_checked_before_anything_else(method, path, headers, message) -> None:
    client = TestClient(fakes.app(None))  # no model: the key still comes first
    response = client.request(method, path, json={"records": []}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "APIKey"
    assert message in response.json()["detail"]


def test_the_keys_are_those_of_the_apps_own_settings(model) -> None:
    other = fakes.create_app(
        fakes.settings().model_copy(update={"api_keys": [SecretStr("b" * 20)]}),
        fakes.FakeChampion(model),
    )
    assert TestClient(other, headers=KEY).get("/model").status_code == 401
    assert TestClient(other, headers={"X-API-Key": "b" * 20}).get("/model").status_code == 200


def test_a_first_look_that_takes_too_long_does_not_keep_the_api_down(caplog) -> None:
    class Slow(fakes.FakeChampion):
        def first_look(self, timeout: float) -> bool:
            return False  # what Champion.first_look says once `timeout` passed

    app = fakes.create_app(fakes.settings(startup_wait=2), Slow())
    with TestClient(app, headers=KEY) as client:
        assert client.get("/health").status_code == 200
    assert "no model after 2 s (MODEL_API_STARTUP_WAIT)" in caplog.text


def test_no_model_yet_is_a_503_that_says_why() -> None:
    client = TestClient(fakes.app(None, last_error="fake@champion does not exist yet"), headers=KEY)
    for response in (client.post("/predict", json={"records": [record()]}), client.get("/model")):
        assert response.status_code == 503
        assert response.json()["detail"] == (
            "no model is being served: fake@champion does not exist yet"
        )
    ready = client.get("/ready", headers={})
    assert ready.status_code == 503
    assert ready.json() == {
        "ready": False,
        "model": None,
        "last_load_error": "fake@champion does not exist yet",
        "last_checked": "2026-01-01T12:00:00+00:00",
    }


def test_the_fast_path_serves_complete_records_and_pyfunc_the_rest() -> None:
    model = fakes.loaded_model(fast=True)
    client = TestClient(fakes.app(model), headers=KEY)
    fast = client.post("/predict", json={"records": [record(), record(ratio=0.25)]})
    assert fast.json()["predictions"] == ["fast", "fast"]
    assert model.compiled.batches == [[record(), record(ratio=0.25)]]
    assert model.pyfunc.frames == []
    with_a_null = client.post("/predict", json={"records": [record(), record(hue=None)]})
    assert with_a_null.json()["predictions"] == ["class_1", "class_1"]
    assert len(model.pyfunc.frames) == 1
    info = client.get("/model").json()
    assert (info["serving_path"], info["serving_path_reason"]) == ("onnx", "checked")
    text = client.get("/metrics").text
    assert 'model_api_predictions_total{path="onnx"}' in text
    assert 'model_api_predictions_total{path="pyfunc"}' in text


def test_health_ready_and_model_describe_what_is_served(client) -> None:
    assert client.get("/health", headers={}).json() == {"status": "ok"}
    ready = client.get("/ready", headers={})
    assert ready.status_code == 200
    assert ready.json()["model"] == "fake@champion v3"
    info = client.get("/model").json()
    assert (info["name"], info["version"], info["run_id"]) == ("fake", "3", "run-1")
    assert info["loaded_at"] == "2026-01-01T00:00:00+00:00"
    assert info["serving_path"] == "pyfunc"
    assert info["serving_path_reason"].startswith("no scikit-learn flavour")
    assert info["last_load_error"] is None


def test_dependencies_can_be_overridden(client) -> None:
    swapped = fakes.loaded_model(version="9")
    client.app.dependency_overrides[served_model] = lambda: swapped
    client.app.dependency_overrides[require_api_key] = lambda: None
    response = client.post("/predict", json={"records": [record()]}, headers={})
    assert response.json()["model_version"] == "9"
    assert len(swapped.pyfunc.frames) == 1


def test_openapi_describes_the_served_records(client) -> None:
    document = client.get("/openapi.json").json()
    records = document["components"]["schemas"]["PredictRequest"]["properties"]["records"]
    assert records["maxItems"] == 5
    item = records["items"]
    assert list(item["properties"]) == [column.name for column in fakes.COLUMNS]
    assert item["properties"]["count"] == {
        "type": "integer", "minimum": -(2**63), "maximum": INT64_MAX
    }  # fmt: skip
    assert item["properties"]["note"] == {"type": ["string", "null"]}
    assert item["properties"]["organic"] == {"type": "boolean"}
    assert item["required"] == ["alcohol", "ratio", "count", "small", "organic", "region"]
    assert item["additionalProperties"] is False
    assert {"400", "401", "413", "422", "503"} <= set(
        document["paths"]["/predict"]["post"]["responses"]
    )


def test_openapi_without_a_model_accepts_any_record() -> None:
    document = TestClient(fakes.app(None)).get("/openapi.json").json()
    request = document["components"]["schemas"]["PredictRequest"]
    assert request["properties"]["records"]["items"] == {
        "type": "object", "additionalProperties": True
    }  # fmt: skip


def test_metrics_count_requests_by_route_template(client) -> None:
    client.post("/predict", json={"records": [record()]})
    client.get("/no-such-page")
    text = client.get("/metrics").text
    assert 'model_api_requests_total{method="POST",route="/predict",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "model_api_predictions_total" in text


def other_model(name: str, wake_file=None) -> fakes.FakeChampion:
    """Another registered model's champion: `churn` v7 is served, no other name is registered."""
    if name != "churn":
        return fakes.unregistered(name)
    champion = fakes.FakeChampion(fakes.loaded_model(version="7"))
    champion.name = "churn"
    return champion


@pytest.fixture
def models_client():
    return TestClient(fakes.app(fakes.loaded_model(), follow=other_model), headers=KEY)


def test_another_registered_model_is_predicted_and_described_by_its_name(models_client) -> None:
    response = models_client.post("/models/churn/predict", json={"records": [record()]})
    assert response.status_code == 200, response.text
    assert response.json()["model_version"] == "7"
    assert models_client.get("/models/churn").json()["version"] == "7"
    assert models_client.post("/predict", json={"records": [record()]}).json()[
        "model_version"
    ] == "3"  # the configured model, as before  # fmt: skip


def test_another_model_checks_its_own_signature_and_the_key(models_client) -> None:
    response = models_client.post("/models/churn/predict", json={"records": [{"alcohol": 1}]})
    assert response.status_code == 422
    assert "is required by fake v7" in json.dumps(response.json())
    keyless = TestClient(models_client.app)
    assert keyless.post("/models/churn/predict", json={"records": [record()]}).status_code == 401
    assert keyless.get("/models/churn").status_code == 401


@pytest.mark.parametrize("path", ["/models/nothing-here", "/models/nothing-here/predict"])
def test_a_model_not_registered_is_a_404_saying_how_to_train_one(models_client, path) -> None:
    response = models_client.request(
        "POST" if path.endswith("predict") else "GET", path, json={"records": [record()]}
    )
    assert response.status_code == 404
    assert "no model named nothing-here is registered yet" in response.json()["detail"]
