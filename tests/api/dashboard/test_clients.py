"""The Airflow and model API clients against a local HTTP server: tokens, calls, errors."""

from __future__ import annotations

import base64
import itertools
import json

import pytest

from dashboard.clients import (
    TOKEN_FALLBACK_SECONDS,
    TOKEN_MARGIN_SECONDS,
    AirflowClient,
    ModelApiClient,
    ServiceError,
    record_schema_of,
    token_expiry,
)

NOW = 1_800_000_000.0
LIFETIME = 3600
RUNS_PATH = "/api/v2/dags/train_model/dagRuns"
PASSWORD = "s3cret"


def jwt(exp: float | None, serial: int) -> str:
    """A token shaped like Airflow's JWTs (the client never checks the signature)."""
    claims = {"sub": "1", "jti": str(serial)} | ({"exp": exp} if exp is not None else {})

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS512'})}.{part(claims)}.signature"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class FakeAirflow:
    """/auth/token and the dagRuns endpoint; only the latest token issued is accepted."""

    def __init__(self, server, *, expiring: bool = True) -> None:
        self.server = server
        self.expiring = expiring
        self.serial = itertools.count(1)
        self.valid: str | None = None
        server.route("POST", "/auth/token", self.login)
        server.route("GET", RUNS_PATH, self.runs)
        server.route("POST", RUNS_PATH, self.trigger)

    def login(self, request):
        if request.body != {"username": "dashboard", "password": PASSWORD}:
            return 401, {"detail": "Invalid credentials"}
        self.valid = jwt(NOW + LIFETIME if self.expiring else None, next(self.serial))
        return 201, {"access_token": self.valid}

    def authorized(self, request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.valid}"

    def runs(self, request):
        if not self.authorized(request):
            return 401, {"detail": "Not authenticated"}
        return 200, {"dag_runs": [{"dag_run_id": "manual__1", "state": "success"}]}

    def trigger(self, request):
        if not self.authorized(request):
            return 401, {"detail": "Not authenticated"}
        return 200, {"dag_run_id": "manual__2", "state": "queued", "conf": request.body["conf"]}

    def revoke(self) -> None:
        self.valid = "revoked"

    @property
    def logins(self) -> int:
        return len(self.server.calls("POST", "/auth/token"))


def client(url: str, clock: Clock | None = None, password: str | None = None) -> AirflowClient:
    return AirflowClient(url, "dashboard", password or PASSWORD, clock=clock or Clock())


def test_token_expiry_reads_the_exp_claim() -> None:
    assert token_expiry(jwt(NOW + 60, 1)) == NOW + 60
    assert token_expiry(jwt(None, 1)) is None
    assert token_expiry("not-a-jwt") is None
    assert token_expiry("a.!!!.c") is None


def test_one_token_serves_many_calls(fake_server) -> None:
    airflow = FakeAirflow(fake_server)
    api = client(fake_server.url)
    for _ in range(3):
        assert api.dag_runs("train_model")[0]["dag_run_id"] == "manual__1"
    assert airflow.logins == 1
    run_requests = fake_server.calls("GET", RUNS_PATH)
    assert len(run_requests) == 3
    assert all(r.headers["Authorization"] == f"Bearer {airflow.valid}" for r in run_requests)
    assert "order_by=-run_after" in run_requests[0].path
    assert "limit=20" in run_requests[0].path


def test_a_token_is_renewed_shortly_before_it_expires(fake_server) -> None:
    airflow = FakeAirflow(fake_server)
    clock = Clock()
    api = client(fake_server.url, clock)
    first = api.token()
    clock.now = NOW + LIFETIME - TOKEN_MARGIN_SECONDS - 1
    assert api.token() == first
    assert airflow.logins == 1
    clock.now = NOW + LIFETIME - TOKEN_MARGIN_SECONDS + 1
    assert api.token() != first
    assert airflow.logins == 2


def test_a_token_without_expiry_is_kept_for_a_while(fake_server) -> None:
    airflow = FakeAirflow(fake_server, expiring=False)
    clock = Clock()
    api = client(fake_server.url, clock)
    api.token()
    clock.now = NOW + TOKEN_FALLBACK_SECONDS - TOKEN_MARGIN_SECONDS - 1
    api.token()
    assert airflow.logins == 1
    clock.now = NOW + TOKEN_FALLBACK_SECONDS
    api.token()
    assert airflow.logins == 2


def test_a_refused_token_is_renewed_once(fake_server) -> None:
    airflow = FakeAirflow(fake_server)
    api = client(fake_server.url)
    api.dag_runs("train_model")
    airflow.revoke()
    assert api.dag_runs("train_model")[0]["state"] == "success"
    assert airflow.logins == 2


