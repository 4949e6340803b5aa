"""HTTP clients of the Airflow REST API (v2) and the model API; no Streamlit in here.

Every failure surfaces as a ServiceError whose message can be shown to a user as is.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests

TIMEOUT_SECONDS = 10
TOKEN_MARGIN_SECONDS = 60  # a cached token is renewed this long before it expires
TOKEN_FALLBACK_SECONDS = 300  # how long to keep a token whose expiry cannot be read


class ServiceError(Exception):
    """A remote service failed or refused; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


def _detail(response: requests.Response) -> Any:
    """The `detail` of a FastAPI-style error body, else the body's text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300]
    return body.get("detail", body) if isinstance(body, dict) else body


def request_json(
    session: requests.Session, service: str, method: str, url: str, **kwargs: Any
) -> Any:
    """Send one request and decode its JSON body; ServiceError on any failure."""
    try:
        response = session.request(method, url, timeout=TIMEOUT_SECONDS, **kwargs)
    except requests.Timeout as error:
        raise ServiceError(f"{service} did not answer within {TIMEOUT_SECONDS} s") from error
    except requests.RequestException as error:
        reason = type(error).__name__
        raise ServiceError(f"{service} cannot be reached at {url}: {reason}") from error
    if not response.ok:
        detail = _detail(response)
        raise ServiceError(
            f"{service} answered HTTP {response.status_code}: {detail}",
            response.status_code,
            detail,
        )
    try:
        return response.json()
    except ValueError as error:
        raise ServiceError(f"{service} answered something that is not JSON") from error


def token_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT (not verified: it only decides when to ask for a new one)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


class AirflowClient:
    """Airflow's REST API v2 with a JWT from /auth/token, kept until shortly before it expires.

    One instance is shared by every dashboard session (threads), hence the lock.
    """

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url.rstrip("/")
        self._credentials = {"username": username, "password": password}
        self._clock = clock
        self._session = requests.Session()
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_expires = 0.0

    def token(self) -> str:
        """A valid access token: the cached one, or a new one when it is about to expire."""
        with self._lock:
            if self._token is None or self._clock() >= self._token_expires - TOKEN_MARGIN_SECONDS:
                body = request_json(
                    self._session,
                    "Airflow (login)",
                    "POST",
                    f"{self.url}/auth/token",
                    json=self._credentials,
                )
                self._token = body["access_token"]
                expiry = token_expiry(self._token)
                self._token_expires = expiry or self._clock() + TOKEN_FALLBACK_SECONDS
            return self._token

    def _forget_token(self) -> None:
        with self._lock:
            self._token = None

    def _api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call /api/v2; a token the server refuses (revoked, clock skew) is renewed once."""
        try:
            return self._call(method, path, **kwargs)
        except ServiceError as error:
            if error.status not in (401, 403):
                raise
        self._forget_token()
        return self._call(method, path, **kwargs)

    def _call(self, method: str, path: str, headers: dict | None = None, **kwargs: Any) -> Any:
        headers = {**(headers or {}), "Authorization": f"Bearer {self.token()}"}
        url = f"{self.url}/api/v2{path}"
        return request_json(self._session, "Airflow", method, url, headers=headers, **kwargs)

    def dag(self, dag_id: str) -> dict:
        """The DAG's details, including `is_paused` and its `params`."""
        return self._api("GET", f"{_dag_path(dag_id)}/details")

    def dag_runs(self, dag_id: str, limit: int = 20) -> list[dict]:
        """The DAG's most recent runs, newest first."""
        body = self._api(
            "GET",
            f"{_dag_path(dag_id)}/dagRuns",
            params={"order_by": "-run_after", "limit": limit},
        )
        return body["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self._api("GET", f"{_run_path(dag_id, run_id)}/taskInstances")["task_instances"]

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        return self._api("GET", _run_path(dag_id, run_id))

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        """A task's XCom value (its return value by default), as JSON."""
        path = f"{_task_path(dag_id, run_id, task_id)}/xcomEntries/{quote(key, safe='')}"
        return self._api("GET", path)["value"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> list[dict]:
        """One try's log as Airflow's structured events (event, level, error_detail, ...)."""
        body = self._api(
            "GET",
            f"{_task_path(dag_id, run_id, task_id)}/logs/{try_number}",
            params={"full_content": "true"},
            headers={"Accept": "application/json"},
        )
        return [event for event in body.get("content") or [] if isinstance(event, dict)]

    def trigger(self, dag_id: str, conf: dict) -> dict:
        """Start a run now with this conf; the new run as Airflow describes it."""
        return self._api(
            "POST",
            f"{_dag_path(dag_id)}/dagRuns",
            json={"logical_date": None, "conf": conf},
        )


def _dag_path(dag_id: str) -> str:
    return f"/dags/{quote(dag_id, safe='')}"


def _run_path(dag_id: str, run_id: str) -> str:
    return f"{_dag_path(dag_id)}/dagRuns/{quote(run_id, safe='')}"


def _task_path(dag_id: str, run_id: str, task_id: str) -> str:
    return f"{_run_path(dag_id, run_id)}/taskInstances/{quote(task_id, safe='')}"


def record_schema_of(openapi: Any) -> dict | None:
    """The JSON Schema of one record of POST /predict, from the model API's OpenAPI document.

    It is `components.schemas.PredictRequest.properties.records.items` (a local `$ref` is
    followed). None when the API serves no model: then a record is any object (no
    `properties`), or the document describes none.
    """
    schema: Any = _resolve(openapi, _get(openapi, "components", "schemas", "PredictRequest"))
    for key in ("properties", "records", "items"):
        schema = _resolve(openapi, _get(schema, key))
    if not isinstance(schema, dict) or not schema.get("properties"):
        return None
    return schema


def _get(document: Any, *keys: str) -> Any:
    for key in keys:
        document = document.get(key) if isinstance(document, dict) else None
    return document


def _resolve(openapi: Any, schema: Any) -> Any:
    """A schema, or the one its local `$ref` (#/components/schemas/...) points to."""
    ref = _get(schema, "$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        return _get(openapi, *ref[2:].split("/"))
    return schema


class ModelApiClient:
    """The model API: the served model's description and predictions (header X-API-Key)."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url.rstrip("/")
        self._session = requests.Session()
        self._session.headers["X-API-Key"] = api_key

    def model(self) -> dict:
        """The served model: name, alias, version, run_id, signature."""
        return request_json(self._session, "The model API", "GET", f"{self.url}/model")

    def openapi(self) -> dict:
        """The model API's OpenAPI document (served without a key)."""
        return request_json(self._session, "The model API", "GET", f"{self.url}/openapi.json")

    def record_schema(self) -> dict | None:
        """The JSON Schema of a record of the served model; None when no model is loaded."""
        return record_schema_of(self.openapi())

    def named_model(self, name: str) -> dict:
        """Another registered model's champion, as /model describes the configured one, with
        the JSON Schema of its record (`record_schema`); loaded by the API on first use."""
        return request_json(
            self._session, "The model API", "GET", f"{self.url}/models/{quote(name, safe='')}"
        )

    def predict(self, records: list[dict], model: str | None = None) -> dict:
        """Predictions for the records (by the configured model, or the champion of the
        registered model `model`): model_name, model_version, predictions."""
        path = f"/models/{quote(model, safe='')}/predict" if model else "/predict"
        return request_json(
            self._session,
            "The model API",
            "POST",
            f"{self.url}{path}",
            json={"records": records},
        )
