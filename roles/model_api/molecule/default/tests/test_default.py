"""The model_api role: a hardened uvicorn service that answers without a model and guards keys."""

import base64
import hashlib
import hmac
import json
import time

import pytest

testinfra_hosts = ["all"]
KEY = "molecule-api-key-0123456789"
WEBHOOK_SECRET = "molecule-webhook-secret-0123456789-0123"


@pytest.fixture
def call(http):
    def request(path, method="GET", key=None, data=None, headers=None):
        headers = {**({"X-API-Key": key} if key else {}), **(headers or {})}
        return http(f"http://127.0.0.1:8000{path}", method, data, headers=headers)

    return request


def test_service_running_hardened(host):
    service = host.service("model-api")
    assert service.is_running
    assert service.is_enabled
    assert host.socket("tcp://0.0.0.0:8000").is_listening
    show = host.run("systemctl show model-api -p ProtectSystem -p User -p RuntimeDirectory").stdout
    assert "ProtectSystem=strict" in show
    assert "User=model-api" in show
    assert "RuntimeDirectory=model-api" in show


def test_two_workers_each_with_its_loader_process_share_metrics(host):
    main = host.check_output("systemctl show -P MainPID model-api")
    workers = host.check_output("pgrep -P %s -f multiprocessing.spawn", main).split()
    assert len(workers) == 2
    for worker in workers:  # each loads versions in a process of its own
        assert len(host.check_output("pgrep -P %s -f multiprocessing.spawn", worker).split()) == 1
    assert host.file("/run/model-api").is_directory


def test_code_installed_without_caches(host):
    assert host.file("/opt/model-api/app/model_api/main.py").exists
    assert not host.file("/opt/model-api/app/model_api/__pycache__").exists


def test_secrets_only_in_the_env_file(host):
    env = host.file("/etc/model-api/model-api.env")
    assert env.mode == 0o600
    assert env.user == "root"
    ps = host.run("ps -eo args").stdout
    assert KEY not in ps
    assert "molecule-reader-password" not in ps


def test_alive_but_not_ready_without_mlflow(call):
    assert call("/health") == (200, '{"status":"ok"}')
    for _ in range(30):  # the first look at MLflow ends within seconds
        code, body = call("/ready")
        if json.loads(body)["last_checked"]:
            break
        time.sleep(1)
    assert code == 503
    assert "cannot resolve wine-cultivar@champion" in json.loads(body)["last_load_error"]


def test_keys_are_required(call):
    payload = {"records": [{"x": 1}]}
    assert call("/predict", "POST", data=payload)[0] == 401
    assert call("/predict", "POST", key="wrong-key-0123456789", data=payload)[0] == 401
    code, body = call("/predict", "POST", key=KEY, data=payload)
    assert code == 503
    assert "no model is being served" in body


def test_metrics(call):
    code, body = call("/metrics")
    assert code == 200
    assert "model_api_requests_total" in body


def signed(payload: dict, secret: str = WEBHOOK_SECRET) -> dict:
    """The headers MLflow sends with this payload (sent as json.dumps(payload) by `http`)."""
    delivery, timestamp = "molecule-delivery-1", str(int(time.time()))
    content = f"{delivery}.{timestamp}.{json.dumps(payload)}".encode()
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return {
        "X-MLflow-Delivery-Id": delivery,
        "X-MLflow-Timestamp": timestamp,
        "X-MLflow-Signature": "v1," + base64.b64encode(digest).decode(),
    }


def test_a_signed_alias_event_wakes_every_worker(host, call):
    event = {
        "entity": "model_version_alias",
        "action": "created",
        "data": {"name": "wine-cultivar", "alias": "champion", "version": "2"},
    }
    forged = signed(event, secret="not-the-secret-0123456789-0123456789")
    assert call("/webhooks/mlflow", "POST", data=event)[0] == 401
    assert call("/webhooks/mlflow", "POST", data=event, headers=forged)[0] == 401
    since = host.run("date +%s").stdout.strip()
    assert call("/webhooks/mlflow", "POST", data=event, headers=signed(event)) == (204, "")
    assert host.file("/run/model-api/alias-moved").exists
    for _ in range(20):  # each worker looks at the wake file every 0.2 s
        journal = host.run("journalctl -u model-api --since @%s -o cat", since).stdout
        if journal.count("woken: resolving wine-cultivar@champion now") == 2:
            break
        time.sleep(0.5)
    assert journal.count("woken: resolving wine-cultivar@champion now") == 2, journal
