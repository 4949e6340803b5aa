"""The database play (ansible/data.yml) as it runs against RDS, on the replica's database
host, which is made as RDS makes an instance: PostgreSQL of RDS's major (engine_version), a
master user that is no superuser, TCP over TLS only, DDL logged.

site.yml already creates the platform's own database, roles and schemas this way; these
tests run the same play again for a database and roles of their own, so they can check a
first run, a second one, and a password changed behind the play's back, without touching
the platform's. Everything is dropped at the end.
"""

from __future__ import annotations

import json
import secrets as random

import psycopg2
import pytest

from local import podman
from tests.conftest import VENV_BIN, run
from tests.replica.conftest import ip, recap
from tests.test_database_version import rds_major

DATABASE = "platform_check"
ROLES = ("check_mlflow", "check_airflow")
# A further schema of the first role, as MLflow's users have (mlflow_auth).
EXTRA_SCHEMA = "check_mlflow_auth"
MASTER = "mlops_admin"


def psql(replica, sql: str) -> str:
    """SQL on the database host as the postgres superuser (the test's own clean-up)."""
    rds = next(h for h in replica.hosts if "database" in h.groups)
    argv = ["runuser", "-u", "postgres", "--", "psql", "-tAc", sql]
    return podman.exec_(replica.container(rds), argv)


@pytest.fixture(scope="module")
def role_passwords() -> dict[str, str]:
    return {role: random.token_urlsafe(24) for role in ROLES}


def database_play(replica, role_passwords, tmp_path) -> str:
    extra = tmp_path / "check-database.json"
    extra.write_text(
        json.dumps(
            {
                "postgresql_database": DATABASE,
                "postgresql_service_roles": [
                    {"name": name, "password": password}
                    for name, password in role_passwords.items()
                ],
                "postgresql_extra_schemas": [{"name": EXTRA_SCHEMA, "owner": ROLES[0]}],
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
def created(converged, role_passwords, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("managed-database")
    first = database_play(converged, role_passwords, tmp)
    second = database_play(converged, role_passwords, tmp)
    yield first, second
    psql(converged, f"DROP DATABASE IF EXISTS {DATABASE}")
    for role in ROLES:
        psql(converged, f"DROP ROLE IF EXISTS {role}")


def connect(replica, role, password, dbname=DATABASE):
    """As the services connect: TLS, the certificate verified against the replica's CA."""
    return psycopg2.connect(
        host=ip(replica, "rds"),
        dbname=dbname,
        user=role,
        password=password,
        sslmode="verify-full",
        sslrootcert=str(replica.tls_dir / "ca.crt"),
        connect_timeout=5,
    )


def master(replica, secrets, dbname=DATABASE):
    return connect(replica, MASTER, secrets["secret_db_master_password"], dbname)


def test_server_runs_the_major_of_rds_engine_version(converged, secrets):
    with master(converged, secrets, "postgres") as conn, conn.cursor() as cur:
        cur.execute("SHOW server_version_num")
        assert int(cur.fetchone()[0]) // 10000 == rds_major()


def test_master_user_is_no_superuser_and_talks_tls(converged, secrets):
    with master(converged, secrets, "postgres") as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        )
        assert cur.fetchone() == (False, True, True)
        cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert cur.fetchone() == (True,)
        cur.execute("SHOW log_statement")
        assert cur.fetchone() == ("ddl",)


def test_plain_tcp_is_refused(converged, secrets):
    with pytest.raises(psycopg2.OperationalError, match=r"no encryption|pg_hba\.conf"):
        psycopg2.connect(
            host=ip(converged, "rds"),
            dbname="postgres",
            user=MASTER,
            password=secrets["secret_db_master_password"],
            sslmode="disable",
            connect_timeout=5,
        )


def test_play_creates_database_roles_and_schemas_then_changes_nothing(created):
    first, second = created
    assert recap(first)["mlflow"] > 0
    assert recap(second) == {"mlflow": 0}, second[-3000:]


def test_master_user_may_act_as_the_roles_it_created(converged, created, secrets):
    """PostgreSQL 16+ grants a role's creator ADMIN only; CREATE SCHEMA ... AUTHORIZATION
    needs SET, finding the schema again needs INHERIT: the play grants both."""
    with master(converged, secrets) as conn, conn.cursor() as cur:
        for role in ROLES:
            cur.execute("SELECT pg_has_role(%s, 'SET'), pg_has_role(%s, 'USAGE')", (role, role))
            assert cur.fetchone() == (True, True)


def test_each_service_role_works_in_its_own_schema_only(converged, created, role_passwords):
    mine, other = ROLES
    with connect(converged, mine, role_passwords[mine]) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_schema()")
        assert cur.fetchone() == (mine,)
        cur.execute("CREATE TABLE IF NOT EXISTS probe (id int)")  # lands in its schema
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{mine}.probe",))
        assert cur.fetchone() == (True,)
        # and in its further schema, which the other role cannot write to
        cur.execute(f"CREATE TABLE IF NOT EXISTS {EXTRA_SCHEMA}.probe (id int)")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(f"CREATE TABLE {other}.intruder (id int)")
    with (
        connect(converged, other, role_passwords[other]) as conn,
        conn.cursor() as cur,
        pytest.raises(psycopg2.errors.InsufficientPrivilege),
    ):
        cur.execute(f"CREATE TABLE {EXTRA_SCHEMA}.intruder (id int)")


def test_only_the_service_roles_may_connect(converged, created, secrets):
    with master(converged, secrets) as conn, conn.cursor() as cur:
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
    converged, created, role_passwords, tmp_path
):
    """The master user cannot read password hashes: the play logs in as each role and sets
    the password of a role that cannot, and only that."""
    role = ROLES[1]
    psql(converged, f"ALTER ROLE {role} PASSWORD '{random.token_urlsafe(24)}'")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect(converged, role, role_passwords[role])
    output = database_play(converged, role_passwords, tmp_path)
    assert recap(output) == {"mlflow": 1}, output[-3000:]  # that password, nothing else
    for name in ROLES:
        connect(converged, name, role_passwords[name]).close()
