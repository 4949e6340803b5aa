"""HCL contract tests: what the security review and the Ansible side rely on.

Each check is a function of tests/terraform/contracts.py; it runs on terraform/ (no problem
allowed) and on a deliberately broken fixture (the problem must be found), so a check that
silently stopped working fails here too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.terraform import contracts

TERRAFORM = REPO / "terraform"
NETWORK = TERRAFORM / "modules" / "network"
FIXTURES = Path(__file__).parent / "fixtures"

# The flows of ../shared/DESIGN.md, as (source, destination, port). Security groups by name;
# `cidr:` marks a CIDR block. Nothing else may be allowed: no SSH, no Airflow log servers.
EXPECTED_INGRESS = {
    ("cidr:var.allowed_ingress_cidrs", "alb", 443),
    ("alb", "app", 8501),  # dashboard
    ("alb", "app", 8000),  # model API
    ("alb", "mlflow", 5000),
    ("alb", "airflow", 8080),
    ("airflow", "mlflow", 5000),
    ("app", "mlflow", 5000),
    ("app", "airflow", 8080),  # the dashboard triggers DAG runs
    ("mlflow", "rds", 5432),
    ("airflow", "rds", 5432),
}
EXPECTED_EGRESS = {flow for flow in EXPECTED_INGRESS if not flow[0].startswith("cidr:")} | {
    (host, "cidr:0.0.0.0/0", port)
    for host in ("mlflow", "airflow", "app")
    for port in (443, 80)  # packages, SSM, S3
}
FORBIDDEN_PORTS = {22, 3389, 8793, 8794}


def test_every_instance_carries_the_inventory_tags():
    assert contracts.untagged_instances(TERRAFORM) == []
    assert any(r.type == "aws_instance" for r in contracts.resources(TERRAFORM))


def test_untagged_instance_is_flagged():
    problems = contracts.untagged_instances(FIXTURES / "untagged_instance")
    assert problems == [
        "untagged_instance/aws_instance.orphan: missing tags Role",
        "untagged_instance/aws_instance.merged: missing tags Project, Environment, Role",
    ]


def test_instances_require_imdsv2_encrypt_their_volumes_and_run_the_ssm_agent():
    assert contracts.instance_problems(TERRAFORM) == []


def test_imdsv1_unencrypted_volume_and_missing_ssm_agent_are_flagged():
    problems = contracts.instance_problems(FIXTURES / "untagged_instance")
    assert "untagged_instance/aws_instance.orphan: IMDSv2 not required (http_tokens)" in problems
    assert "untagged_instance/aws_instance.orphan: root volume not encrypted" in problems
    assert "untagged_instance/aws_instance.merged: IMDSv2 not required (http_tokens)" in problems
    assert "untagged_instance/aws_instance.orphan: user_data does not install the SSM agent" in (
        problems
    )


def test_security_groups_allow_exactly_the_documented_flows():
    rules = contracts.security_group_rules(TERRAFORM)
    assert contracts.flows(rules, "ingress") == EXPECTED_INGRESS
    assert contracts.flows(rules, "egress") == EXPECTED_EGRESS
    assert all(r.address.startswith("network/") for r in rules), "rules live in modules/network"


def test_every_flow_between_groups_is_open_on_both_sides():
    rules = contracts.security_group_rules(TERRAFORM)
    between_groups = {f for f in contracts.flows(rules, "ingress") if not f[0].startswith("cidr:")}
    assert between_groups <= contracts.flows(rules, "egress")


def test_no_ssh_no_log_server_ports():
    ports = {r.port for r in contracts.security_group_rules(TERRAFORM)}
    assert not ports & FORBIDDEN_PORTS
    assert "all" not in ports


def test_only_the_load_balancer_listener_accepts_traffic_from_networks():
    assert contracts.public_ingress(contracts.security_group_rules(TERRAFORM)) == []


def test_open_database_and_extra_flows_are_flagged():
    rules = contracts.security_group_rules(FIXTURES / "open_database")
    assert contracts.public_ingress(rules) == [
        "open_database/aws_security_group.app: cidr:0.0.0.0/0 -> app:22",
        "open_database/aws_vpc_security_group_ingress_rule.rds_from_anywhere: "
        "cidr:0.0.0.0/0 -> rds:5432",
    ]
    ingress = contracts.flows(rules, "ingress")
    assert ingress != EXPECTED_INGRESS
    assert ("app", "airflow", "8793-8794") in ingress


def test_buckets_and_database_are_encrypted_and_private():
    # The SSM transfer bucket is not versioned on purpose: Ansible's module files carry task
    # arguments, secrets included, that must not survive in old versions.
    assert contracts.storage_problems(TERRAFORM, unversioned=frozenset({"ssm_transfer"})) == []
    buckets = {r.name for r in contracts.resources(TERRAFORM) if r.type == "aws_s3_bucket"}
    assert buckets == {"this", "logs", "ssm_transfer"}, "modules/bucket (artifacts, dags, data)"


def test_insecure_storage_is_flagged():
    assert contracts.storage_problems(FIXTURES / "insecure_storage") == [
        "insecure_storage/aws_s3_bucket.leaky: no encryption",
        "insecure_storage/aws_s3_bucket.leaky: no versioning",
        "insecure_storage/aws_s3_bucket.leaky: no public block",
        "insecure_storage/aws_db_instance.public: storage not encrypted",
        "insecure_storage/aws_db_instance.public: publicly_accessible is not false",
        "insecure_storage/aws_db_instance.public: master password not managed by AWS",
    ]


def _repository_files(root: Path) -> list[Path]:
    """Files git tracks or would add under root (a git-ignored terraform.tfvars is fine)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", str(root)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [REPO / name for name in listed.split("\0") if name]


