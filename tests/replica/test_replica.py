"""End to end on a replica of its own: `up` from nothing, the playbooks twice, then the
data tier as a client on the controller sees it, including a restart of its hosts."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
import uuid

import boto3
import psycopg2
import pytest
import yaml
from botocore.config import Config

from local import config, hosts, podman
from local.__main__ import up
from tests.conftest import REPO, VENV_BIN, run

pytestmark = pytest.mark.replica


@pytest.fixture(scope="module")
def replica(tmp_path_factory, host_image):
    base = tmp_path_factory.mktemp("replica")
    inv = base / "inventory"
    inv.mkdir()
    (inv / "group_vars").symlink_to(REPO / "inventories" / "local" / "group_vars")
    rep = config.Replica(
        name="mlops-test", subnet="10.89.61.0/24", state_dir=base / "state", inventory_dir=inv
    )
    hosts.remove(rep, purge=True)  # leftovers of an earlier, interrupted run
    up(rep)
    yield rep
    hosts.remove(rep, purge=True)


def playbook(replica: config.Replica) -> str:
    proc = run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(replica.inventory_dir), "ansible/site.yml"]
    )
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-4000:]
    return proc.stdout


def recap(output: str) -> dict[str, int]:
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.MULTILINE)
    }


@pytest.fixture(scope="module")
def converged(replica):
    first = recap(playbook(replica))
    assert set(first) == {h.name for h in replica.hosts}
    return replica


@pytest.fixture(scope="module")
def secrets(converged):
    return yaml.safe_load(converged.secrets_file.read_text())


def ip(replica, name):
    return replica.ip(next(h for h in replica.hosts if h.name == name))


def s3(replica, secrets):
    return boto3.client(
        "s3",
        endpoint_url=f"http://{ip(replica, 's3')}:8333",
        aws_access_key_id=secrets["secret_s3_access_key"],
        aws_secret_access_key=secrets["secret_s3_secret_key"],
        region_name="us-east-1",
        config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 1}),
    )


def pg(replica, secrets, role="mlflow"):
    return psycopg2.connect(
        host=ip(replica, "rds"),
        dbname="mlops",
        user=role,
        password=secrets[f"secret_db_password_{role}"],
        connect_timeout=5,
    )


def test_second_run_changes_nothing(converged):
    second = recap(playbook(converged))
    assert second == dict.fromkeys(second, 0)
    assert len(second) == len(converged.hosts)


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


def wait(check, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


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
