"""MLflow's webhooks: the registry tells the API the moment the served alias moves.

MLflow signs each delivery as Standard Webhooks do: the base64 HMAC-SHA256, keyed with the
webhook's secret, of "{X-MLflow-Delivery-Id}.{X-MLflow-Timestamp}.{body}", sent as
"v1,<signature>" in X-MLflow-Signature. A delivery counts only with a valid signature and a
timestamp within TOLERANCE_SECONDS of now, so a captured one cannot be replayed later.

An event about the served alias wakes every worker of the host: the worker that received it
writes the version the alias moved to into the wake file, and each worker's poller looks at
that file every WAKE_CHECK_SECONDS (model_api.champion). A worker serves that version at once
when the host has it prepared, and resolves the alias itself in any case: the registry has the
last word, since deliveries leave MLflow from a thread pool and may arrive out of order. A lost
delivery changes nothing, and polling stays the fallback.

A version of the served model just registered is prepared ahead on the host (downloaded,
converted and checked into the shared load directory), so that when the alias moves to it,
which the training pipeline does after its evaluation, the workers only load what is ready.
Preparing serves nothing: what serves is still what the alias names.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"
TOLERANCE_SECONDS = 300
# The registry events that can change what an alias points to.
EVENTS = ("model_version_alias.created", "model_version_alias.deleted")
# The registry event of a new version: prepared ahead of its promotion.
CREATED = "model_version.created"


class Refused(Exception):
    """A delivery that is not MLflow's, or not readable: (HTTP status, reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sign(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The X-MLflow-Signature value MLflow sends for this delivery."""
    content = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> dict:
    """The delivery's JSON payload once its signature and timestamp check out; else Refused."""
    expected_headers = (DELIVERY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)
    missing = [name for name in expected_headers if not headers.get(name)]
    if missing:
        raise Refused(401, f"not a signed MLflow webhook: missing {', '.join(missing)}")
    timestamp = headers[TIMESTAMP_HEADER]
    try:
        age = (time.time() if now is None else now) - int(timestamp)
    except ValueError:
        raise Refused(401, f"{TIMESTAMP_HEADER} is not a Unix time: {timestamp!r}") from None
    if abs(age) > TOLERANCE_SECONDS:
        raise Refused(401, f"{TIMESTAMP_HEADER} is {age:.0f} s off (at most {TOLERANCE_SECONDS})")
    expected = sign(secret, headers[DELIVERY_HEADER], timestamp, body)
    # Standard Webhooks may send several space-separated signatures (a secret being rotated).
    if not any(hmac.compare_digest(expected, sent) for sent in headers[SIGNATURE_HEADER].split()):
        raise Refused(401, "the signature does not match the webhook's secret")
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise Refused(400, f"the body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise Refused(400, "the body is not a JSON object")
    return payload


def model_of(payload: dict) -> str | None:
    """The registered model the event is about, if it names one."""
    data = payload.get("data")
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else None


def _event(payload: dict, model_name: str) -> tuple[str, dict] | None:
    """(entity.action, data) of an event about `model_name`, else None."""
    data = payload.get("data")
    if not isinstance(data, dict) or data.get("name") != model_name:
        return None
    return f"{payload.get('entity')}.{payload.get('action')}", data


def concerns(payload: dict, model_name: str, alias: str) -> bool:
    """Whether the event may have moved `model_name@alias`."""
    event = _event(payload, model_name)
    return event is not None and event[0] in EVENTS and event[1].get("alias") == alias


def moved_to(payload: dict, model_name: str, alias: str) -> str | None:
    """The version the event says `model_name@alias` now names; None for any other event."""
    event = _event(payload, model_name)
    if event is None or event[0] != EVENTS[0] or event[1].get("alias") != alias:
        return None
    return _version(event[1])


def _version(data: dict) -> str | None:
    version = data.get("version")
    return str(version) if str(version or "").isdigit() else None


def created_version(payload: dict, model_name: str) -> str | None:
    """The version of `model_name` the event says was registered; None for any other event.
    (Its run is looked up in the registry: the event's run_id is empty for a version
    registered from a logged model, as MLflow 3's log_model registers them.)"""
    event = _event(payload, model_name)
    if event is None or event[0] != CREATED:
        return None
    return _version(event[1])