def test_wrong_credentials_are_a_service_error(fake_server) -> None:
    FakeAirflow(fake_server)
    with pytest.raises(ServiceError, match="Invalid credentials") as raised:
        client(fake_server.url, password="wrong").dag_runs("train_model")
    assert raised.value.status == 401


def test_a_missing_dag_keeps_its_status(fake_server) -> None:
    FakeAirflow(fake_server)
    with pytest.raises(ServiceError) as raised:
        client(fake_server.url).dag("no_such_dag")
    assert raised.value.status == 404
    assert raised.value.detail == "Not Found"


def test_trigger_sends_the_conf_with_no_logical_date(fake_server) -> None:
    FakeAirflow(fake_server)
    conf = {"dataset": "s3://b/k.csv", "param_grid": {"max_depth": [3]}}
    run = client(fake_server.url).trigger("train_model", conf)
    assert run["dag_run_id"] == "manual__2"
    assert fake_server.calls("POST", RUNS_PATH)[0].body == {"logical_date": None, "conf": conf}


def test_an_unreachable_airflow_is_a_service_error(closed_port_url) -> None:
    with pytest.raises(ServiceError, match="cannot be reached") as raised:
        client(closed_port_url).dag_runs("train_model")
    assert raised.value.status is None


def test_model_api_sends_the_key_and_the_records(fake_server) -> None:
    fake_server.route(
        "POST",
        "/predict",
        lambda request: (
            200,
            {"model_name": "wine", "model_version": "3", "predictions": ["class_1"]},
        ),
    )
    answer = ModelApiClient(fake_server.url, "key-123").predict([{"alcohol": 13.0}])
    assert answer["predictions"] == ["class_1"]
    request = fake_server.calls("POST", "/predict")[0]
    assert request.headers["X-API-Key"] == "key-123"
    assert request.body == {"records": [{"alcohol": 13.0}]}


def test_model_api_errors_keep_status_and_detail(fake_server) -> None:
    detail = [{"type": "missing", "loc": ["body", "records", 0, "hue"], "msg": "required"}]
    fake_server.route("POST", "/predict", lambda request: (422, {"detail": detail}))
    fake_server.route(
        "GET", "/model", lambda request: (503, {"detail": "no model is being served"})
    )
    api = ModelApiClient(fake_server.url, "key-123")
    with pytest.raises(ServiceError) as rejected:
        api.predict([{}])
    assert (rejected.value.status, rejected.value.detail) == (422, detail)
    with pytest.raises(ServiceError, match="no model is being served") as unavailable:
        api.model()
    assert unavailable.value.status == 503


RECORD = {
    "type": "object",
    "properties": {"alcohol": {"type": "number"}, "maybe": {"type": ["number", "null"]}},
    "required": ["alcohol"],
    "additionalProperties": False,
}


def openapi(records: dict | None) -> dict:
    """The model API's OpenAPI document, reduced to what the dashboard reads."""
    request = {"type": "object", "properties": {} if records is None else {"records": records}}
    return {"openapi": "3.1.0", "components": {"schemas": {"PredictRequest": request}}}


def test_the_record_schema_is_read_from_the_openapi_document(fake_server) -> None:
    document = openapi({"type": "array", "items": RECORD})
    fake_server.route("GET", "/openapi.json", lambda request: (200, document))
    assert ModelApiClient(fake_server.url, "key-123").record_schema() == RECORD
    assert len(fake_server.calls("GET", "/openapi.json")) == 1


@pytest.mark.parametrize(
    "document",
    [
        openapi({"type": "array", "items": {"type": "object", "additionalProperties": True}}),
        openapi({"type": "array"}),  # no items
        openapi(None),  # no records
        {"openapi": "3.1.0", "paths": {}},  # no PredictRequest
        {"components": {"schemas": {"PredictRequest": "not a schema"}}},
        [],
    ],
)
def test_no_model_loaded_is_no_record_schema(document) -> None:
    assert record_schema_of(document) is None


def test_references_to_components_are_followed() -> None:
    document = {
        "components": {
            "schemas": {
                "PredictRequest": {
                    "properties": {"records": {"items": {"$ref": "#/components/schemas/Record"}}}
                },
                "Record": RECORD,
            }
        }
    }
    assert record_schema_of(document) == RECORD


def test_an_unreadable_openapi_document_is_a_service_error(fake_server) -> None:
    fake_server.route("GET", "/openapi.json", lambda request: (200, "<html>docs</html>"))
    with pytest.raises(ServiceError, match="not JSON"):
        ModelApiClient(fake_server.url, "key-123").record_schema()
