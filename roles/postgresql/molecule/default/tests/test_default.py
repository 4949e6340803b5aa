"""The postgresql role: a server as RDS makes one (PostgreSQL 17, a master user that is no
superuser, TLS only, DDL logged) and its `schemas` entry point run as that master user over
TLS verified against the CA, as ansible/data.yml runs it."""

import time

import pytest

testinfra_hosts = ["all"]
PASSWORDS = {
    "mlflow": "molecule-mlflow-password-0123",
    "airflow": "molecule-airflow-password-0123",
    "mlops_admin": "molecule-master-password-0123",
}
VERIFIED = "sslmode=verify-full sslrootcert=/etc/ssl/mlops/database.pem host=127.0.0.1"


def psql(host, role, sql, dbname="mlops"):
    """Run SQL as a role over TCP with its password and the server's certificate verified,
    as a network client would."""
    cmd = host.run(
        "PGPASSWORD=%s psql %s -U %s -Atc %s",
        PASSWORDS[role],
        f"{VERIFIED} dbname={dbname}",
        role,
        sql,
    )
    assert cmd.rc == 0, cmd.stderr
    return cmd.stdout.strip()


def test_service_running_and_enabled(host):
    service = host.service("postgresql@17-main")
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


def test_hba_allows_only_tls_from_platform_network(host):
    hba = host.file("/etc/postgresql/17/main/pg_hba.conf")
    assert hba.mode == 0o640
    rules = [ln.split() for ln in hba.content_string.splitlines() if ln.startswith("host")]
    assert {r[0] for r in rules} == {"hostssl"}
    remote = [r for r in rules if r[3] not in ("127.0.0.1/32", "::1/128")]
    assert remote == [["hostssl", "all", "all", "10.89.0.0/16", "scram-sha-256"]]


def test_plain_tcp_is_refused(host):
    cmd = host.run(
        "PGPASSWORD=%s psql 'sslmode=disable host=127.0.0.1 dbname=mlops' -U mlflow "
        "-Atc 'SELECT 1'",
        PASSWORDS["mlflow"],
    )
    assert cmd.rc != 0
    assert "no encryption" in cmd.stderr or "no pg_hba.conf entry" in cmd.stderr


def test_certificate_verifies_against_the_ca_for_its_address(host):
    assert psql(host, "mlflow", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == "t"
    # the certificate names 127.0.0.1, not localhost: verify-full refuses the other name
    cmd = host.run(
        "PGPASSWORD=%s psql 'sslmode=verify-full sslrootcert=/etc/ssl/mlops/database.pem "
        "host=localhost dbname=mlops' -U mlflow -Atc 'SELECT 1'",
        PASSWORDS["mlflow"],
    )
    assert cmd.rc != 0
    assert "does not match host name" in cmd.stderr


def test_master_user_is_no_superuser(host):
    flags = psql(
        host,
        "mlops_admin",
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication FROM pg_roles "
        "WHERE rolname = current_user",
        dbname="postgres",
    )
    assert flags == "f|t|t|f"


def test_master_user_may_act_as_the_service_roles(host):
    """PostgreSQL 16+ grants a role's creator ADMIN only; the play adds SET and INHERIT."""
    for role in ("mlflow", "airflow"):
        got = psql(
            host,
            "mlops_admin",
            f"SELECT pg_has_role(current_user, '{role}', 'SET'),"
            f" pg_has_role(current_user, '{role}', 'USAGE')",
        )
        assert got == "t|t"


def test_ddl_is_logged_without_any_password(host):
    assert psql(host, "mlops_admin", "SHOW log_statement", dbname="postgres") == "ddl"
    # Every log on the host, less sudo's record of the commands this test ran through it
    # (testinfra logs in as admin and uses sudo; those command lines carry PGPASSWORD).
    logs = host.run(
        "journalctl --no-pager -o short | grep -Ev ' sudo\\[[0-9]+\\]: '; "
        "cat /var/log/postgresql/*.log"
    )
    assert "CREATE ROLE" in logs.stdout or "ALTER ROLE" in logs.stdout
    for password in PASSWORDS.values():
        assert password not in logs.stdout


def test_public_cannot_connect(host):
    acl = host.run(
        "runuser -u postgres -- psql -Atc %s",
        "SELECT datacl FROM pg_database WHERE datname='mlops'",
    )
    assert acl.rc == 0
    grantees = {item.split("=")[0] for item in acl.stdout.strip().strip("{}").split(",")}
    assert "" not in grantees  # an empty grantee is PUBLIC
    assert {"mlflow", "airflow"} <= grantees


def test_a_killed_server_is_brought_back(host):
    """RDS restarts a crashed server; Debian's unit alone would leave it down."""
    unit = "postgresql@17-main"
    before = host.check_output(f"systemctl show -P MainPID {unit}")
    host.run_expect([0], f"kill -9 {before}")
    for _ in range(60):
        state = dict(
            line.split("=", 1)
            for line in host.check_output(
                f"systemctl show -p ActiveState -p MainPID {unit}"
            ).split()
        )
        if state["ActiveState"] == "active" and state["MainPID"] not in (before, "0"):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"{unit} was not restarted: {state}")
    host.run_expect([0], "pg_isready -h 127.0.0.1 -t 30")
