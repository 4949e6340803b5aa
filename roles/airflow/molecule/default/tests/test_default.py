"""The airflow role: four components and a Celery worker, one environment, health, admin and
REST API, the broker over TLS."""

import json

import pytest

testinfra_hosts = ["all"]
UNITS = [
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-celery-worker",
]


@pytest.mark.parametrize("unit", UNITS)
def test_component_running_enabled_hardened(host, unit):
    service = host.service(unit)
    assert service.is_running
    assert service.is_enabled
    props = host.run(f"systemctl show {unit} -p User -p EnvironmentFiles -p ProtectSystem").stdout
    assert "User=airflow" in props
    assert "/etc/airflow/airflow.env" in props
    assert "ProtectSystem=strict" in props


def test_components_report_healthy(host):
    health = json.loads(host.check_output("curl -s http://127.0.0.1:8080/api/v2/monitor/health"))
    for component in ("metadatabase", "scheduler", "dag_processor", "triggerer"):
        assert health[component]["status"] == "healthy", health


def test_the_celery_worker_answers_through_the_broker_over_tls(host):
    """The worker takes both queues, reached through the broker (TLS, the token); its log
    server listens for the api-server."""
    ping = host.run(
        "systemd-run --quiet --wait --pipe --collect --property=User=airflow "
        "--property=EnvironmentFile=/etc/airflow/airflow.env -- /opt/airflow/venv/bin/celery "
        "--app airflow.providers.celery.executors.celery_executor.app inspect active_queues "
        "--timeout 10"
    )
    assert ping.rc == 0, ping.stderr
    assert "'name': 'default'" in ping.stdout
    assert "'name': 'training'" in ping.stdout
    env = host.file("/etc/airflow/airflow.env").content_string
    assert 'AIRFLOW__CELERY__BROKER_URL="rediss://:' in env
    assert 'AIRFLOW__CELERY__SSL_CACERT="/etc/ssl/mlops/broker.pem"' in env
    assert host.socket("tcp://0.0.0.0:8793").is_listening


def test_one_jwt_secret_in_one_private_environment(host):
    env = host.file("/etc/airflow/airflow.env")
    assert env.mode == 0o600
    assert env.content_string.count("AIRFLOW__API_AUTH__JWT_SECRET=") == 1
    assert 'AIRFLOW__DATABASE__SQL_ALCHEMY_SCHEMA="airflow"' in env.content_string


def test_metadata_in_schema_airflow(host):
    tables = host.check_output(
        "runuser -u postgres -- psql -d mlops -Atc "
        "\"SELECT count(*) FROM pg_tables WHERE schemaname = 'airflow' AND tablename = 'dag'\""
    )
    assert tables == "1"


@pytest.fixture
def token(http):
    def login(username, password):
        code, body = http(
            "http://127.0.0.1:8080/auth/token",
            "POST",
            {"username": username, "password": password},
        )
        return code, (json.loads(body)["access_token"] if code in (200, 201) else None)

    return login


def test_admin_gets_a_token_and_others_do_not(token):
    assert token("admin", "molecule-admin-password")[0] in (200, 201)
    assert token("admin", "wrong-password")[0] == 401


def test_extra_user_has_its_role_only(host, http, token):
    code, viewer = token("viewer", "molecule-viewer-password")
    assert code in (200, 201)

    def status(method, path):
        bearer = {"Authorization": f"Bearer {viewer}"}
        pool = {"name": "p", "slots": 1}
        return http(f"http://127.0.0.1:8080{path}", method, pool, headers=bearer)[0]

    assert status("GET", "/api/v2/dags") == 200
    assert status("GET", "/api/v2/users") in (403, 404)  # Viewer: no user administration
    assert status("POST", "/api/v2/pools") == 403
    assert host.file("/etc/airflow/users/viewer").mode == 0o440


def test_no_secret_on_command_lines(host):
    ps = host.check_output("ps -eo args")
    assert "molecule-airflow-db-password" not in ps
    assert "molecule-jwt-secret" not in ps
    assert "molecule-admin-password" not in ps
    assert "molecule-viewer-password" not in ps
