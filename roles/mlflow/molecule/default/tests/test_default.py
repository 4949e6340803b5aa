"""The mlflow role: authenticated server on PostgreSQL with the S3 artifact proxy."""

import json
import time

import pytest

testinfra_hosts = ["all"]
AUTH = "admin:molecule-admin-password"


@pytest.fixture
def api(http):
    def call(path, method="GET", data=None, auth=AUTH):
        return http(f"http://127.0.0.1:5000{path}", method, data, user=auth)

    return call


def test_service_running_hardened(host):
    service = host.service("mlflow")
    assert service.is_running
    assert service.is_enabled
    assert host.socket("tcp://0.0.0.0:5000").is_listening
    assert "ProtectSystem=strict" in host.run("systemctl show mlflow -p ProtectSystem").stdout


def test_requests_without_credentials_refused(api):
    assert api("/api/2.0/mlflow/experiments/search?max_results=1", auth=None)[0] == 401
    assert api("/api/2.0/mlflow/experiments/search?max_results=1", auth="admin:wrong")[0] == 401


def test_no_secret_on_command_lines(host):
    ps = host.run("ps -eo args").stdout
    assert "molecule-mlflow-db-password" not in ps
    assert "molecule-admin-password" not in ps
    assert host.file("/etc/mlflow/mlflow.env").mode == 0o600


def test_tracking_in_postgres_schema_and_artifacts_in_s3(host, api):
    code, body = api("/api/2.0/mlflow/experiments/create", "POST", {"name": "molecule"})
    assert code == 200, body
    experiment = json.loads(body)["experiment_id"]
    tables = host.run(
        "runuser -u postgres -- psql -d mlops -Atc "
        '"SELECT count(*) FROM pg_tables '
        "WHERE schemaname = 'mlflow' AND tablename = 'experiments'\""
    ).stdout.strip()
    assert tables == "1"
    put = host.run(
        "curl -s -o /dev/null -w '%%{http_code}' -u %s -X PUT --data-binary hello "
        "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/%s/probe.txt",
        AUTH,
        experiment,
    )
    assert put.stdout == "200"
    listing = host.run(
        "echo 'fs.ls /buckets/mlflow-artifacts/%s' | "
        "/opt/seaweedfs/venv/bin/weed shell -master=127.0.0.1:9333",
        experiment,
    )
    assert "probe.txt" in listing.stdout


def test_migration_recorded(host):
    assert host.file("/var/lib/mlflow/schema-migrated-by").content_string.strip() == "3.17.2"


# Records each POST's headers and body, one JSON line each, for the webhook test.
RECEIVER = r"""
import http.server, json
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        with open("/root/hook.jsonl", "a") as out:
            out.write(json.dumps({"headers": dict(self.headers), "body": body}) + "\n")
        self.send_response(204)
        self.end_headers()
http.server.HTTPServer(("127.0.0.1", 8799), Hook).serve_forever()
"""
# Checks each delivery's signature the way the model API does (api/model_api/webhooks.py);
# prints their bodies as a JSON list.
CHECK = r"""
import base64, hashlib, hmac, json, sys, time
bodies = []
for line in open("/root/hook.jsonl"):
    hook = json.loads(line)
    h, body = hook["headers"], hook["body"]
    content = f"{h['X-MLflow-Delivery-Id']}.{h['X-MLflow-Timestamp']}.{body}".encode()
    digest = hmac.new(sys.argv[1].encode(), content, hashlib.sha256).digest()
    assert h["X-MLflow-Signature"] == "v1," + base64.b64encode(digest).decode(), h
    assert abs(time.time() - int(h["X-MLflow-Timestamp"])) < 300
    bodies.append(json.loads(body))
print(json.dumps(bodies))
"""


def test_a_version_registered_and_an_alias_set_are_delivered_signed(host, api):
    code, body = api("/api/2.0/mlflow/webhooks")
    assert code == 200, body
    (hook,) = json.loads(body)["webhooks"]
    assert hook["url"] == "http://127.0.0.1:8799/hook"
    assert hook["status"] == "ACTIVE"
    assert "secret" not in hook
    host.run("rm -f /root/hook.jsonl")
    receiver = host.run("nohup python3 -c %s >/dev/null 2>&1 & echo $!", RECEIVER).stdout.strip()
    try:
        for _ in range(50):  # MLflow delivers once: the receiver must listen before the event
            if host.socket("tcp://127.0.0.1:8799").is_listening:
                break
            time.sleep(0.2)
        assert api("/api/2.0/mlflow/registered-models/create", "POST", {"name": "hooked"})[0] == 200
        code, body = api(
            "/api/2.0/mlflow/model-versions/create",
            "POST",
            {"name": "hooked", "source": "s3://mlflow-artifacts/hooked/model"},
        )
        assert code == 200, body
        alias = {"name": "hooked", "alias": "champion", "version": "1"}
        assert api("/api/2.0/mlflow/registered-models/alias", "POST", alias)[0] == 200
        for _ in range(50):  # two deliveries: the version registered, the alias set
            if host.run("cat /root/hook.jsonl").stdout.count("\n") == 2:
                break
            time.sleep(0.2)
        check = host.run("python3 -c %s molecule-webhook-secret-0123456789-0123", CHECK)
        assert check.rc == 0, check.stderr
        events = {(e["entity"], e["action"]): e["data"] for e in json.loads(check.stdout)}
        assert events.keys() == {("model_version", "created"), ("model_version_alias", "created")}
        assert events["model_version_alias", "created"] == alias
        assert events["model_version", "created"]["version"] == "1"
    finally:
        host.run("kill %s", receiver)
