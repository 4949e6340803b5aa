"""roles/airflow on the CeleryExecutor: the environment the role writes, read by the Celery
provider the hosts install, gives a broker over verified TLS with the AUTH token, results in
PostgreSQL, and the executor imports (Celery 5.7 broke the provider's import: pinned 5.6)."""

import json
import os
import ssl
import subprocess
import sys

import pytest

from tests.conftest import REPO, VENV_BIN, run
from tests.roles.test_preflight import GOOD

CELERY = {
    "airflow_executor": "CeleryExecutor",
    "airflow_celery_broker_host": "broker.internal",
    "airflow_celery_broker_port": 6380,
    "airflow_celery_broker_password": "Token-with^signs&0123456789",
    "airflow_celery_broker_ca_file": "/etc/ssl/mlops/broker.pem",
    "airflow_celery_concurrency": 3,
}
# What the provider makes of that environment, printed as JSON. Airflow connects its ORM at
# import: it imports with SQLite, then the role's database URL is put back.
READ_CONFIG = """
import json, os, ssl
from airflow.executors.executor_loader import ExecutorLoader
from airflow.providers.celery.executors import celery_executor_utils
from airflow.providers.celery.executors.default_celery import get_default_celery_config
ExecutorLoader.import_default_executor_cls()
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = os.environ["ROLE_SQL_ALCHEMY_CONN"]
config = get_default_celery_config(None)
print(json.dumps({
    "broker_url": config["broker_url"],
    "broker_use_ssl": {k: str(v) for k, v in config["broker_use_ssl"].items()},
    "result_backend": config["result_backend"],
    "worker_concurrency": config["worker_concurrency"],
    "task_acks_late": config["task_acks_late"],
    "app_broker": celery_executor_utils.app.conf.broker_url,
}))
"""


def rendered(tmp, variables: dict) -> dict[str, str]:
    """The role's environment file's content, rendered by Ansible from the role's variables."""
    out = tmp / "environment.json"
    playbook = tmp / "play.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role:\n        name: airflow\n"
        "        tasks_from: preflight\n        public: true\n"
        f"      vars: {json.dumps(variables)}\n"
        "    - ansible.builtin.copy:\n"
        "        content: '{{ __airflow_environment | to_json }}'\n"
        f"        dest: {out}\n"
        "        mode: '0600'\n"
        f"      vars: {json.dumps(variables)}\n"
    )
    proc = run(
        [
            str(VENV_BIN / "ansible-playbook"),
            *("-i", "localhost,", "-c", "local", str(playbook)),
            *("-e", f"ansible_python_interpreter={sys.executable}"),
        ],
        ANSIBLE_ROLES_PATH=str(REPO / "roles"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def environment(tmp_path_factory) -> dict[str, str]:
    return rendered(tmp_path_factory.mktemp("celery"), {**GOOD["airflow"], **CELERY})


def test_the_provider_reads_a_verified_tls_broker_with_the_token(environment, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_")} | {
        **environment,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db",
        "ROLE_SQL_ALCHEMY_CONN": environment["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"],
    }
    proc = subprocess.run(
        [sys.executable, "-c", READ_CONFIG], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    config = json.loads(proc.stdout.strip().splitlines()[-1])
    # the token percent-encoded in the URL; TLS only (rediss), the certificate verified
    assert config["broker_url"] == (
        "rediss://:Token-with%5Esigns%260123456789@broker.internal:6380/0"
    )
    assert config["app_broker"] == config["broker_url"]
    assert config["broker_use_ssl"] == {
        "ssl_cert_reqs": str(int(ssl.CERT_REQUIRED)),
        "ssl_ca_certs": "/etc/ssl/mlops/broker.pem",
    }
    assert config["result_backend"].startswith("db+postgresql+psycopg2://airflow@db.internal:")
    assert config["worker_concurrency"] == 3
    assert config["task_acks_late"] is True  # a task whose worker dies is delivered again


def test_local_executor_writes_no_broker(tmp_path):
    """Without workers nothing of Celery is in the environment (nor the token)."""
    environment = rendered(
        tmp_path, {**GOOD["airflow"], **CELERY, "airflow_executor": "LocalExecutor"}
    )
    assert environment["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert not [key for key in environment if key.startswith("AIRFLOW__CELERY__")]
