"""The mlflow role: authenticated server on PostgreSQL with the S3 artifact proxy."""

import json

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
