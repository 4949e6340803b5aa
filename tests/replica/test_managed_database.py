"""The AWS path's database play (ansible/data.yml, `platform_database_managed`) against a
server it reaches over TCP as a master user that is no superuser, as RDS's is.

The replica's PostgreSQL stands in for RDS: the test gives it such a master user
(CREATEROLE, CREATEDB, password login over TLS from the network) and lets the play create a
database, two service roles and their schemas from the mlflow host, as it does on AWS from
the first MLflow instance. Names are the test's own, so the platform's roles are untouched;
pg_hba.conf is restored afterwards, so later idempotence checks of site.yml still hold.
"""

from __future__ import annotations

import json
import secrets as random

import psycopg2
import pytest

from local import podman
from tests.conftest import VENV_BIN, run
from tests.replica.conftest import ip, recap

pytestmark = pytest.mark.replica

DATABASE = "platform_check"
ROLES = ("check_mlflow", "check_airflow")
MASTER = "check_master"


def rds(replica) -> str:
    """The database host's container."""
    return replica.container(next(h for h in replica.hosts if h.name == "rds"))


def psql(replica, sql: str) -> str:
    """Run SQL on the database host as the postgres superuser (the test's own setup)."""
    return podman.exec_(rds(replica), ["runuser", "-u", "postgres", "--", "psql", "-tAc", sql])


@pytest.fixture(scope="module")
def managed_server(converged):
    """A master user like RDS's, allowed in over TCP; everything undone at the end."""
    container = rds(converged)
    hba = psql(converged, "SHOW hba_file").strip()
    password = random.token_urlsafe(24)
    psql(converged, f"CREATE ROLE {MASTER} LOGIN CREATEROLE CREATEDB PASSWORD '{password}'")
    podman.exec_(container, ["cp", "-p", hba, f"{hba}.before-test"])
    allow = (
        f"hostssl all {MASTER} {converged.subnet} scram-sha-256\n"
        f"hostssl {DATABASE} {','.join(ROLES)} {converged.subnet} scram-sha-256\n"
    )
    podman.exec_(container, ["tee", "-a", hba], input=allow.encode())
    psql(converged, "SELECT pg_reload_conf()")
    yield {"host": ip(converged, "rds"), "password": password}
    podman.exec_(container, ["mv", f"{hba}.before-test", hba])
    psql(converged, "SELECT pg_reload_conf()")
    psql(converged, f"DROP DATABASE IF EXISTS {DATABASE}")
    for role in (*ROLES, MASTER):
        psql(converged, f"DROP ROLE IF EXISTS {role}")


@pytest.fixture(scope="module")
def role_passwords() -> dict[str, str]:
    return {role: random.token_urlsafe(24) for role in ROLES}


def database_play(replica, server, role_passwords, tmp_path) -> str:
    extra = tmp_path / "managed-database.json"
    extra.write_text(
        json.dumps(
            {
                "platform_database_managed": True,
                "postgresql_login_host": server["host"],
                "postgresql_login_user": MASTER,
                "postgresql_login_password": server["password"],
                "postgresql_database": DATABASE,
                "postgresql_port": 5432,
                "postgresql_service_roles": [
                    {"name": name, "password": password}
                    for name, password in role_passwords.items()
                ],
            }
        )
    )
    proc = run(
        [
            str(VENV_BIN / "ansible-playbook"),
            *("-i", str(replica.inventory_dir), "ansible/data.yml"),
            *("--limit", "mlflow", "-e", f"@{extra}"),
        ]
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def created(converged, managed_server, role_passwords, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("managed-database")
    first = database_play(converged, managed_server, role_passwords, tmp)
    second = database_play(converged, managed_server, role_passwords, tmp)
    return first, second


def connect(server, role, password):
    return psycopg2.connect(
        host=server["host"],
        dbname=DATABASE,
        user=role,
        password=password,
        sslmode="require",
        connect_timeout=5,
    )


def test_master_user_is_no_superuser(created, managed_server):
    with connect(managed_server, MASTER, managed_server["password"]) as conn:
        cur = conn.cursor()
        cur.execute("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
        assert cur.fetchone() == (False, True)
        cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert cur.fetchone() == (True,)


def test_play_creates_database_roles_and_schemas_then_changes_nothing(created):
    first, second = created
    assert recap(first)["mlflow"] > 0
    assert recap(second) == {"mlflow": 0}, second[-3000:]


def test_each_service_role_works_in_its_own_schema_only(created, managed_server, role_passwords):
    mine, other = ROLES
    with connect(managed_server, mine, role_passwords[mine]) as conn:
        cur = conn.cursor()
        cur.execute("SELECT current_schema()")
        assert cur.fetchone() == (mine,)
        cur.execute("CREATE TABLE IF NOT EXISTS probe (id int)")  # lands in its schema
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{mine}.probe",))
        assert cur.fetchone() == (True,)
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(f"CREATE TABLE {other}.intruder (id int)")


def test_only_the_service_roles_may_connect(created, managed_server):
    with connect(managed_server, MASTER, managed_server["password"]) as conn:
        cur = conn.cursor()
        cur.execute(
            "SELECT has_database_privilege('public', %s, 'CONNECT'),"
            " nspowner::regrole::text FROM pg_namespace WHERE nspname = %s",
            (DATABASE, ROLES[0]),
        )
        assert cur.fetchone() == (False, ROLES[0])
        for role in ROLES:
            cur.execute("SELECT has_database_privilege(%s, %s, 'CONNECT')", (role, DATABASE))
            assert cur.fetchone() == (True,)


def test_a_password_changed_on_the_server_is_set_again(
    converged, created, managed_server, role_passwords, tmp_path
):
    """The master user cannot read password hashes: the play logs in as each role and sets
    the password of a role that cannot, and only that."""
    role = ROLES[1]
    psql(converged, f"ALTER ROLE {role} PASSWORD '{random.token_urlsafe(24)}'")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect(managed_server, role, role_passwords[role])
    output = database_play(converged, managed_server, role_passwords, tmp_path)
    assert recap(output) == {"mlflow": 1}, output[-3000:]  # that password, nothing else
    for name in ROLES:
        connect(managed_server, name, role_passwords[name]).close()
