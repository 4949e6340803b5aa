"""terraform/bootstrap: what an administrator applies once before the first deploy (defect 7
of issue 11): the state bucket, GitHub's OIDC provider, the plan role and one deploy role
per environment. Read with python-hcl2; fmt, the offline load and checkov cover it like
every other root (test_terraform_cli.py, test_checkov.py)."""

from __future__ import annotations

import re

import yaml

from tests.conftest import REPO
from tests.terraform import contracts

BOOTSTRAP = REPO / "terraform" / "bootstrap"
WORKFLOWS = REPO / ".github" / "workflows"
OIDC = "token.actions.githubusercontent.com"
ACCOUNT, REGION = "123456789012", "eu-west-1"
RENDER = {
    "var.project": "mlops",
    "data.aws_region.current.region": REGION,
    "data.aws_caller_identity.current.account_id": ACCOUNT,
    "local.account_id": ACCOUNT,
    "local.region": REGION,
    "local.parameters_arn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/mlops",
}


PARTITION_RENDER = {**RENDER, "local.partition": "aws"}


def resources() -> dict[str, dict]:
    return contracts.typed_blocks(BOOTSTRAP, "resource")


def trust(document: str) -> dict[str, tuple[str, list]]:
    statements = contracts.policy_statements(BOOTSTRAP, document)
    assert len(statements) == 1, document
    (statement,) = statements
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert contracts.principals(statement) == {("Federated", "${local.oidc_provider_arn}")}, (
        statement
    )
    return contracts.statement_conditions(statement)


def _document_of(role: dict) -> str:
    (ref,) = [
        r
        for r in contracts.references(role["assume_role_policy"])
        if r.startswith("data.aws_iam_policy_document.")
    ]
    return ref.split(".")[2]


def test_bootstrap_is_a_root_with_local_state_and_default_tags():
    terraform = contracts.load_module(BOOTSTRAP)["terraform"]
    assert all("backend" not in block for block in terraform), "local state: no backend"
    providers = contracts.load_module(BOOTSTRAP)["provider"]
    aws = providers[0]["aws"]
    tags = contracts._first(aws["default_tags"])["tags"]
    assert {"Project", "ManagedBy"} <= set(tags)
    assert (BOOTSTRAP / "tests" / "bootstrap.tftest.hcl").is_file()
    assert "mock_provider" in (BOOTSTRAP / "tests" / "bootstrap.tftest.hcl").read_text()


def test_the_state_bucket_is_versioned_encrypted_private_tls_only_and_kept():
    assert contracts.storage_problems(BOOTSTRAP) == []
    assert "aws_s3_bucket.state" in resources()
    bucket = resources()["aws_s3_bucket.state"]
    assert contracts._first(bucket.get("lifecycle")).get("prevent_destroy") is True
    policy = resources()["aws_s3_bucket_policy.state"]
    (ref,) = [r for r in contracts.references(policy["policy"]) if r.startswith("data.")]
    statements = contracts.policy_statements(BOOTSTRAP, ref.split(".")[2])
    insecure = [
        s
        for s in statements
        if s["effect"] == "Deny"
        and contracts.statement_conditions(s).get("aws:SecureTransport") == ("Bool", ["false"])
    ]
    assert insecure
    assert insecure[0]["actions"] == ["s3:*"]


def test_githubs_oidc_provider_for_sts():
    provider = resources()["aws_iam_openid_connect_provider.github"]
    assert provider["url"] == f"https://{OIDC}"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]


def test_the_plan_role_trusts_pull_requests_and_main_only():
    """Pull requests plan in terraform.yml; deploy.yml plans on pushes to main before the
    approval (its plan job has no environment: the subject is the branch)."""
    role = resources()["aws_iam_role.plan"]
    conditions = trust(_document_of(role))
    assert conditions[f"{OIDC}:aud"] == ("StringEquals", ["sts.amazonaws.com"])
    test, subjects = conditions[f"{OIDC}:sub"]
    assert test == "StringEquals", "no wildcard subject"
    assert sorted(subjects) == sorted(
        [
            "repo:${var.github_repository}:pull_request",
            "repo:${var.github_repository}:ref:refs/heads/main",
        ]
    )
    attachments = [
        body
        for body in resources().values()
        if "aws_iam_role.plan" in str(body.get("role")) and "policy_arn" in body
    ]
    assert [a["policy_arn"] for a in attachments] == [
        "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
    ]


