"""A replica of its own for the end-to-end tests (`mlops-test`, 10.89.61.0/24): built from
nothing once per session, converged with ansible/site.yml, removed with its data at the end."""

from __future__ import annotations

import re
import time

import boto3
import psycopg2
import pytest
import yaml
from botocore.config import Config

from local import config, hosts
from local.__main__ import up
from tests.conftest import REPO, VENV_BIN, run


@pytest.fixture(scope="session")
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


@pytest.fixture(scope="session")
def first_run(replica) -> str:
    """The output of the first ansible/site.yml run on the fresh replica."""
    return playbook(replica)


@pytest.fixture(scope="session")
def converged(replica, first_run):
    assert set(recap(first_run)) == {h.name for h in replica.hosts}
    return replica


@pytest.fixture(scope="session")
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


def wait(check, timeout=60.0):
    """Call check until it returns without raising; re-raise its last error after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
