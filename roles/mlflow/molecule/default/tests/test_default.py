"""The mlflow role: authenticated server on PostgreSQL with the S3 artifact proxy."""

import json
import time
from pathlib import Path

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


AS_MLFLOW = (
    "systemd-run --quiet --wait --pipe --collect --property=User=mlflow --property=Group=mlflow "
    "--property=WorkingDirectory=/var/lib/mlflow --property=EnvironmentFile=/etc/mlflow/mlflow.env "
    "-- /opt/mlflow/venv/bin/python -c "
)


def psql(host, sql: str):
    return host.run("runuser -u postgres -- psql -d mlops -Atc %s", sql)


# An auth store as earlier versions kept it, a SQLite file on the host, with a user and a grant.
LEGACY = r"""
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore
store = SqlAlchemyStore()
store.init_db("sqlite:////var/lib/mlflow/basic_auth.db")
store.create_user("legacy", "legacy-password-0123")
store.create_experiment_permission("0", "legacy", "MANAGE")
"""


# The rows of a SQLite auth store, every table but Alembic's.
COUNT_ROWS = r"""
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
print(sum(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
          for (t,) in tables if t != "alembic_version_auth"))
"""


def test_users_in_their_own_postgres_schema(host):
    tables = psql(host, "SELECT tablename FROM pg_tables WHERE schemaname = 'mlflow_auth'")
    assert {"users", "experiment_permissions", "alembic_version_auth"} <= set(tables.stdout.split())
    owner = psql(host, "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'mlflow_auth'")
    assert owner.stdout.strip() == "mlflow"
    users = psql(host, "SELECT username FROM mlflow_auth.users").stdout.split()
    assert "admin" in users
    assert not host.file("/var/lib/mlflow/basic_auth.db").exists


def test_a_sqlite_store_left_on_the_host_moves_into_postgres(host):
    """What the role runs when it finds the file, here into a schema of the test's own."""
    script = (Path(__file__).parents[3] / "files" / "move_auth_store.py").read_text()
    target = (
        "postgresql+psycopg2://mlflow@127.0.0.1:5432/mlops?sslmode=require"
        "&options=-csearch_path%3Dauth_move_test"
    )
    assert psql(host, "CREATE SCHEMA auth_move_test AUTHORIZATION mlflow").rc == 0
    try:
        host.run_expect([0], AS_MLFLOW + "%s", LEGACY)
        rows = host.check_output("python3 -c %s /var/lib/mlflow/basic_auth.db", COUNT_ROWS)
        moved = host.run(AS_MLFLOW + "%s /var/lib/mlflow/basic_auth.db %s", script, target)
        assert moved.rc == 0, moved.stderr
        # every row: the user, and its grant (MLflow 3.17 keeps grants as a role of the user)
        assert moved.stdout.strip() == f"changed: {rows} rows moved into the PostgreSQL store"
        assert int(rows) >= 2
        users = psql(host, "SELECT username FROM auth_move_test.users")
        assert users.stdout.strip() == "legacy"
        assert not host.file("/var/lib/mlflow/basic_auth.db").exists
        assert host.file("/var/lib/mlflow/basic_auth.db.moved-to-postgresql").exists
        # the next user gets the next id, not the copied one's
        insert = "INSERT INTO auth_move_test.users (username, password_hash, is_admin) VALUES "
        assert psql(host, insert + "('next', 'x', false)").rc == 0
        # a store that has users already is left as it is
        host.run_expect([0], AS_MLFLOW + "%s", LEGACY.replace("legacy", "other"))
        again = host.run(AS_MLFLOW + "%s /var/lib/mlflow/basic_auth.db %s", script, target)
        assert again.stdout.strip() == (
            "changed: nothing copied, the PostgreSQL store already has users"
        )
    finally:
        psql(host, "DROP SCHEMA auth_move_test CASCADE")
        host.run("rm -f /var/lib/mlflow/basic_auth.db*")


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
