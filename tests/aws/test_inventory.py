"""The AWS dynamic inventory and its group variables, against moto's EC2, SSM and Secrets
Manager: the same `ansible-inventory` and `ansible` commands an operator runs."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.aws.conftest import PROJECT, FakeAws
from tests.conftest import REPO, VENV_BIN

INVENTORY = str(REPO / "inventories" / "aws")
# The mapping from the inventory's facts to role inputs lives beside the playbooks.
PLAYBOOKS = str(REPO / "ansible")
GROUPS = ("mlflow", "airflow", "app", "airflow_worker")


def plain(value):
    """ansible-inventory's JSON marks strings from AWS as unsafe: {"__ansible_unsafe": "x"}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


@pytest.fixture(scope="module")
def listed(fake_aws: FakeAws, fleet) -> dict:
    proc = fake_aws.run([str(VENV_BIN / "ansible-inventory"), "-i", INVENTORY, "--list"])
    assert proc.returncode == 0, proc.stderr
    return plain(json.loads(proc.stdout))


def hosts_of(listed: dict, group: str) -> set[str]:
    return set(listed.get(group, {}).get("hosts", []))


def test_each_role_lands_in_its_group_and_nowhere_else(listed, fleet):
    for group in GROUPS:
        expected = {name for name, host in fleet["ours"].items() if host["role"] == group}
        assert hosts_of(listed, group) == expected, group
    assert set(listed["all"]["children"]) >= set(GROUPS)
    for group in ("database", "object_store", "bastion", "ungrouped"):
        assert not hosts_of(listed, group), group


def test_hosts_are_named_by_their_name_tag_or_instance_id(listed, fleet):
    assert set(listed["_meta"]["hostvars"]) == set(fleet["ours"])
    unnamed = [name for name in fleet["ours"] if name.startswith("i-")]
    assert len(unnamed) == 1


def test_ansible_host_is_the_private_address_and_ssm_targets_the_instance(listed, fleet):
    for name, host in fleet["ours"].items():
        hostvars = listed["_meta"]["hostvars"][name]
        assert hostvars["ansible_host"] == host["ip"]
        assert hostvars["ansible_aws_ssm_instance_id"] == host["id"]
        assert hostvars["ec2_tags"]["Project"] == PROJECT
        assert "tags" not in hostvars  # a reserved name in Ansible: prefixed ec2_


def test_other_environments_projects_roles_and_stopped_instances_are_left_out(listed, fleet):
    hostvars = listed["_meta"]["hostvars"].values()
    ids = {host["ansible_aws_ssm_instance_id"] for host in hostvars}
    for what, outsider in fleet["outsiders"].items():
        assert outsider["id"] not in ids, what


def test_graph_lists_the_groups_with_their_hosts(fake_aws, fleet):
    proc = fake_aws.run([str(VENV_BIN / "ansible-inventory"), "-i", INVENTORY, "--graph"])
    assert proc.returncode == 0, proc.stderr
    for group in GROUPS:
        assert f"@{group}:" in proc.stdout
    for name in fleet["ours"]:
        assert f"--{name}\n" in proc.stdout
    assert "norole" not in proc.stdout
    assert "bastion" not in proc.stdout


def test_the_production_environment_sees_only_its_own_instance(fake_aws, fleet):
    proc = fake_aws.run(
        [str(VENV_BIN / "ansible-inventory"), "-i", INVENTORY, "--list"],
        MLOPS_ENVIRONMENT="production",
    )
    assert proc.returncode == 0, proc.stderr
    listed = plain(json.loads(proc.stdout))
    assert hosts_of(listed, "mlflow") == {fleet["outsiders"]["production"]["id"]}
    assert not hosts_of(listed, "app")
    assert not hosts_of(listed, "airflow")
    assert not hosts_of(listed, "airflow_worker")


def test_the_workers_are_their_own_group_not_airflows(listed, fleet):
    """Celery workers (Terraform's airflow_worker role) get the worker units, never the
    scheduler's: a group of their own, disjoint from airflow."""
    workers = hosts_of(listed, "airflow_worker")
    assert workers == {"mlops-staging-airflow_worker-1", "mlops-staging-airflow_worker-2"}
    assert not workers & hosts_of(listed, "airflow")
    for name in workers:
        assert listed["_meta"]["hostvars"][name]["ec2_tags"]["Role"] == "airflow_worker"


