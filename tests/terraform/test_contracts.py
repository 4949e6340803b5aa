"""HCL contract tests: what the security review and the Ansible side rely on.

Each check is a function of tests/terraform/contracts.py; it runs on terraform/ (no problem
allowed) and on a deliberately broken fixture (the problem must be found), so a check that
silently stopped working fails here too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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
    ("mlflow", "app", 8000),  # MLflow's webhooks tell the model API the alias moved
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
    assert buckets == {"this", "logs", "ssm_transfer", "state"}, "modules/bucket, bootstrap's state"


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


def test_the_app_role_may_only_put_uploads_under_the_ansible_prefix():
    """The dashboard stores users' files in the data bucket: PutObject under the prefix
    Ansible gives it (platform_upload_prefix), nothing more; the replica's key is limited to
    the same prefix (ansible/group_vars/object_store.yml)."""
    policies = contracts.typed_blocks(COMPUTE, "resource")
    uploads = policies["aws_iam_role_policy.uploads"]
    assert uploads["role"] == '${aws_iam_role.role["app"].id}'
    statements = contracts.policy_statements(COMPUTE, "uploads")
    assert [(s["actions"], s["resources"]) for s in statements] == [
        (["s3:PutObject"], ['${var.bucket_arns["data"]}/${var.upload_prefix}/*'])
    ]
    platform = yaml.safe_load((REPO / "ansible/group_vars/all/platform.yml").read_text())
    default = contracts.variable_default(COMPUTE, "upload_prefix")
    assert default == platform["platform_upload_prefix"]
    identities = (REPO / "ansible/group_vars/object_store.yml").read_text()
    assert "Write:{{ platform_buckets.data }}/{{ platform_upload_prefix }}/*" in identities


# --- issue 11: ordering of a first apply, secrets, logs ----------------------------------------

MODULES = TERRAFORM / "modules"
COMPUTE = MODULES / "compute"
DATABASE = MODULES / "database"
STORAGE = MODULES / "storage"
ALB = MODULES / "alb"
PLATFORM = MODULES / "platform"

# What the policies are rendered with in these tests: one account, one region, one project.
ACCOUNT, REGION, PROJECT = "123456789012", "eu-west-1", "mlops"
RENDER = {
    "var.project": PROJECT,
    "local.project": PROJECT,
    "data.aws_region.current.region": REGION,
    "data.aws_caller_identity.current.account_id": ACCOUNT,
    "data.aws_partition.current.partition": "aws",
    "local.partition": "aws",
    "local.region": REGION,
    "local.account_id": ACCOUNT,
}


def _network_resources(root: Path = MODULES) -> list[contracts.Resource]:
    return [r for r in contracts.resources(root / "network")]


def _addresses(resources, predicate) -> set[str]:
    return {f"network/{r.type}.{r.name}" for r in resources if predicate(r)}


def _routes_through(kind: str, table: str):
    """Routes of a route table (aws_route resources, or the table's inline routes) to
    0.0.0.0/0 through a NAT gateway (`nat`) or an internet gateway (`igw`)."""
    argument, target = {
        "nat": ("nat_gateway_id", "aws_nat_gateway."),
        "igw": ("gateway_id", "aws_internet_gateway."),
    }[kind]

    def matches(r: contracts.Resource) -> bool:
        if r.type == "aws_route":
            return (
                r.body.get("destination_cidr_block") == "0.0.0.0/0"
                and target in str(r.body.get(argument))
                and f"aws_route_table.{table}." in str(r.body.get("route_table_id"))
            )
        if r.type == "aws_route_table" and r.name == table:
            return any(target in str(route.get(argument)) for route in r.body.get("route", []))
        return False

    return matches


def egress_problems(modules_root: Path) -> list[str]:
    """Defect 3: an instance booted before its subnet routes to the NAT gateway and the S3
    endpoint cannot download the SSM agent. The instances must wait for both."""
    network = _network_resources(modules_root)
    waits = contracts.dependencies(modules_root, modules_root / "compute", "aws_instance.this")
    needed = {
        "the private route through the NAT gateway": _addresses(
            network, _routes_through("nat", "private")
        ),
        "the private subnets' route table associations": _addresses(
            network,
            lambda r: (
                r.type == "aws_route_table_association"
                and "aws_route_table.private." in str(r.body.get("route_table_id"))
            ),
        ),
        "the S3 gateway endpoint": _addresses(
            network,
            lambda r: (
                r.type == "aws_vpc_endpoint"
                and str(r.body.get("service_name", "")).endswith(".s3")
                and r.body.get("vpc_endpoint_type") == "Gateway"
            ),
        ),
        "the hosts' HTTPS egress rules": _addresses(
            network,
            lambda r: r.type == "aws_vpc_security_group_egress_rule" and r.name == "hosts_https",
        ),
    }
    return [
        f"compute/aws_instance.this does not wait for {what}"
        for what, addresses in needed.items()
        if not addresses or not addresses <= waits
    ]


def test_instances_wait_for_the_nat_route_and_the_s3_endpoint():
    assert egress_problems(MODULES) == []


def test_an_instance_that_does_not_wait_for_egress_is_flagged(tmp_path: Path):
    shutil.copytree(MODULES, tmp_path / "modules")
    outputs = tmp_path / "modules" / "network" / "outputs.tf"
    text = outputs.read_text()
    assert "depends_on" in text
    outputs.write_text(re.sub(r"(?ms)^  depends_on = \[.*?^  \]\n", "", text))
    problems = egress_problems(tmp_path / "modules")
    assert "compute/aws_instance.this does not wait for the S3 gateway endpoint" in problems
    assert (
        "compute/aws_instance.this does not wait for the private route through the NAT gateway"
        in problems
    )


def test_user_data_changes_replace_the_host_instead_of_being_ignored():
    """Defect 3: `ignore_changes = [user_data]` kept a host whose first boot failed forever."""
    instance = contracts.typed_blocks(COMPUTE, "resource")["aws_instance.this"]
    ignored = contracts._first(instance.get("lifecycle")).get("ignore_changes", [])
    assert "user_data" not in ignored
    assert instance.get("user_data_replace_on_change") is True
    # cloud-init runs the install at every boot until the agent runs: a reboot repairs a host
    assert "/var/lib/cloud/scripts/per-boot/" in instance["user_data"]


def test_the_load_balancer_waits_for_the_internet_route_and_the_log_bucket_policy():
    """Defect 8: an internet-facing ALB needs the internet gateway's route, and access logs
    need the bucket policy that lets ELB write (Access Denied otherwise)."""
    waits = contracts.dependencies(MODULES, ALB, "aws_lb.this")
    network = _network_resources()
    internet = _addresses(network, _routes_through("igw", "public"))
    assert internet, "a public route through the internet gateway"
    assert internet <= waits
    assert "network/aws_internet_gateway.this" in waits
    public_associations = _addresses(
        network,
        lambda r: (
            r.type == "aws_route_table_association"
            and "aws_route_table.public." in str(r.body.get("route_table_id"))
        ),
    )
    assert public_associations
    assert public_associations <= waits
    assert "storage/aws_s3_bucket_policy.logs" in waits


def test_instance_roles_deny_the_platform_secrets():
    """Defect 4: AmazonSSMManagedInstanceCore allows ssm:GetParameter* on *; every host role
    denies the platform's parameter path (all environments) and the RDS master secrets."""
    sys.path.insert(0, str(REPO / ".github" / "scripts"))
    try:
        import aws_secrets
    finally:
        sys.path.pop(0)
    policies = contracts.typed_blocks(COMPUTE, "resource")
    denying = [
        body
        for body in policies.values()
        if "aws_iam_role.role[each.key]" in str(body.get("role"))
        and str(body.get("for_each")) == "${local.roles}"
    ]
    assert denying, "an inline policy on every role (for_each = local.roles)"
    statements = [
        s
        for body in denying
        for ref in contracts.references(body.get("policy"))
        if ref.startswith("data.aws_iam_policy_document.")
        for s in contracts.policy_statements(COMPUTE, ref.split(".")[2])
    ]
    prefix = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter"
    for environment in ("staging", "production"):
        path = aws_secrets.path(PROJECT, environment)  # /mlops/staging/
        parameter = prefix + path + "secret_db_password_mlflow"
        for action in ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"):
            assert contracts.denies(statements, action, parameter, RENDER), (action, parameter)
        for by_path in (prefix + path.rstrip("/"), prefix + f"/{PROJECT}"):
            assert contracts.denies(statements, "ssm:GetParametersByPath", by_path, RENDER)
    master = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-0123abcd-AbCdEf"
    assert contracts.denies(statements, "secretsmanager:GetSecretValue", master, RENDER)
    # The inventory reads the same path on the controller.
    lookups = REPO / "inventories" / "aws" / "group_vars" / "all" / "secret_lookups.yml"
    assert "/{{ platform_project }}/{{ platform_environment }}/" in lookups.read_text()


def test_a_deny_that_misses_the_path_is_flagged():
    statements = [
        {"effect": "Deny", "actions": ["ssm:GetParameter*"], "resources": ["arn:aws:ssm:*:*:x/*"]},
        {"effect": "Allow", "actions": ["ssm:*"], "resources": ["*"]},
    ]
    arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/mlops/staging/secret"
    assert not contracts.denies(statements, "ssm:GetParameter", arn)


def test_the_mlflow_role_can_abort_multipart_uploads():
    """Defect 10: the artifact proxy uploads large artifacts in parts; without
    AbortMultipartUpload a failed upload leaves parts it cannot remove."""
    statements = contracts.policy_statements(COMPUTE, "s3")
    write = [s for s in statements if s.get("sid") == "WriteObjects"]
    assert write
    actions = set(write[0]["actions"])
    assert {"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"} <= actions
    assert any("s3:ListBucketMultipartUploads" in s.get("actions", []) for s in statements)


def test_the_postgresql_log_group_exists_with_a_retention_before_the_database():
    """Defect 5: RDS creates /aws/rds/instance/<id>/postgresql itself, without retention,
    unless the log group exists first."""
    resources = contracts.typed_blocks(DATABASE, "resource")
    database = resources["aws_db_instance.this"]
    exports = database["enabled_cloudwatch_logs_exports"]
    local = re.fullmatch(r"\$\{local\.(\w+)\}", str(exports))
    if local:
        exports = contracts.locals_of(DATABASE)[local.group(1)]
    assert "postgresql" in exports
    groups = {
        address: body
        for address, body in resources.items()
        if address.startswith("aws_cloudwatch_log_group.")
    }
    identifier = database["identifier"]  # ${local.name}
    names = {}
    for address, body in groups.items():
        for_each = body.get("for_each", "")
        keys = exports if "local." in str(for_each) or str(for_each) == "${toset(exports)}" else []
        for key in keys or [None]:
            name = body["name"].replace("${each.key}", key) if key else body["name"]
            names[name] = (address, body)
    for log in exports:
        name = f"/aws/rds/instance/{identifier}/{log}"
        assert name in names, f"no log group {name}"
        address, body = names[name]
        retention = body.get("retention_in_days")
        assert retention not in (None, 0), f"{address}: no retention"
        assert address in {ref for ref in contracts.references(database.get("depends_on"))}
        assert body.get("kms_key_id"), f"{address}: not encrypted with a KMS key"
    # The retention is a validated variable, and each environment's profile sets it.
    variable = re.fullmatch(r"\$\{var\.(\w+)\}", str(retention)).group(1)
    spec = contracts.named_blocks(DATABASE, "variable")[variable]
    assert spec.get("validation")
    assert spec.get("type") == "number"
    call = contracts.named_blocks(PLATFORM, "module")["database"]
    profiles = contracts.locals_of(PLATFORM)["profiles"]
    profile_key = re.fullmatch(r"\$\{local\.profile\.(\w+)\}", call[variable]).group(1)
    assert all(profile[profile_key] >= 30 for profile in profiles.values())
    assert profiles["production"][profile_key] >= 365


def test_postgresql_17_is_defined_once_and_forces_tls():
    """Defect 9's server side and the replica's major: engine_version is a variable default
    of modules/database, read by the parameter group's family; nothing overrides it."""
    assert contracts.variable_default(DATABASE, "engine_version") == "17"
    resources = contracts.typed_blocks(DATABASE, "resource")
    group = resources["aws_db_parameter_group.this"]
    assert group["family"] == "postgres${var.engine_version}"
    assert resources["aws_db_instance.this"]["engine_version"] == "${var.engine_version}"
    parameters = {p["name"]: p["value"] for p in group["parameter"]}
    assert parameters["rds.force_ssl"] == "1"
    assert parameters["log_statement"] == "ddl"
    for directory in contracts.module_dirs(TERRAFORM):
        for name, call in contracts.named_blocks(directory, "module").items():
            if call.get("source", "").endswith("/database"):
                assert "engine_version" not in call, f"{directory.name}: module.{name}"


def test_the_log_bucket_grants_elb_log_delivery_through_its_service_principal():
    """Defect 10: regions opened since August 2022 know no ELB account; the service principal
    works everywhere. S3 server access logs are limited to this account's buckets."""
    statements = contracts.policy_statements(STORAGE, "logs")
    elb = [
        s
        for s in statements
        if ("Service", "logdelivery.elasticloadbalancing.amazonaws.com") in contracts.principals(s)
    ]
    assert elb, "a statement for logdelivery.elasticloadbalancing.amazonaws.com"
    assert elb[0]["actions"] == ["s3:PutObject"]
    local_values = contracts.locals_of(STORAGE)
    resources = [
        local_values[r[len("${local.") : -1]] if r.startswith("${local.") else r
        for r in elb[0]["resources"]
    ]
    assert resources == [
        "${aws_s3_bucket.logs.arn}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"
    ]
    s3_logging = ("Service", "logging.s3.amazonaws.com")
    s3 = [s for s in statements if s3_logging in contracts.principals(s)]
    conditions = contracts.statement_conditions(s3[0])
    assert conditions["aws:SourceAccount"][0] == "StringEquals"
    assert conditions["aws:SourceArn"][0] == "ArnLike"
    # The legacy per-region account, where it is used at all, is looked up only in the
    # regions that have one (the data source fails with "Unknown region" elsewhere).
    elb_account = contracts.typed_blocks(STORAGE, "data").get("aws_elb_service_account.current")
    if elb_account is not None:
        assert "count" in elb_account


def test_the_flow_logs_role_trusts_only_this_accounts_flow_logs():
    """Defect 10: the confused-deputy conditions on the flow-logs role's trust policy."""
    statements = contracts.policy_statements(NETWORK, "flow_logs_assume")
    conditions = contracts.statement_conditions(statements[0])
    assert conditions["aws:SourceAccount"] == (
        "StringEquals",
        ["${data.aws_caller_identity.current.account_id}"],
    )
    test, values = conditions["aws:SourceArn"]
    assert test == "ArnLike"
    assert contracts.render(values[0], RENDER) == (f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-flow-log/*")
