# The broker of Airflow's CeleryExecutor: ElastiCache for Valkey, one shard (Celery speaks to
# one endpoint, not to a cluster), private, TLS only, an AUTH token, encrypted at rest under a
# key of its own. modules/platform creates it only when there are airflow_worker hosts.

locals {
  name  = "${var.project}-${var.environment}-broker"
  major = split(".", var.engine_version)[0]
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# --- the AUTH token ------------------------------------------------------------------------------

# The token is in the Terraform state (the state bucket encrypts it with SSE-KMS; the plan and
# deploy roles read it there). The AWS provider this repository pins (~> 6.0, from 6.0.0 on)
# takes it only as `auth_token`, which the state keeps: the write-only `auth_token_wo` came in
# a later 6.x (hashicorp/terraform-provider-aws#49268), and an ephemeral value cannot reach a
# plain argument. Raising the pin to that release and switching to an ephemeral random_password
# and auth_token_wo takes it out of the state.
resource "random_password" "auth_token" {
  # ElastiCache refuses spaces, ", / and @ in a token; 64 letters and digits carry 380 bits.
  length  = 64
  special = false
}

# Where Ansible reads the token (inventories/aws/group_vars/all/broker.yml), as a plain string.
resource "aws_secretsmanager_secret" "auth_token" {
  #checkov:skip=CKV_AWS_149:Encrypted with aws/secretsmanager like RDS's master secret: the deploy role reads it through Secrets Manager without a key grant, and the plan's refresh of the version must too.
  #checkov:skip=CKV2_AWS_57:The token is rotated by replacing random_password (auth_token_update_strategy ROTATE keeps the old one valid until Ansible has given the workers the new one); a rotation Lambda would change it behind the workers' backs.
  # A prefix, not a name: a broker removed (workers scaled to 0) and made again gets a new
  # secret instead of colliding with the old name.
  name_prefix = "${local.name}-auth-"
  description = "AUTH token of the ${local.name} ElastiCache replication group (Airflow's Celery broker)"
  # The token is worth nothing without its broker, and the state keeps it while both exist.
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "auth_token" {
  secret_id     = aws_secretsmanager_secret.auth_token.id
  secret_string = random_password.auth_token.result
}

# --- encryption at rest --------------------------------------------------------------------------

# ElastiCache encrypts at rest with an AWS-owned key unless given one: a key of the broker's
# own puts its data (and any snapshot) under the account's key policies, rotated yearly.
resource "aws_kms_key" "this" {
  description             = "ElastiCache ${local.name}: data and snapshots at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.this.key_id
}

# AWS's default key policy: the account's IAM policies decide who uses the key. ElastiCache
# uses it through grants it creates with the deploying principal's own rights.
data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" is the key itself; administration stays with the account's IAM policies, as in AWS's default key policy.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" is the key itself; write access is limited by the account's IAM policies, as in AWS's default key policy.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" is the key itself, not every resource of the account.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

# --- the replication group -----------------------------------------------------------------------

resource "aws_elasticache_subnet_group" "this" {
  name        = local.name
  description = "Private subnets of ${local.name}"
  subnet_ids  = var.subnet_ids
}

# ElastiCache's default policy (volatile-lru) may evict keys when memory runs out, and a
# broker's keys are queued tasks: refuse writes instead, so a full broker fails loudly at the
# scheduler rather than losing work.
resource "aws_elasticache_parameter_group" "this" {
  name        = "${local.name}-valkey${local.major}"
  family      = "valkey${local.major}"
  description = "Celery broker: refuse writes when full, never evict queued tasks"

  parameter {
    name  = "maxmemory-policy"
    value = "noeviction"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = local.name
  description          = "Broker of Airflow's CeleryExecutor (${var.project} ${var.environment})"
  engine               = "valkey"
  engine_version       = var.engine_version
  node_type            = var.node_type
  port                 = 6379
  parameter_group_name = aws_elasticache_parameter_group.this.name

  # Private: the subnet group holds only the private subnets, and the security group admits
  # the airflow and airflow_worker hosts only (modules/network).
  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [var.security_group_id]

  # Production: a replica in the second zone takes over automatically; staging: one node,
  # and a lost node loses only the messages in flight (see the snapshots below).
  num_cache_clusters         = var.multi_az ? 2 : 1
  automatic_failover_enabled = var.multi_az
  multi_az_enabled           = var.multi_az

  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.this.arn
  # TLS only: a client without it is refused, and every client must send the token.
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = random_password.auth_token.result
  # A new token (random_password replaced) is accepted beside the old one, so the workers keep
  # working until Ansible gives them the new one; a later change with SET retires the old.
  auth_token_update_strategy = "ROTATE"

  auto_minor_version_upgrade = true
  # After the database's window (sun:04:30-05:30), so the two never restart together.
  maintenance_window = "sun:05:30-sun:06:30"
  # No snapshots: the broker holds only messages in flight (task state and results live in
  # PostgreSQL, and the scheduler queues a task again whose message was lost), and a restored
  # snapshot would deliver tasks that already ran a second time.
  snapshot_retention_limit = 0

  tags = { Name = local.name }
}