def test_an_unset_environment_fails_instead_of_matching_nothing(fake_aws, fleet):
    env = {key: value for key, value in fake_aws.env.items() if key != "MLOPS_ENVIRONMENT"}
    proc = fake_aws.run([str(VENV_BIN / "ansible-inventory"), "-i", INVENTORY, "--list"])
    assert proc.returncode == 0  # the fixture's environment, for contrast
    unset = FakeAws(endpoint=fake_aws.endpoint, env=env)
    proc = unset.run([str(VENV_BIN / "ansible-inventory"), "-i", INVENTORY, "--list"])
    assert proc.returncode != 0
    assert "MLOPS_ENVIRONMENT" in proc.stdout + proc.stderr


def load_aws_secrets():
    path = REPO / ".github" / "scripts" / "aws_secrets.py"
    spec = importlib.util.spec_from_file_location("aws_secrets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_aws_secrets_creates_each_secret_once(fake_aws):
    aws_secrets = load_aws_secrets()
    ssm = fake_aws.client("ssm")
    created = aws_secrets.ensure(ssm, PROJECT, "secrets-test")
    assert created == aws_secrets.names()
    assert "secret_s3_access_key" not in created
    path = f"/{PROJECT}/secrets-test/secret_model_api_key"
    first = ssm.get_parameter(Name=path, WithDecryption=True)["Parameter"]
    assert first["Type"] == "SecureString"
    assert len(first["Value"]) >= 32
    assert aws_secrets.ensure(ssm, PROJECT, "secrets-test") == []
    again = ssm.get_parameter(Name=path, WithDecryption=True)["Parameter"]
    assert again["Value"] == first["Value"]


def test_group_vars_resolve_terraform_outputs_and_secrets_from_aws(fake_aws, fleet, tmp_path):
    """The variables the roles get on an `mlflow` host, computed on the controller (debug runs
    no module on the host, so no Session Manager connection is made)."""
    load_aws_secrets().ensure(fake_aws.client("ssm"), PROJECT, "staging")
    secrets = fake_aws.client("secretsmanager")
    master = secrets.create_secret(
        Name="rds!db-test",
        SecretString=json.dumps({"username": "mlops_admin", "password": "master-pw"}),
    )
    # modules/broker's AUTH token: a plain string, not JSON
    broker_token = secrets.create_secret(
        Name="mlops-staging-broker-auth-20261206000000000", SecretString="t0kenOfSixtyFourLetters"
    )
    outputs = {
        "terraform_outputs": {
            "db_address": "mlops-staging.abc.eu-west-1.rds.amazonaws.com",
            "db_port": 5432,
            "db_name": "mlops",
            "db_master_secret_arn": master["ARN"],
            "bucket_names": {"artifacts": "art-b", "dags": "dags-b", "data": "data-b"},
            "alb_dns_name": "mlops-staging-123.eu-west-1.elb.amazonaws.com",
            "service_urls": {"mlflow": "https://mlflow.example.org"},
            "ssm_bucket_name": "ssm-transfer-b",
            "broker_address": "master.mlops-staging-broker.abc.euw1.cache.amazonaws.com",
            "broker_port": 6379,
            "broker_auth_secret_arn": broker_token["ARN"],
        }
    }
    extra = tmp_path / "terraform-outputs.json"
    extra.write_text(json.dumps(outputs))
    wanted = [
        "ansible_connection",
        "ansible_aws_ssm_bucket_name",
        "ansible_aws_ssm_region",
        "mlflow_db_host",
        "mlflow_db_port",
        "mlflow_artifacts_destination",
        "mlflow_s3_endpoint_url",
        "mlflow_s3_access_key",
        "mlflow_allowed_hosts",
        "mlflow_cors_allowed_origins",
        "platform_database_master",
        "platform_database_passwords",
        "platform_mlflow_url",
        "platform_broker_host",
        "platform_broker_port",
        "platform_broker_password",
        "platform_broker_ca_file",
    ]
    airflow = "hostvars[groups['airflow'][0]]"
    pairs = [f"'{name}': {name}" for name in wanted] + [
        f"'{name}': {airflow}['{name}']" for name in ("airflow_s3_region", "airflow_dags_bucket")
    ]
    msg = "{{ {" + ", ".join(pairs) + "} | to_json }}"
    proc = fake_aws.run(
        [
            str(VENV_BIN / "ansible"),
            "mlops-staging-mlflow-1",
            "-i",
            INVENTORY,
            "--playbook-dir",
            PLAYBOOKS,
            "-e",
            f"@{extra}",
            "-m",
            "ansible.builtin.debug",
            "-a",
            f"msg={msg}",
        ]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = json.loads(proc.stdout.split(" => ", 1)[1])["msg"]
    got = json.loads(got) if isinstance(got, str) else got
    mlflow_ip = fleet["ours"]["mlops-staging-mlflow-1"]["ip"]
    assert got["ansible_connection"] == "amazon.aws.aws_ssm"
    assert got["ansible_aws_ssm_bucket_name"] == "ssm-transfer-b"
    assert got["ansible_aws_ssm_region"] == "eu-west-1"
    assert got["mlflow_db_host"] == "mlops-staging.abc.eu-west-1.rds.amazonaws.com"
    assert int(got["mlflow_db_port"]) == 5432
    assert got["mlflow_artifacts_destination"] == "s3://art-b"
    # S3 itself through the instance profile: no endpoint, no keys
    assert got["mlflow_s3_endpoint_url"] == ""
    assert got["mlflow_s3_access_key"] == ""
    assert outputs["terraform_outputs"]["alb_dns_name"] in got["mlflow_allowed_hosts"]
    assert "mlflow.example.org" in got["mlflow_allowed_hosts"]
    assert mlflow_ip in got["mlflow_allowed_hosts"]
    assert "https://mlflow.example.org" in got["mlflow_cors_allowed_origins"]
    assert got["platform_database_master"] == {"username": "mlops_admin", "password": "master-pw"}
    ssm = fake_aws.client("ssm")
    mlflow_pw = ssm.get_parameter(
        Name=f"/{PROJECT}/staging/secret_db_password_mlflow", WithDecryption=True
    )["Parameter"]["Value"]
    roles = got["platform_database_passwords"]
    assert roles["mlflow"] == mlflow_pw
    assert set(roles) == {"mlflow", "airflow"}
    assert roles["airflow"] not in ("", mlflow_pw)
    assert got["airflow_s3_region"] == "eu-west-1"
    assert got["airflow_dags_bucket"] == "dags-b"
    assert got["platform_mlflow_url"] == f"http://{mlflow_ip}:5000"
    assert got["platform_broker_host"] == outputs["terraform_outputs"]["broker_address"]
    assert int(got["platform_broker_port"]) == 6379
    assert got["platform_broker_password"] == "t0kenOfSixtyFourLetters"
    assert got["platform_broker_ca_file"] == "/etc/ssl/certs/ca-certificates.crt"


def test_broker_facts_without_a_broker_need_no_secret(fake_aws, fleet, tmp_path):
    """Without workers Terraform's broker outputs are null; the facts that do not read the
    secret still resolve, and nothing looks the token up unless a task uses it."""
    outputs = {
        "terraform_outputs": {
            "broker_address": None,
            "broker_port": None,
            "broker_auth_secret_arn": None,
            "ssm_bucket_name": "ssm-transfer-b",
        }
    }
    extra = tmp_path / "terraform-outputs.json"
    extra.write_text(json.dumps(outputs))
    proc = fake_aws.run(
        [
            str(VENV_BIN / "ansible"),
            "mlops-staging-airflow-1",
            "-i",
            INVENTORY,
            "-e",
            f"@{extra}",
            "-m",
            "ansible.builtin.debug",
            "-a",
            "msg={{ {'ca': platform_broker_ca_bundle, 'host': platform_broker_host} | to_json }}",
        ]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = json.loads(proc.stdout.split(" => ", 1)[1])["msg"]
    got = json.loads(got) if isinstance(got, str) else got
    assert got["ca"] == ""  # no bundle of ours: the system's has ElastiCache's CA
    assert not got["host"]


def test_group_vars_without_terraform_outputs_say_what_is_missing(fake_aws, fleet):
    proc = fake_aws.run(
        [
            str(VENV_BIN / "ansible"),
            "mlops-staging-mlflow-1",
            "-i",
            INVENTORY,
            "--playbook-dir",
            PLAYBOOKS,
            "-m",
            "ansible.builtin.debug",
            "-a",
            "var=mlflow_db_host",
        ]
    )
    assert "terraform-outputs.json" in proc.stdout + proc.stderr