def _inline_statements(role: str) -> list[dict]:
    return [
        statement
        for body in resources().values()
        if f"aws_iam_role.{role}" in str(body.get("role")) + str(body.get("for_each"))
        and "policy" in body
        for ref in contracts.references(body["policy"])
        if ref.startswith("data.aws_iam_policy_document.")
        for statement in contracts.policy_statements(BOOTSTRAP, ref.split(".")[2])
    ]


def test_the_plan_role_reads_the_state_writes_only_lock_files_and_no_secret():
    statements = _inline_statements("plan")
    allowed = [s for s in statements if s["effect"] == "Allow"]
    actions = {a for s in allowed for a in s["actions"]}
    assert {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"} <= actions
    writes = [s for s in allowed if {"s3:PutObject", "s3:DeleteObject"} & set(s["actions"])]
    assert writes
    assert all(r.endswith(".tflock") for s in writes for r in s["resources"])
    parameter = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/mlops/production/secret_model_api_key"
    assert contracts.denies(statements, "ssm:GetParameter", parameter, RENDER)
    assert contracts.denies(statements, "ssm:GetParametersByPath", parameter, RENDER)
    master = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-0123-AbCd"
    assert contracts.denies(statements, "secretsmanager:GetSecretValue", master, RENDER)
    other = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:mlops-staging-api-key-AbCd"
    assert contracts.denies(statements, "secretsmanager:GetSecretValue", other, RENDER)


def test_the_plan_role_refreshes_the_broker_token_and_no_other_secret():
    """modules/broker keeps its AUTH token in a secret version Terraform manages: a plan's
    refresh reads it (GetSecretValue), so the plan role may, for that secret only. The token is
    in the state the role reads anyway (modules/broker/README.md)."""
    statements = _inline_statements("plan")
    pattern = contracts.locals_of(BOOTSTRAP)["broker_secrets_arn"]
    values = {**RENDER, "local.broker_secrets_arn": contracts.render(pattern, PARTITION_RENDER)}
    broker = contracts.typed_blocks(REPO / "terraform/modules/broker", "resource")
    prefix = broker["aws_secretsmanager_secret.auth_token"]["name_prefix"]
    for environment in ("staging", "production"):
        name = prefix.replace("${local.name}", f"mlops-{environment}-broker")
        arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}20261206000000000-AbCdEf"
        assert not contracts.denies(statements, "secretsmanager:GetSecretValue", arn, values)
        assert contracts.allows(statements, "secretsmanager:GetSecretValue", arn, values)
    lookalike = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:other-staging-broker-auth-x"
    assert contracts.denies(statements, "secretsmanager:GetSecretValue", lookalike, values)


def test_the_deploy_roles_read_the_secrets_ansible_needs():
    """The apply job runs Ansible, whose inventory reads the RDS master secret and the broker's
    AUTH token (inventories/aws/group_vars/all): PowerUserAccess allows it, nothing denies it."""
    attached = [
        body["policy_arn"]
        for body in resources().values()
        if "aws_iam_role.deploy" in str(body.get("for_each")) and "policy_arn" in body
    ]
    assert attached == ["arn:${local.partition}:iam::aws:policy/PowerUserAccess"]
    statements = [
        _for_environment(s, "staging", ["production"]) for s in _inline_statements("deploy")
    ]
    for secret in ("rds!db-0123-AbCd", "mlops-staging-broker-auth-20261206000000000-AbCdEf"):
        arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}"
        assert not contracts.denies(statements, "secretsmanager:GetSecretValue", arn, RENDER)


