"""A replica of its own for the end-to-end tests (`mlops-test`, 10.89.61.0/24): built from
nothing once per session, converged with ansible/site.yml, removed with its data at the end."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg2
import pytest
import yaml
from botocore.config import Config

from local import config, hosts, inventory
from local.__main__ import up
from local.clients import AirflowApi, wait  # noqa: F401 - the tests import them from here
from local.profile import recap
from tests.conftest import REPO, VENV_BIN, run
from tests.replica.browser import chromium

HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here needs the replica: the directory is marked, not file by file, so a new
    file cannot slip into `make unit` and build one."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.replica)


@pytest.fixture(scope="session")
def replica(tmp_path_factory, host_image):
    base = tmp_path_factory.mktemp("replica")
    inv = base / "inventory"
    inventory.link_group_vars(REPO / "inventories" / "local" / "group_vars", inv / "group_vars")
    # MLOPS_E2E_SCALE (e.g. "airflow_worker=1 app=2"): the same tests on a scaled-out replica
    rep = config.Replica(
        name="mlops-test",
        subnet="10.89.61.0/24",
        state_dir=base / "state",
        inventory_dir=inv,
        scale=config.parse_scale(os.environ.get("MLOPS_E2E_SCALE", "")),
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
        # as the services connect: TLS, the certificate checked against the replica's CA
        sslmode="verify-full",
        sslrootcert=str(replica.tls_dir / "ca.crt"),
    )


@pytest.fixture(scope="session")
def airflow_api(converged, secrets) -> AirflowApi:
    base = f"http://{ip(converged, 'airflow')}:8080"
    return AirflowApi.login(base, "admin", secrets["secret_airflow_admin_password"])


@dataclass(frozen=True)
class Dashboard:
    url: str
    username: str
    password: str


def public(replica, service: str) -> str:
    """A service's URL through the load balancer, as users reach it (ALB's service_urls)."""
    return f"https://{replica.service_name(service)}"


@pytest.fixture(scope="session")
def dashboard(converged, secrets) -> Dashboard:
    """Where users open the dashboard (through the load balancer) and how to log in."""
    return Dashboard(
        url=public(converged, "dashboard"),
        username="admin",
        password=secrets["secret_dashboard_password"],
    )


@pytest.fixture(scope="module")
def browser(converged):
    """One Chromium per module, resolving the replica's host names (mlflow, airflow, app) to
    their addresses and the services' names to the load balancer, as a user's DNS would,
    and trusting the load balancer's certificate (issued by the replica's CA)."""
    names = {host.name: converged.ip(host) for host in converged.hosts}
    names |= dict.fromkeys(converged.service_names(), ip(converged, "lb"))
    with chromium(names, trusted=converged.tls_dir / "lb.crt") as browser:
        yield browser
