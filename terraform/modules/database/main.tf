locals {
  name = "${var.project}-${var.environment}"

  # The logs RDS exports to CloudWatch Logs, each into /aws/rds/instance/<identifier>/<log>.
  log_exports = ["postgresql", "upgrade"]
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

# RDS creates its log groups itself, without retention and unencrypted by a key of ours,
# unless they exist when it starts exporting: so they are made first (the instance depends on
# them). The postgresql log holds every DDL statement (log_statement = ddl): kept for the
# environment's retention, encrypted with a key whose policy lets only this account's log
# groups of this database use it.
resource "aws_cloudwatch_log_group" "this" {
  for_each = toset(local.log_exports)

  name              = "/aws/rds/instance/${local.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_kms_key" "logs" {
  description             = "CloudWatch Logs of the ${local.name} database"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.logs_key.json
}

resource "aws_kms_alias" "logs" {
  name          = "alias/${local.name}-database-logs"
  target_key_id = aws_kms_key.logs.key_id
}

data "aws_iam_policy_document" "logs_key" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" is the key itself; administration stays with the account's IAM policies, as in AWS's default key policy.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" is the key itself; write access is limited by the account's IAM policies, as in AWS's default key policy.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" is the key itself, not every resource of the account.
  # AWS's default key policy: the account's IAM policies decide who administers the key.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogsOfThisDatabase"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws/rds/instance/${local.name}/*"]
    }
  }
}

resource "aws_db_subnet_group" "this" {
  name        = local.name
  description = "Private subnets of ${local.name}"
  subnet_ids  = var.subnet_ids
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${local.name}-pg${var.engine_version}-"
  family      = "postgres${var.engine_version}"
  description = "TLS-only connections, DDL and slow-query logging"

  # The default since PostgreSQL 15 on RDS, written out: clients without TLS are refused.
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  # Statements slower than 1 s are logged.
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_157:Multi-AZ is a variable: on in production, off in staging where a zone outage is acceptable and halves the cost.
  #checkov:skip=CKV_AWS_161:MLflow and Airflow log in with passwords (master in Secrets Manager, service users in Parameter Store); IAM tokens expire after 15 minutes and neither service refreshes them.
  #checkov:skip=CKV_AWS_118:Enhanced monitoring (OS metrics every few seconds) is not needed at this size; the standard CloudWatch metrics and Performance Insights cover it.
  #checkov:skip=CKV_AWS_354:Performance Insights data is encrypted with the AWS managed key aws/rds; a customer-managed key adds cost and a key policy for no extra control here.
  #checkov:skip=CKV_AWS_293:Deletion protection is a variable: on in production, off in staging so the environment can be torn down.
  identifier     = local.name
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  db_name  = var.database_name
  username = var.master_username
  # RDS generates the master password, stores it in Secrets Manager and rotates it.
  manage_master_user_password = true

  allocated_storage     = var.allocated_storage
  max_allocated_storage = var.max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [var.security_group_id]
  publicly_accessible    = false
  multi_az               = var.multi_az
  parameter_group_name   = aws_db_parameter_group.this.name

  backup_retention_period = var.backup_retention_days
  backup_window           = "03:00-04:00"
  maintenance_window      = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot   = true
  deletion_protection     = var.deletion_protection
  # A protected (production) database leaves a final snapshot if it is ever deleted.
  skip_final_snapshot        = !var.deletion_protection
  final_snapshot_identifier  = "${local.name}-final"
  auto_minor_version_upgrade = true

  enabled_cloudwatch_logs_exports       = local.log_exports
  performance_insights_enabled          = true
  performance_insights_retention_period = 7

  depends_on = [aws_cloudwatch_log_group.this]
}