def test_a_deploy_role_per_environment_trusted_only_from_that_environment():
    role = resources()["aws_iam_role.deploy"]
    assert role["for_each"] == "${toset(var.environments)}"
    assert set(contracts.variable_default(BOOTSTRAP, "environments")) == {
        "staging",
        "production",
    }
    conditions = trust(_document_of(role))
    assert conditions[f"{OIDC}:aud"] == ("StringEquals", ["sts.amazonaws.com"])
    assert conditions[f"{OIDC}:sub"] == (
        "StringEquals",
        ["repo:${var.github_repository}:environment:${each.key}"],
    )
    assert role["max_session_duration"] == "${var.deploy_session_duration_seconds}"


_OTHERS = re.compile(r'^\$\{\[for (\w+) in var\.environments : "(.+)" if \1 != each\.key\]\}$')


def _for_environment(statement: dict, environment: str, others: list[str]) -> dict:
    """A statement of the deploy policy as rendered for one environment."""
    values = {**RENDER, "each.key": environment, "local.parameters_arn": PARAMETERS}
    resources = statement.get("resources", [])
    if isinstance(resources, str):  # [for other in var.environments : "..." if other != ...]
        match = _OTHERS.match(resources)
        assert match, resources
        name, template = match.groups()
        resources = [template.replace("${" + name + "}", other) for other in others]
    return {**statement, "resources": [contracts.render(r, values) for r in resources]}


PARAMETERS = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/mlops"


def test_a_deploy_role_cannot_touch_another_environments_secrets_or_roles():
    statements = [
        _for_environment(s, "staging", ["production"]) for s in _inline_statements("deploy")
    ]
    own = f"{PARAMETERS}/staging/secret_model_api_key"
    other = f"{PARAMETERS}/production/secret_model_api_key"
    for action in ("ssm:GetParameter", "ssm:GetParametersByPath", "ssm:PutParameter"):
        assert contracts.denies(statements, action, other), action
        assert not contracts.denies(statements, action, own), action
    iam = [s for s in statements if s["effect"] == "Allow"]
    assert iam
    for statement in iam:
        writes = [a for a in statement["actions"] if not a.startswith(("iam:Get", "iam:List"))]
        for resource in statement["resources"]:
            if writes:
                assert re.search(r":(role|instance-profile)/mlops-staging-\*$", resource), (
                    statement["sid"],
                    resource,
                )
    attach = [s for s in statements if "iam:AttachRolePolicy" in s["actions"]]
    assert contracts.statement_conditions(attach[0])["iam:PolicyARN"] == (
        "ArnEquals",
        ["arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"],
    )


def test_the_outputs_are_the_variables_the_workflows_read():
    used = set()
    for path in WORKFLOWS.glob("*.yml"):
        used |= set(re.findall(r"\bvars\.([A-Z_]+)", path.read_text()))
    # what the user writes (their tfvars and project name) is not bootstrap's to give
    given_by_user = {n for n in used if n.startswith("TFVARS_")} | {"MLOPS_PROJECT"}
    outputs = contracts.named_blocks(BOOTSTRAP, "output")
    for body in outputs.values():
        assert body.get("description"), body
    repository = set(outputs["github_repository_variables"]["value"])
    per_environment = outputs["github_environment_variables"]["value"]
    assert "aws_iam_role.deploy" in per_environment
    environment = set(re.findall(r"\b([A-Z][A-Z_]+) =", per_environment))
    assert used - given_by_user == repository | environment
    assert not repository & environment


def test_every_variable_is_typed_and_described():
    for directory in [BOOTSTRAP, *sorted((REPO / "terraform" / "modules").iterdir())]:
        if not directory.is_dir():
            continue
        for name, body in contracts.named_blocks(directory, "variable").items():
            assert body.get("type"), f"{directory.name}: {name}"
            assert body.get("description"), f"{directory.name}: {name}"
        for name, body in contracts.named_blocks(directory, "output").items():
            assert body.get("description"), f"{directory.name}: output {name}"


def test_the_workflow_documents_where_its_variables_come_from():
    text = (WORKFLOWS / "deploy-environment.yml").read_text()
    assert "terraform/bootstrap" in text
    assert yaml.safe_load(text)