def test_no_secret_literals_key_pairs_or_tfvars():
    files = _repository_files(TERRAFORM)
    assert any(f.name == "terraform.tfvars.example" for f in files)
    assert contracts.secret_problems(TERRAFORM, files) == []


def test_secret_literals_are_flagged(tmp_path: Path):
    (tmp_path / "main.tf").write_text(
        (FIXTURES / "insecure_storage" / "main.tf").read_text()
        + 'provider "aws" {\n  access_key = "AKIA'
        + 'IOSFODNN7EXAMPLE"\n  secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n}\n'
    )
    (tmp_path / "terraform.tfvars").write_text('region = "us-east-1"\n')
    (tmp_path / "deploy.pem").write_text("-----BEGIN RSA " + "PRIVATE KEY-----\n")
    assert contracts.secret_problems(tmp_path) == [
        "deploy.pem: this kind of file must not be in the repository",
        "deploy.pem: private key",
        "main.tf: literal password",
        "main.tf: literal secret/access key",
        "main.tf: AWS access key id",
        "terraform.tfvars: this kind of file must not be in the repository",
    ]


@pytest.mark.parametrize("role", ["mlflow", "airflow", "app"])
def test_each_role_has_an_instance_profile_with_ssm(role: str):
    compute = contracts.load_module(TERRAFORM / "modules" / "compute")
    roles = [block for block in compute["locals"] if "roles" in block]
    assert role in roles[0]["roles"]
    attachments = [
        body
        for res in contracts.resources(TERRAFORM / "modules" / "compute")
        if res.type == "aws_iam_role_policy_attachment"
        for body in [res.body]
    ]
    assert any("AmazonSSMManagedInstanceCore" in a["policy_arn"] for a in attachments)


def test_s3_access_is_least_privilege():
    locals_ = {}
    for block in contracts.load_module(TERRAFORM / "modules" / "compute")["locals"]:
        locals_.update(block)
    assert locals_["s3_read_buckets"] == {
        "mlflow": ['${var.bucket_arns["artifacts"]}'],
        "airflow": ['${var.bucket_arns["dags"]}', '${var.bucket_arns["data"]}'],
        "app": [],
    }
    assert locals_["s3_write_buckets"] == {
        "mlflow": ['${var.bucket_arns["artifacts"]}'],
        "airflow": [],
        "app": [],
    }
