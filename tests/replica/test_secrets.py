"""No generated secret in any log of the replica, after a full converge and after rotating
passwords: PostgreSQL logs DDL as RDS's parameter group makes it (a role's password is DDL),
the services log to journald, Ansible prints its tasks. Runs last: it rotates the database
password of Airflow and the MLflow admin's password, and the platform must follow."""

from __future__ import annotations

import base64
import secrets as random
import urllib.error
import urllib.request

import psycopg2
import pytest
import yaml

from local import podman
from tests.replica.conftest import ip, pg, playbook, recap, wait

ROTATED = ("secret_db_password_airflow", "secret_mlflow_admin_password")
# Every text log a host keeps: the journal (every unit's output), PostgreSQL's own files,
# Airflow's task logs, and whatever else lands under /var/log.
LOGS = (
    "journalctl --no-pager -o cat 2>/dev/null; "
    "find /var/log /var/lib/airflow/logs -type f -size -50M 2>/dev/null "
    "| grep -v -e '/journal/' -e 'wtmp$' -e 'btmp$' -e 'lastlog$' | xargs -r cat 2>/dev/null; true"
)


def logs_of(replica, host) -> str:
    """A host's logs as text; a binary file among them (a journal, a database page) must not
    stop the search, so undecodable bytes are replaced."""
    proc = podman.run("exec", replica.container(host), "sh", "-c", LOGS)
    return proc.stdout.decode(errors="replace")


def host_logs(replica) -> dict[str, str]:
    return {host.name: logs_of(replica, host) for host in replica.hosts}


def leaks(values: dict[str, str], texts: dict[str, str]) -> list[str]:
    return [
        f"{name} in {where}" for name, v in values.items() for where, t in texts.items() if v in t
    ]


def mlflow_admin_status(replica, password: str) -> int:
    url = f"http://{ip(replica, 'mlflow')}:5000/api/2.0/mlflow/users/get?username=admin"
    token = base64.b64encode(f"admin:{password}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.fixture(scope="module")
def rotated(converged, first_run):
    """The secrets before, the new values written to the replica's secrets file, and the
    output of the converge that applies them."""
    before = yaml.safe_load(converged.secrets_file.read_text())
    after = {**before, **{name: random.token_urlsafe(24) for name in ROTATED}}
    converged.secrets_file.write_text("---\n" + yaml.safe_dump(after, sort_keys=True))
    output = playbook(converged)
    return before, after, output


def test_no_secret_in_any_log_after_converge_and_rotation(converged, first_run, rotated):
    before, after, output = rotated
    assert recap(output)["mlflow"] > 0  # the rotation did something
    values = {**{f"{k} (old)": v for k, v in before.items()}, **after}
    found = leaks(values, {**host_logs(converged), "ansible (first converge)": first_run})
    found += leaks(values, {"ansible (rotation)": output})
    assert not found


def test_postgresql_logged_the_ddl_it_was_sent(converged, rotated):
    """The scan above means something only if the password DDL was logged at all."""
    rds = next(h for h in converged.hosts if h.name == "rds")
    logs = logs_of(converged, rds)
    assert "ALTER ROLE" in logs
    assert "SCRAM-SHA-256$" in logs  # the verifier went over the wire, not the password


def test_airflow_uses_its_rotated_database_password(converged, rotated):
    before, after, _ = rotated
    with pg(converged, after, role="airflow") as conn, conn.cursor() as cur:
        cur.execute("SELECT current_user")
        assert cur.fetchone() == ("airflow",)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        pg(converged, before, role="airflow")

    def healthy():
        url = f"http://{ip(converged, 'airflow')}:8080/api/v2/monitor/health"
        with urllib.request.urlopen(url, timeout=10) as response:
            health = yaml.safe_load(response.read())
        assert health["metadatabase"]["status"] == "healthy", health

    wait(healthy, timeout=60)


def test_mlflow_admin_logs_in_with_the_rotated_password_only(converged, rotated):
    before, after, _ = rotated
    assert mlflow_admin_status(converged, after["secret_mlflow_admin_password"]) == 200
    assert mlflow_admin_status(converged, before["secret_mlflow_admin_password"]) == 401
