"""POST /webhooks/mlflow: deliveries signed as MLflow signs them wake the poller, or have a
version just registered prepared ahead; others are refused."""

from __future__ import annotations

import json
import threading
import time

import pytest
from fastapi.testclient import TestClient
from mlflow.webhooks.delivery import _generate_hmac_signature

from model_api import webhooks
from model_api.champion import Champion
from tests.api.model_api import fakes

SECRET = "webhook-secret-0123456789-0123456789"


def delivery(payload: dict, secret: str = SECRET, age: float = 0) -> tuple[dict, bytes]:
    """Headers and body as MLflow 3's webhook delivery sends them, signed by its own code."""
    body = json.dumps(payload)
    timestamp = str(int(time.time() - age))
    headers = {
        webhooks.DELIVERY_HEADER: "3f0c9d1e-delivery",
        webhooks.TIMESTAMP_HEADER: timestamp,
        webhooks.SIGNATURE_HEADER: _generate_hmac_signature(
            secret, "3f0c9d1e-delivery", timestamp, body
        ),
        "Content-Type": "application/json",
    }
    return headers, body.encode()


def alias_event(name: str = "fake", alias: str = "champion", action: str = "created") -> dict:
    return {
        "entity": "model_version_alias",
        "action": action,
        "timestamp": "2026-12-03T10:00:00+00:00",
        "data": {"name": name, "alias": alias, "version": "4"},
    }


def version_event(name: str = "fake", version: str = "5", run_id: str | None = "r1") -> dict:
    return {
        "entity": "model_version",
        "action": "created",
        "timestamp": "2026-12-03T10:00:00+00:00",
        "data": {"name": name, "version": version, "source": "models:/m-1", "run_id": run_id},
    }


@pytest.fixture
def api():
    app = fakes.app(fakes.loaded_model(), webhook_secret=SECRET)
    return TestClient(app), app.state.champion


@pytest.mark.parametrize(("action", "moved_to"), [("created", "4"), ("deleted", None)])
def test_a_signed_alias_event_for_the_served_model_wakes_the_poller(api, action, moved_to) -> None:
    """With the version the alias moved to, when the event names one."""
    client, champion = api
    headers, body = delivery(alias_event(action=action))
    response = client.post("/webhooks/mlflow", content=body, headers=headers)
    assert response.status_code == 204, response.text
    assert (champion.wakes, champion.moved_to) == (1, [moved_to])
    assert 'model_api_webhooks_total{result="woke"}' in client.get("/metrics").text


@pytest.mark.parametrize(
    "payload",
    [
        alias_event(name="another-model"),
        alias_event(alias="challenger"),
        {"entity": "model_version", "action": "created", "data": {"name": "fake"}},
    ],
)
def test_other_events_are_accepted_and_ignored(api, payload) -> None:
    client, champion = api
    headers, body = delivery(payload)
    assert client.post("/webhooks/mlflow", content=body, headers=headers).status_code == 204
    assert (champion.wakes, champion.prepared) == (0, [])


def test_a_version_of_the_served_model_registered_is_prepared_ahead(api) -> None:
    client, champion = api
    headers, body = delivery(version_event())
    assert client.post("/webhooks/mlflow", content=body, headers=headers).status_code == 204
    assert (champion.wakes, champion.prepared) == (0, ["5"])
    assert 'model_api_webhooks_total{result="prepared"}' in client.get("/metrics").text


def test_without_a_shared_load_directory_a_new_version_is_left_to_its_promotion(api) -> None:
    client, champion = api
    champion.can_prepare = False
    headers, body = delivery(version_event())
    assert client.post("/webhooks/mlflow", content=body, headers=headers).status_code == 204
    assert 'model_api_webhooks_total{result="ignored"}' in client.get("/metrics").text


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (version_event(), "5"),
        (version_event(run_id=None), "5"),  # as MLflow 3's log_model registers a version
        (version_event(name="another-model"), None),
        (version_event(version="../5"), None),
        (version_event(version=None), None),
        ({**version_event(), "action": "deleted"}, None),
        (alias_event(), None),
    ],
)
def test_only_a_version_of_the_served_model_created_is_named(payload, expected) -> None:
    assert webhooks.created_version(payload, "fake") == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (alias_event(), "4"),
        (alias_event(action="deleted"), None),
        (alias_event(alias="challenger"), None),
        (alias_event(name="another-model"), None),
        ({**alias_event(), "data": {"name": "fake", "alias": "champion", "version": "x"}}, None),
        (version_event(), None),
    ],
)
def test_only_the_served_alias_created_names_a_version(payload, expected) -> None:
    assert webhooks.moved_to(payload, "fake", "champion") == expected


@pytest.mark.parametrize(
    ("tamper", "status", "message"),
    [
        (lambda h, b: (h, b.replace(b'"4"', b'"5"')), 401, "signature does not match"),
        (lambda h, b: delivery(alias_event(), secret="another-secret-0123456789abcdef"), 401,
         "signature does not match"),
        (lambda h, b: delivery(alias_event(), age=301), 401, "s off (at most 300)"),
        (lambda h, b: ({**h, webhooks.TIMESTAMP_HEADER: "yesterday"}, b), 401, "not a Unix time"),
        (lambda h, b: ({"Content-Type": "application/json"}, b), 401, "missing X-MLflow-"),
    ],
    ids=["changed body", "other secret", "replayed", "bad timestamp", "unsigned"],
)  # fmt: skip
def test_unsigned_forged_or_replayed_deliveries_are_refused(api, tamper, status, message) -> None:
    client, champion = api
    headers, body = tamper(*delivery(alias_event()))
    response = client.post("/webhooks/mlflow", content=body, headers=headers)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert champion.wakes == 0


def test_a_signed_body_that_is_not_an_object_is_a_400(api) -> None:
    client, champion = api
    headers, body = delivery(alias_event())
    body = b"[1, 2]"
    headers[webhooks.SIGNATURE_HEADER] = webhooks.sign(
        SECRET, headers[webhooks.DELIVERY_HEADER], headers[webhooks.TIMESTAMP_HEADER], body
    )
    response = client.post("/webhooks/mlflow", content=body, headers=headers)
    assert response.status_code == 400
    assert champion.wakes == 0


def test_without_a_secret_the_endpoint_is_a_404() -> None:
    client = TestClient(fakes.app(fakes.loaded_model()))
    headers, body = delivery(alias_event())
    response = client.post("/webhooks/mlflow", content=body, headers=headers)
    assert response.status_code == 404
    assert "MODEL_API_WEBHOOK_SECRET" in response.json()["detail"]


def test_a_wake_in_one_worker_makes_every_worker_poll_now(tmp_path) -> None:
    """Two champions sharing the wake file stand for two uvicorn workers: the one a webhook
    reached wakes the other, which was to wait a whole minute before polling again."""
    wake_file = tmp_path / "alias-moved"
    polled = threading.Event()
    polls: list[str | None] = []

    class Counting(Champion):
        def poll(self, moved_to: str | None = None) -> bool:
            polls.append(moved_to)
            if len(polls) > 1:
                polled.set()
            return False

    sleeper = Counting("fake", "champion", poll_interval=60, wake_file=wake_file)
    receiver = Champion("fake", "champion", poll_interval=60, wake_file=wake_file)
    sleeper.start()
    try:
        time.sleep(0.3)  # the sleeper has polled once and waits
        started = time.monotonic()
        receiver.wake("7")
        assert polled.wait(5), "the other worker did not poll again"
        assert time.monotonic() - started < 1.0
        assert polls == [None, "7"]  # with the version the delivery named
    finally:
        sleeper.stop()
