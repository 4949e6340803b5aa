"""The postgresql role: server, network access, one schema and login role per service."""

import pytest

testinfra_hosts = ["all"]
PASSWORDS = {
    "mlflow": "molecule-mlflow-password-0123",
    "airflow": "molecule-airflow-password-0123",
}


def psql(host, role, sql):
    """Run SQL as a service role over TCP with its password, as a network client would."""
    cmd = host.run(
        "PGPASSWORD=%s psql -h 127.0.0.1 -U %s -d mlops -Atc %s",
        PASSWORDS[role],
        role,
        sql,
    )
    assert cmd.rc == 0, cmd.stderr
    return cmd.stdout.strip()


def test_service_running_and_enabled(host):
    service = host.service("postgresql@15-main")
    assert service.is_running
    assert service.is_enabled
    assert host.socket("tcp://0.0.0.0:5432").is_listening


@pytest.mark.parametrize("role", ["mlflow", "airflow"])
def test_role_lands_in_its_schema(host, role):
    assert psql(host, role, "SHOW search_path") == role
    assert psql(host, role, "SELECT current_schema()") == role
    psql(host, role, "CREATE TABLE IF NOT EXISTS probe (id int); DROP TABLE probe")


def test_role_cannot_write_another_schema(host):
    cmd = host.run(
        "PGPASSWORD=%s psql -h 127.0.0.1 -U mlflow -d mlops -Atc %s",
        PASSWORDS["mlflow"],
        "CREATE TABLE airflow.intruder (id int)",
    )
    assert cmd.rc != 0
    assert "permission denied" in cmd.stderr


def test_wrong_password_refused(host):
    cmd = host.run("PGPASSWORD=wrong psql -h 127.0.0.1 -U mlflow -d mlops -Atc 'SELECT 1'")
    assert cmd.rc != 0
    assert "password authentication failed" in cmd.stderr


def test_hba_allows_only_platform_network(host):
    hba = host.file("/etc/postgresql/15/main/pg_hba.conf")
    assert hba.mode == 0o640
    rules = [ln.split() for ln in hba.content_string.splitlines() if ln.startswith("host")]
    remote = [r for r in rules if r[3] not in ("127.0.0.1/32", "::1/128")]
    assert remote == [["host", "mlops", "mlflow,airflow", "10.89.0.0/16", "scram-sha-256"]]


def test_public_cannot_connect(host):
    acl = host.run(
        "runuser -u postgres -- psql -Atc %s",
        "SELECT datacl FROM pg_database WHERE datname='mlops'",
    )
    assert acl.rc == 0
    grantees = {item.split("=")[0] for item in acl.stdout.strip().strip("{}").split(",")}
    assert "" not in grantees  # an empty grantee is PUBLIC
    assert {"mlflow", "airflow"} <= grantees
