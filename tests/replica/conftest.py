"""A replica of its own for the end-to-end tests (`mlops-test`, 10.89.61.0/24): built from
nothing once per session, converged with ansible/site.yml, removed with its data at the end."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg2
import pytest
import yaml
from botocore.config import Config

from local import config, hosts, inventory
from local.__main__ import up
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
        # as the services connect: TLS, the certificate checked against the replica's CA
        sslmode="verify-full",
        sslrootcert=str(replica.tls_dir / "ca.crt"),
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


class AirflowApi:
    """Airflow's REST API as a client sees it: JSON in and out, a bearer token once logged in."""

    def __init__(self, base: str, token: str | None = None):
        self.base, self.token = base, token

    def __call__(self, method: str, path: str, body: dict | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - http to our own host
            self.base + path, data=data, method=method, headers=headers
        )
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return json.load(response)

    def log(self, path: str) -> str:
        """A task's log (GET .../logs/N) as text: one structured event (JSON) per line; an
        exception's message is in its event's error_detail."""
        content = self("GET", path)["content"]
        if isinstance(content, str):
            return content
        return "\n".join(json.dumps(item) for item in content)

    def run_dag(self, dag_id: str, conf: dict | None = None, timeout: float = 600) -> dict:
        """Trigger a run and wait for its end; the finished run."""
        run = self(
            "POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}}
        )
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}"

        def finished():
            state = self("GET", path)
            assert state["state"] in ("success", "failed")
            return state

        return wait(finished, timeout=timeout)


@pytest.fixture(scope="session")
def airflow_api(converged, secrets) -> AirflowApi:
    base = f"http://{ip(converged, 'airflow')}:8080"
    login = {"username": "admin", "password": secrets["secret_airflow_admin_password"]}
    token = AirflowApi(base)("POST", "/auth/token", login)["access_token"]
    return AirflowApi(base, token)


@dataclass(frozen=True)
class Dashboard:
    url: str
    username: str
    password: str


@pytest.fixture(scope="session")
def dashboard(converged, secrets) -> Dashboard:
    """Where the dashboard answers and how to log in."""
    return Dashboard(
        url=f"http://{ip(converged, 'app')}:8501",
        username="admin",
        password=secrets["secret_dashboard_password"],
    )


@pytest.fixture(scope="module")
def browser(converged):
    """One Chromium per module, resolving the replica's host names (mlflow, airflow, app) to
    their addresses as a user's DNS would: the host names are the origins the inventory
    configures besides the addresses."""
    with chromium({host.name: converged.ip(host) for host in converged.hosts}) as browser:
        yield browser
