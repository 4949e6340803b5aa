"""Health probes: what each service's answer means, and probing real (local) endpoints."""

from __future__ import annotations

from dashboard import health
from dashboard.health import Probe

HEALTHY = {name: {"status": "healthy"} for name in health.AIRFLOW_COMPONENTS}


def test_airflow_is_up_when_every_component_is_healthy() -> None:
    result = health.airflow_health(Probe(200, HEALTHY, 12.5))
    assert result.up
    assert result.latency_ms == 12.5
    assert result.detail == (
        "metadatabase healthy, scheduler healthy, triggerer healthy, dag_processor healthy"
    )


def test_airflow_is_down_when_a_component_is_not() -> None:
    body = {**HEALTHY, "scheduler": {"status": "unhealthy"}}
    del body["triggerer"]
    result = health.airflow_health(Probe(200, body, 9.0))
    assert not result.up
    assert "scheduler unhealthy" in result.detail
    assert "triggerer unknown" in result.detail


def test_airflow_answering_an_error_page_is_down() -> None:
    result = health.airflow_health(Probe(502, "Bad Gateway", 3.0))
    assert not result.up
    assert result.detail.startswith("HTTP 502")


def test_an_unreachable_service_is_down_with_the_reason() -> None:
    result = health.mlflow_health(Probe(None, None, None, "unreachable (ConnectionError)"))
    assert (result.up, result.latency_ms, result.detail) == (
        False,
        None,
        "unreachable (ConnectionError)",
    )


def test_model_api_ready_names_the_served_model() -> None:
    ready = Probe(200, {"ready": True, "model": "wine-cultivar@champion v3"}, 2.0)
    result = health.model_api_health(Probe(200, {"status": "ok"}, 1.5), ready)
    assert result.up
    assert result.detail == "ready, serving wine-cultivar@champion v3"


def test_model_api_live_but_not_ready_is_up_and_says_why() -> None:
    ready = Probe(503, {"ready": False, "model": None, "last_load_error": "no alias"}, 2.0)
    result = health.model_api_health(Probe(200, {"status": "ok"}, 1.5), ready)
    assert result.up
    assert result.detail == "live, not ready: no alias"


def test_check_all_probes_real_endpoints(fake_server, closed_port_url) -> None:
    fake_server.route("GET", "/health", lambda request: (200, "OK"))
    fake_server.route("GET", "/api/v2/monitor/health", lambda request: (200, HEALTHY))
    mlflow, airflow, model_api = health.check_all(fake_server.url, fake_server.url, closed_port_url)
    assert (mlflow.service, mlflow.up, mlflow.detail) == ("MLflow", True, "HTTP 200: OK")
    assert mlflow.latency_ms is not None
    assert mlflow.latency_ms > 0
    assert airflow.up
    assert (model_api.service, model_api.up) == ("Model API", False)
    assert model_api.detail.startswith("unreachable")
