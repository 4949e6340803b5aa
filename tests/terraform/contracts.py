"""Contract checks on Terraform code, read with python-hcl2 (no terraform binary needed).

Each check takes a directory and returns a list of problems (empty: the contract holds), so
the same functions run on terraform/ (must pass) and on the broken fixtures (must fail).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hcl2
from hcl2 import SerializationOptions

_OPTIONS = SerializationOptions(
    strip_string_quotes=True, with_comments=False, explicit_blocks=False
)
_SG_REF = re.compile(r"^\$\{aws_security_group\.([A-Za-z0-9_-]+)\.id\}$")
_BUCKET_REF = re.compile(r"^\$\{aws_s3_bucket\.([A-Za-z0-9_-]+)\.(?:id|bucket)\}$")
_TOSET_VAR = re.compile(r"^\$\{toset\((var\.[A-Za-z0-9_]+)\)\}$")
_LOCAL = re.compile(r"^\$\{local\.([A-Za-z0-9_]+)\}$")
_EACH_OF_BUCKETS = re.compile(r"^\$\{aws_s3_bucket\.([A-Za-z0-9_-]+)\}$")

ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    body: dict
    module: Path

    @property
    def address(self) -> str:
        return f"{self.module.name}/{self.type}.{self.name}"


@dataclass(frozen=True)
class Rule:
    """One allowed flow: source -> destination on port, as the security groups declare it.

    Security groups are named by their resource name (alb, app, ...); CIDR blocks are written
    `cidr:<block>` or `cidr:var.<name>` when they come from a variable.
    """

    direction: str  # ingress | egress
    source: str
    destination: str
    port: int | str
    address: str


def module_dirs(root: Path) -> list[Path]:
    """Every directory under root that holds .tf files (each is one Terraform module)."""
    dirs = {p.parent for p in root.rglob("*.tf") if ".terraform" not in p.parts}
    return sorted(dirs)


def load_module(directory: Path) -> dict[str, list]:
    """All top-level blocks of the .tf files of one directory, merged by block type."""
    merged: dict[str, list] = {}
    for path in sorted(directory.glob("*.tf")):
        parsed = _parse(str(path), path.stat().st_mtime_ns)
        for key, blocks in parsed.items():
            merged.setdefault(key, []).extend(blocks)
    return merged


def loads(text: str) -> dict:
    """HCL text parsed the way every check reads the .tf files (string quotes stripped)."""
    return hcl2.loads(text, serialization_options=_OPTIONS)


@functools.lru_cache(maxsize=256)
def _parse(path: str, mtime_ns: int) -> dict:
    """One parsed file; python-hcl2 is slow, and every check reads the same files."""
    del mtime_ns  # part of the cache key only: an edited file is parsed again
    return loads(Path(path).read_text())


def resources(root: Path) -> Iterator[Resource]:
    for directory in module_dirs(root):
        for block in load_module(directory).get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    yield Resource(rtype, name, body, directory)


def _locals(directory: Path) -> dict:
    merged: dict = {}
    for block in load_module(directory).get("locals", []):
        merged.update(block)
    return merged


def _first(value):
    """A nested block is a list of dicts after parsing: its first (only) element."""
    if isinstance(value, list):
        return value[0] if value else {}
    return value or {}


# --- tags ------------------------------------------------------------------------------------

INVENTORY_TAGS = ("Project", "Environment", "Role")


def untagged_instances(root: Path) -> list[str]:
    """Instances that do not carry the tags the dynamic inventory filters and groups on."""
    problems = []
    for res in resources(root):
        if res.type != "aws_instance":
            continue
        tags = res.body.get("tags")
        if isinstance(tags, dict):
            missing = [t for t in INVENTORY_TAGS if t not in tags]
        elif isinstance(tags, str) and "merge(" in tags:
            # merge(local.tags, {Role = ...}): every tag must still be named in the expression
            missing = [t for t in INVENTORY_TAGS if t not in tags]
        else:
            missing = list(INVENTORY_TAGS)
        if missing:
            problems.append(f"{res.address}: missing tags {', '.join(missing)}")
    return problems


# --- instances -------------------------------------------------------------------------------


def instance_problems(root: Path) -> list[str]:
    """Instances (and launch templates) without IMDSv2 or with unencrypted EBS volumes."""
    problems = []
    for res in resources(root):
        if res.type not in ("aws_instance", "aws_launch_template"):
            continue
        metadata = _first(res.body.get("metadata_options"))
        if metadata.get("http_tokens") != "required":
            problems.append(f"{res.address}: IMDSv2 not required (http_tokens)")
        if res.type == "aws_instance":
            root_volume = _first(res.body.get("root_block_device"))
            if root_volume.get("encrypted") is not True:
                problems.append(f"{res.address}: root volume not encrypted")
            for volume in res.body.get("ebs_block_device", []):
                if volume.get("encrypted") is not True:
                    problems.append(f"{res.address}: EBS volume not encrypted")
            if res.body.get("associate_public_ip_address") is not False:
                problems.append(f"{res.address}: associate_public_ip_address is not false")
            if not _installs_ssm_agent(res):
                problems.append(f"{res.address}: user_data does not install the SSM agent")
    return problems


def _installs_ssm_agent(res) -> bool:
    """Its user_data renders a template, next to the resource, that starts the SSM agent."""
    user_data = str(res.body.get("user_data", ""))
    match = re.search(r'templatefile\("\$\{path\.module\}/([\w.-]+)"', user_data)
    if match is None:
        return False
    template = res.module / match.group(1)
    return template.is_file() and "enable --now amazon-ssm-agent" in template.read_text()


# --- security groups -------------------------------------------------------------------------


def _sg_names(expr, for_each, local_values: dict) -> list[str]:
    """The security group(s) an expression names, resolving each.value over a local map."""
    if isinstance(expr, str):
        match = _SG_REF.match(expr)
        if match:
            return [match.group(1)]
        if expr == "${each.value}" and isinstance(for_each, str):
            local = _LOCAL.match(for_each)
            if local and isinstance(local_values.get(local.group(1)), dict):
                return [
                    name
                    for value in local_values[local.group(1)].values()
                    for name in _sg_names(value, None, local_values)
                ]
    return [f"?{expr}"]


def _cidrs(expr, for_each) -> list[str]:
    if isinstance(expr, list):
        return [c for item in expr for c in _cidrs(item, for_each)]
    if expr == "${each.value}" and isinstance(for_each, str):
        match = _TOSET_VAR.match(for_each)
        if match:
            return [f"cidr:{match.group(1)}"]
    if isinstance(expr, str) and expr.startswith("${var.") and expr.endswith("}"):
        return [f"cidr:{expr[2:-1]}"]
    return [f"cidr:{expr}"]


def _port(body: dict) -> int | str:
    protocol = str(body.get("ip_protocol", body.get("protocol", "tcp")))
    if protocol in ("-1", "all"):
        return "all"
    low, high = body.get("from_port"), body.get("to_port")
    return low if low == high else f"{low}-{high}"


def security_group_rules(root: Path) -> list[Rule]:
    """Every flow the security groups of root allow, whatever resource type declares it."""
    rules: list[Rule] = []
    locals_by_module: dict[Path, dict] = {}
    for res in resources(root):
        local_values = locals_by_module.setdefault(res.module, _locals(res.module))
        body, for_each = res.body, res.body.get("for_each")
        if res.type in (
            "aws_vpc_security_group_ingress_rule",
            "aws_vpc_security_group_egress_rule",
        ):
            direction = "ingress" if res.type.endswith("ingress_rule") else "egress"
            owners = _sg_names(body.get("security_group_id"), for_each, local_values)
            if "referenced_security_group_id" in body:
                peers = _sg_names(body["referenced_security_group_id"], for_each, local_values)
            else:
                cidr = body.get("cidr_ipv4", body.get("cidr_ipv6", body.get("prefix_list_id")))
                peers = _cidrs(cidr, for_each)
            rules += _rules(direction, owners, peers, _port(body), res.address)
        elif res.type == "aws_security_group_rule":
            direction = body.get("type")
            owners = _sg_names(body.get("security_group_id"), for_each, local_values)
            if "source_security_group_id" in body:
                peers = _sg_names(body["source_security_group_id"], for_each, local_values)
            else:
                peers = _cidrs(body.get("cidr_blocks", []) + body.get("ipv6_cidr_blocks", []), None)
            rules += _rules(direction, owners, peers, _port(body), res.address)
        elif res.type == "aws_security_group":
            for direction in ("ingress", "egress"):
                for inline in body.get(direction, []):
                    peers = _cidrs(
                        inline.get("cidr_blocks", []) + inline.get("ipv6_cidr_blocks", []), None
                    )
                    peers += [
                        n
                        for sg in inline.get("security_groups", [])
                        for n in _sg_names(sg, None, local_values)
                    ]
                    if inline.get("self"):
                        peers.append(res.name)
                    rules += _rules(direction, [res.name], peers, _port(inline), res.address)
    return rules


def _rules(direction, owners, peers, port, address) -> list[Rule]:
    if direction == "ingress":
        return [Rule("ingress", p, o, port, address) for o in owners for p in peers]
    return [Rule("egress", o, p, port, address) for o in owners for p in peers]


def flows(rules: list[Rule], direction: str) -> set[tuple[str, str, int | str]]:
    return {(r.source, r.destination, r.port) for r in rules if r.direction == direction}


def public_ingress(rules: list[Rule], entry_point: tuple[str, int] = ("alb", 443)) -> list[str]:
    """Ingress from a CIDR block (the internet, or any network) anywhere but the entry point."""
    return [
        f"{r.address}: {r.source} -> {r.destination}:{r.port}"
        for r in rules
        if r.direction == "ingress"
        and r.source.startswith("cidr:")
        and (r.destination, r.port) != entry_point
    ]


# --- data stores -----------------------------------------------------------------------------


def _bucket_targets(res: Resource) -> list[str]:
    """The aws_s3_bucket resource(s) a bucket-configuration resource applies to."""
    bucket = res.body.get("bucket")
    match = _BUCKET_REF.match(bucket) if isinstance(bucket, str) else None
    if match:
        return [match.group(1)]
    for_each = res.body.get("for_each")
    if bucket in ("${each.value.id}", "${each.value.bucket}") and isinstance(for_each, str):
        each = _EACH_OF_BUCKETS.match(for_each)
        if each:
            return [each.group(1)]
    return []


def storage_problems(root: Path, unversioned: frozenset[str] = frozenset()) -> list[str]:
    """Buckets without encryption, versioning or a full public access block; RDS that is
    unencrypted, public, or not using an AWS-managed master password. `unversioned` names
    the bucket resources exempt from versioning."""
    problems = []
    all_resources = list(resources(root))
    buckets = {(r.module, r.name): r for r in all_resources if r.type == "aws_s3_bucket"}
    covered: dict[str, set] = {"encryption": set(), "versioning": set(), "public_block": set()}
    for res in all_resources:
        targets = {(res.module, t) for t in _bucket_targets(res)}
        if res.type == "aws_s3_bucket_server_side_encryption_configuration":
            default = _first(
                _first(res.body.get("rule")).get("apply_server_side_encryption_by_default")
            )
            if default.get("sse_algorithm") in ("aws:kms", "aws:kms:dsse", "AES256"):
                covered["encryption"] |= targets
        elif res.type == "aws_s3_bucket_versioning":
            if _first(res.body.get("versioning_configuration")).get("status") == "Enabled":
                covered["versioning"] |= targets
        elif res.type == "aws_s3_bucket_public_access_block":
            flags = ("block_public_acls", "block_public_policy", "ignore_public_acls")
            if all(res.body.get(f) is True for f in (*flags, "restrict_public_buckets")):
                covered["public_block"] |= targets
    for key, bucket in sorted(buckets.items(), key=lambda kv: kv[1].address):
        for what, keys in covered.items():
            if what == "versioning" and bucket.name in unversioned:
                continue
            if key not in keys:
                problems.append(f"{bucket.address}: no {what.replace('_', ' ')}")
    for res in all_resources:
        if res.type not in ("aws_db_instance", "aws_rds_cluster"):
            continue
        if res.body.get("storage_encrypted") is not True:
            problems.append(f"{res.address}: storage not encrypted")
        if res.type == "aws_db_instance" and res.body.get("publicly_accessible") is not False:
            problems.append(f"{res.address}: publicly_accessible is not false")
        if res.body.get("manage_master_user_password") is not True:
            problems.append(f"{res.address}: master password not managed by AWS")
    return problems


# --- caches ----------------------------------------------------------------------------------

_KMS_KEY_REF = re.compile(r"^\$\{aws_kms_key\.[A-Za-z0-9_-]+\.arn\}$")


def cache_problems(root: Path) -> list[str]:
    """ElastiCache replication groups that are not encrypted in transit (TLS required) and at
    rest under a key of the account, that take clients without a token, or that are not placed
    in a subnet group and security groups of their own (the default ones are the VPC's)."""
    problems = []
    for res in resources(root):
        if res.type != "aws_elasticache_replication_group":
            continue
        body = res.body
        if body.get("transit_encryption_enabled") is not True:
            problems.append(f"{res.address}: transit encryption not enabled")
        if body.get("transit_encryption_mode", "required") != "required":
            problems.append(f"{res.address}: TLS not required (transit_encryption_mode)")
        if body.get("at_rest_encryption_enabled") is not True:
            problems.append(f"{res.address}: not encrypted at rest")
        elif not _KMS_KEY_REF.match(str(body.get("kms_key_id", ""))):
            problems.append(f"{res.address}: at-rest key is not a customer managed aws_kms_key")
        token = body.get("auth_token", body.get("auth_token_wo"))
        if not body.get("user_group_ids") and not (
            isinstance(token, str) and token.startswith("${")
        ):
            problems.append(f"{res.address}: no generated AUTH token")
        if not body.get("subnet_group_name"):
            problems.append(f"{res.address}: no subnet group of its own")
        if not body.get("security_group_ids"):
            problems.append(f"{res.address}: no security group of its own")
    return problems


# --- secrets ---------------------------------------------------------------------------------

_SECRET_PATTERNS = {
    "literal password": re.compile(r"""(?im)^\s*(?:master_)?password\s*=\s*"(?!\$\{)[^"]+\""""),
    "literal secret/access key": re.compile(
        r"""(?im)^\s*(?:secret_key|access_key|secret_access_key|token)\s*=\s*"(?!\$\{)[^"]+\""""
    ),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
}
_FORBIDDEN_FILES = (".tfvars", ".tfstate", ".pem", ".key", ".tfplan")


def secret_problems(root: Path, files: list[Path] | None = None) -> list[str]:
    """Secret literals in the files under root (or the given ones), and files that must never
    be committed."""
    problems = []
    for path in sorted(files if files is not None else root.rglob("*")):
        if not path.is_file() or ".terraform" in path.parts:
            continue
        relative = path.relative_to(root)
        if path.name.endswith(_FORBIDDEN_FILES) or ".tfstate." in path.name:
            problems.append(f"{relative}: this kind of file must not be in the repository")
        text = path.read_text(errors="replace")
        for what, pattern in _SECRET_PATTERNS.items():
            if pattern.search(text):
                problems.append(f"{relative}: {what}")
    return problems


# --- blocks and references -------------------------------------------------------------------

# A reference in an expression: a resource, a data source, a module output, a variable or a
# local. `(?<![\w.])` keeps `data.aws_x.y` from also matching as a resource `aws_x.y`.
_REFERENCE = re.compile(
    r"(?<![\w.])("
    r"data\.[a-z0-9_]+\.[A-Za-z0-9_-]+"
    r"|module\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)?"
    r"|var\.[A-Za-z0-9_]+"
    r"|local\.[A-Za-z0-9_]+"
    r"|(?:aws_[a-z0-9_]+|terraform_data)\.[A-Za-z0-9_-]+"
    r")"
)


def references(expression) -> set[str]:
    """Everything an expression (or a whole block body) refers to, e.g. `aws_route.private`,
    `var.subnet_ids`, `module.network.private_subnet_ids`. Descriptions are prose: skipped."""
    if isinstance(expression, dict):
        return {
            ref
            for key, value in expression.items()
            if key not in ("description", "error_message")
            for ref in references(value)
        }
    if isinstance(expression, list):
        return {ref for item in expression for ref in references(item)}
    if isinstance(expression, str):
        return set(_REFERENCE.findall(expression))
    return set()


def named_blocks(directory: Path, kind: str) -> dict[str, dict]:
    """`variable`, `output`, `module` blocks of one module by name."""
    merged: dict[str, dict] = {}
    for block in load_module(directory).get(kind, []):
        merged.update(block)
    return merged


def typed_blocks(directory: Path, kind: str) -> dict[str, dict]:
    """`resource` or `data` blocks of one module by `type.name`."""
    merged: dict[str, dict] = {}
    for block in load_module(directory).get(kind, []):
        for btype, named in block.items():
            for name, body in named.items():
                merged[f"{btype}.{name}"] = body
    return merged


def locals_of(directory: Path) -> dict:
    return _locals(directory)


def variable_default(directory: Path, name: str):
    """The default of a variable of a module (python-hcl2 strips the quotes of strings)."""
    return named_blocks(directory, "variable")[name].get("default")


def _callers(modules_root: Path) -> dict[Path, list[tuple[Path, dict]]]:
    """For each module directory: the (caller directory, module block) pairs that call it."""
    callers: dict[Path, list[tuple[Path, dict]]] = {}
    for directory in module_dirs(modules_root):
        for body in named_blocks(directory, "module").values():
            source = body.get("source", "")
            if source.startswith("."):
                child = (directory / source).resolve()
                callers.setdefault(child, []).append((directory.resolve(), body))
    return callers


def dependencies(modules_root: Path, directory: Path, address: str) -> set[str]:
    """What a resource waits for, as `<module dir>/<type.name>`: what it refers to (depends_on
    included) in its module, the arguments its callers pass to the variables it reads, the
    outputs of other modules those arguments name (their value and depends_on), and so on,
    transitively. This is Terraform's ordering, computed from the source."""
    callers = _callers(modules_root)
    cache: dict[tuple[Path, str], dict] = {}

    def blocks(directory: Path, kind: str) -> dict:
        key = (directory, kind)
        if key not in cache:
            if kind in ("resource", "data"):
                cache[key] = typed_blocks(directory, kind)
            elif kind == "locals":
                cache[key] = _locals(directory)
            else:
                cache[key] = named_blocks(directory, kind)
        return cache[key]

    found: set[str] = set()
    seen: set[tuple[Path, str]] = set()
    todo = [(directory.resolve(), address)]
    while todo:
        where, ref = todo.pop()
        if (where, ref) in seen:
            continue
        seen.add((where, ref))
        parts = ref.split(".")
        if parts[0] == "var":
            nexts = [
                (caller, r)
                for caller, call in callers.get(where, [])
                for r in references(call.get(parts[1]))
            ]
        elif parts[0] == "local":
            nexts = [(where, r) for r in references(blocks(where, "locals").get(parts[1]))]
        elif parts[0] == "module":
            call = blocks(where, "module").get(parts[1], {})
            child = (where / call.get("source", ".")).resolve()
            if len(parts) == 3:
                output = blocks(child, "output").get(parts[2], {})
                nexts = [(child, r) for r in references(output)]
            else:  # depends_on = [module.x]: everything in it
                nexts = [(child, r) for r in blocks(child, "resource")]
        elif parts[0] == "data":
            found.add(f"{where.name}/{ref}")
            body = blocks(where, "data").get(f"{parts[1]}.{parts[2]}", {})
            nexts = [(where, r) for r in references(body)]
        else:
            found.add(f"{where.name}/{ref}")
            nexts = [(where, r) for r in references(blocks(where, "resource").get(ref, {}))]
        todo.extend(nexts)
    found.discard(f"{directory.resolve().name}/{address}")
    return found


# --- IAM policy documents --------------------------------------------------------------------


def render(expression: str, values: dict[str, str]) -> str:
    """An interpolated string with the given `${...}` expressions replaced by values; others
    stay as they are (and then match nothing)."""
    for expr, value in values.items():
        expression = expression.replace("${" + expr + "}", value)
    return expression


def policy_statements(directory: Path, document: str) -> list[dict]:
    """The statements of `data.aws_iam_policy_document.<document>` (effect Allow by default)."""
    body = typed_blocks(directory, "data").get(f"aws_iam_policy_document.{document}", {})
    statements = []
    for statement in body.get("statement", []):
        statements.append({"effect": "Allow", **statement})
    for dynamic in body.get("dynamic", []):
        for content in dynamic.get("statement", {}).get("content", []):
            statements.append({"effect": "Allow", **content})
    return statements


def statement_conditions(statement: dict) -> dict[str, tuple[str, list]]:
    """variable -> (test, values) of a statement's conditions."""
    return {c["variable"]: (c["test"], c["values"]) for c in statement.get("condition", [])}


def principals(statement: dict) -> set[tuple[str, str]]:
    return {(p["type"], i) for p in statement.get("principals", []) for i in p["identifiers"]}


def _covers(statement: dict, action: str, arn: str, values: dict[str, str] | None) -> bool:
    """Whether a statement names the action on the ARN (`not_resources`: all but those)."""
    import fnmatch

    if not any(fnmatch.fnmatchcase(action, a) for a in statement.get("actions", [])):
        return False
    if "not_resources" in statement:
        excluded = [render(r, values or {}) for r in statement["not_resources"]]
        return not any(fnmatch.fnmatchcase(arn, r) for r in excluded)
    resources = [render(r, values or {}) for r in statement.get("resources", [])]
    return any(fnmatch.fnmatchcase(arn, r) for r in resources)


def denies(
    statements: list[dict], action: str, arn: str, values: dict[str, str] | None = None
) -> bool:
    """Whether an unconditional Deny statement covers the action on the ARN."""
    return any(
        statement.get("effect") == "Deny"
        and not statement.get("condition")
        and _covers(statement, action, arn, values)
        for statement in statements
    )


def allows(
    statements: list[dict], action: str, arn: str, values: dict[str, str] | None = None
) -> bool:
    """Whether an unconditional Allow statement covers the action on the ARN (a Deny may
    still win: see denies)."""
    return any(
        statement.get("effect") == "Allow"
        and not statement.get("condition")
        and _covers(statement, action, arn, values)
        for statement in statements
    )
