"""End to end on a replica of its own: `up` from nothing, the playbooks twice, then the
data tier as a client on the controller sees it, including a restart of its hosts."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid

import pytest

from local import hosts, podman
from tests.replica.conftest import ip, pg, playbook, recap, s3, wait


def test_second_run_changes_nothing_and_no_output_shows_a_secret(converged, first_run, secrets):
    output = playbook(converged)
    second = recap(output)
    assert second == dict.fromkeys(second, 0)
    assert len(second) == len(converged.hosts)
    leaked = [name for name, value in secrets.items() if value in first_run + output]
    assert not leaked


def test_psql_as_mlflow_lands_in_schema_mlflow(converged, secrets):
    with pg(converged, secrets) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_user, current_schema()")
        assert cur.fetchone() == ("mlflow", "mlflow")


def test_s3_lists_both_buckets(converged, secrets):
    names = {b["Name"] for b in s3(converged, secrets).list_buckets()["Buckets"]}
    assert {"mlflow-artifacts", "airflow-dags"} <= names


def test_anonymous_s3_request_refused(converged):
    url = f"http://{ip(converged, 's3')}:8333/mlflow-artifacts/"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url, timeout=5)
    assert err.value.code == 403


def test_restart_keeps_services_and_data(converged, secrets):
    key, marker = f"probe/{uuid.uuid4()}", uuid.uuid4().hex
    s3(converged, secrets).put_object(Bucket="mlflow-artifacts", Key=key, Body=marker.encode())
    with pg(converged, secrets) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS restart_probe (marker text)")
        cur.execute("INSERT INTO restart_probe VALUES (%s)", (marker,))
    started = time.monotonic()
    podman.run("restart", "--time", "20", "mlops-test-rds", "mlops-test-s3")

    def read_back():
        body = s3(converged, secrets).get_object(Bucket="mlflow-artifacts", Key=key)["Body"]
        with pg(converged, secrets) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM restart_probe WHERE marker = %s", (marker,))
            return body.read().decode(), cur.fetchone()[0]

    assert wait(read_back) == (marker, 1)
    print(f"services answered {time.monotonic() - started:.1f}s after podman restart")


def test_hosts_have_their_own_identity(replica):
    """Each host has its own machine id and SSH host key, as separate EC2 instances do."""
    machine_ids = {
        podman.exec_(replica.container(h), ["cat", "/etc/machine-id"]).strip()
        for h in replica.hosts
    }
    host_keys = {hosts.host_key_line(replica, h).split()[-1] for h in replica.hosts}
    assert len(machine_ids) == len(host_keys) == len(replica.hosts)


def test_no_secret_on_any_command_line(converged, secrets):
    """No process on any host shows a secret in its arguments (ps is readable by everyone)."""
    for host in converged.hosts:
        ps = podman.exec_(converged.container(host), ["ps", "-eo", "args"])
        leaked = [name for name, value in secrets.items() if value in ps]
        assert not leaked, f"{host.name}: {leaked}"
