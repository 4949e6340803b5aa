"""Health probes of the platform's services: up or down, latency, and what they report."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

PROBE_TIMEOUT_SECONDS = 5
AIRFLOW_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")


@dataclass(frozen=True)
class ServiceHealth:
    service: str
    up: bool
    latency_ms: float | None
    detail: str


@dataclass(frozen=True)
class Probe:
    """One GET: its status code and body (None when nothing answered), or why it failed."""

    status: int | None
    body: object
    latency_ms: float | None
    error: str | None = None


def get(url: str) -> Probe:
    started = time.perf_counter()
    try:
        response = requests.get(url, timeout=PROBE_TIMEOUT_SECONDS)
    except requests.Timeout:
        return Probe(None, None, None, f"no answer within {PROBE_TIMEOUT_SECONDS} s")
    except requests.RequestException as error:
        return Probe(None, None, None, f"unreachable ({type(error).__name__})")
    latency = (time.perf_counter() - started) * 1000
    try:
        body: object = response.json()
    except ValueError:
        body = response.text.strip()[:200]
    return Probe(response.status_code, body, latency)


def mlflow_health(probe: Probe) -> ServiceHealth:
    if probe.error:
        return ServiceHealth("MLflow", False, None, probe.error)
    up = probe.status == 200
    return ServiceHealth("MLflow", up, probe.latency_ms, f"HTTP {probe.status}: {probe.body}")


def airflow_health(probe: Probe) -> ServiceHealth:
    """Up when every component of /api/v2/monitor/health reports healthy."""
    if probe.error:
        return ServiceHealth("Airflow", False, None, probe.error)
    body = probe.body if isinstance(probe.body, dict) else {}
    states = {
        name: (body.get(name) or {}).get("status") or "unknown" for name in AIRFLOW_COMPONENTS
    }
    up = probe.status == 200 and all(state == "healthy" for state in states.values())
    detail = ", ".join(f"{name} {state}" for name, state in states.items())
    if probe.status != 200:
        detail = f"HTTP {probe.status}; {detail}"
    return ServiceHealth("Airflow", up, probe.latency_ms, detail)


def model_api_health(live: Probe, ready: Probe) -> ServiceHealth:
    """Up when /health answers; the detail says whether /ready reports a served model."""
    if live.error:
        return ServiceHealth("Model API", False, None, live.error)
    if live.status != 200:
        return ServiceHealth("Model API", False, live.latency_ms, f"/health: HTTP {live.status}")
    body = ready.body if isinstance(ready.body, dict) else {}
    if ready.status == 200 and body.get("model"):
        detail = f"ready, serving {body['model']}"
    elif ready.status == 503:
        reason = body.get("last_load_error") or "no model loaded yet"
        detail = f"live, not ready: {reason}"
    else:
        detail = f"live; /ready: {ready.error or f'HTTP {ready.status}'}"
    return ServiceHealth("Model API", True, live.latency_ms, detail)


def check_all(mlflow_url: str, airflow_url: str, model_api_url: str) -> list[ServiceHealth]:
    """Probe every service at once, so one that hangs does not delay the others."""
    urls = [
        f"{mlflow_url}/health",
        f"{airflow_url}/api/v2/monitor/health",
        f"{model_api_url}/health",
        f"{model_api_url}/ready",
    ]
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        mlflow, airflow, live, ready = pool.map(get, urls)
    return [mlflow_health(mlflow), airflow_health(airflow), model_api_health(live, ready)]
