# One instance profile per role. Every role gets AmazonSSMManagedInstanceCore (Session Manager
# instead of SSH) and an explicit Deny on the platform's secrets (below); S3 access is the
# least each role needs:
#   mlflow:  artifacts bucket read/write (the artifact proxy stores and deletes artifacts, and
#            aborts the multipart uploads of large artifacts that fail)
#   airflow: dags and data buckets read (S3 DAG bundle, training datasets); put objects in the
#            data bucket only where the score_dataset DAG writes its outputs (below), nothing
#            else; artifacts go through MLflow's proxy, never straight to the bucket
#   airflow_worker: exactly what airflow gets: with the CeleryExecutor the workers run the
#            tasks the airflow host runs with the LocalExecutor, from the same DAG bundle
#   app:     put objects under the data bucket's upload prefix only (the dashboard stores
#            users' CSV files there for training; it never reads, lists or deletes them);
#            models come through MLflow

locals {
  roles = toset(["mlflow", "airflow", "app", "airflow_worker"])

  s3_read_buckets = {
    mlflow         = [var.bucket_arns["artifacts"]]
    airflow        = [var.bucket_arns["dags"], var.bucket_arns["data"]]
    app            = []
    airflow_worker = [var.bucket_arns["dags"], var.bucket_arns["data"]]
  }

  s3_write_buckets = {
    mlflow         = [var.bucket_arns["artifacts"]]
    airflow        = []
    app            = []
    airflow_worker = []
  }

  # The only keys the score_dataset DAG writes (predictions.csv, rejected.csv, summary.json),
  # in the data bucket: beside its dataset, <name>.scored/<run id>/, or under scored/<name>/
  # for an output given. `*` spans `/`. The DAG refuses any other output before it scores
  # (WRITABLE_KEYS of dags/mlops_training/scoring.py, which tests/terraform holds equal).
  scoring_output_keys = [
    "*.scored/*/predictions.csv",
    "*.scored/*/rejected.csv",
    "*.scored/*/summary.json",
    "scored/*/predictions.csv",
    "scored/*/rejected.csv",
    "scored/*/summary.json",
  ]

  # Objects a role may put (no delete, no listing of uploads): PutObject also covers the
  # create, upload-part and complete calls of a multipart upload (boto3 splits a file above
  # 8 MiB, a large predictions.csv), AbortMultipartUpload the cleanup of one that fails.
  s3_write_objects = {
    mlflow         = []
    airflow        = [for k in local.scoring_output_keys : "${var.bucket_arns["data"]}/${k}"]
    app            = []
    airflow_worker = [for k in local.scoring_output_keys : "${var.bucket_arns["data"]}/${k}"]
  }
}

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "role" {
  for_each = local.roles

  name               = "${local.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  for_each = local.roles

  role       = aws_iam_role.role[each.key].name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "role" {
  for_each = local.roles

  name = "${local.name}-${each.key}"
  role = aws_iam_role.role[each.key].name
}

data "aws_iam_policy_document" "s3" {
  for_each = { for r in local.roles : r => r if length(local.s3_read_buckets[r]) > 0 }

  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = local.s3_read_buckets[each.key]
  }

  statement {
    sid       = "ReadObjects"
    actions   = ["s3:GetObject"]
    resources = [for b in local.s3_read_buckets[each.key] : "${b}/*"]
  }

  dynamic "statement" {
    for_each = length(local.s3_write_buckets[each.key]) > 0 ? [1] : []

    content {
      sid = "WriteObjects"
      actions = [
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
      ]
      resources = [for b in local.s3_write_buckets[each.key] : "${b}/*"]
    }
  }

  dynamic "statement" {
    for_each = length(local.s3_write_buckets[each.key]) > 0 ? [1] : []

    content {
      sid       = "ListMultipartUploads"
      actions   = ["s3:ListBucketMultipartUploads"]
      resources = local.s3_write_buckets[each.key]
    }
  }

  dynamic "statement" {
    for_each = length(local.s3_write_objects[each.key]) > 0 ? [1] : []

    content {
      sid       = "PutObjects"
      actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
      resources = local.s3_write_objects[each.key]
    }
  }
}

resource "aws_iam_role_policy" "s3" {
  for_each = data.aws_iam_policy_document.s3

  name   = "s3-access"
  role   = aws_iam_role.role[each.key].id
  policy = each.value.json
}

# The dashboard's uploads: one PutObject (files are at most 200 MiB, no multipart) under
# <upload_prefix>/ of the data bucket, where the airflow and airflow_worker roles read them for
# training.
data "aws_iam_policy_document" "uploads" {
  statement {
    sid       = "PutUploads"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arns["data"]}/${var.upload_prefix}/*"]
  }
}

resource "aws_iam_role_policy" "uploads" {
  name   = "s3-uploads"
  role   = aws_iam_role.role["app"].id
  policy = data.aws_iam_policy_document.uploads.json
}

# Secrets are read by the deploy side (the controller's lookups in inventories/aws), never by
# the hosts. AmazonSSMManagedInstanceCore allows ssm:GetParameter* on every parameter, and the
# aws/ssm key decrypts for any principal of the account through SSM: without this Deny, the
# app host, the one outside traffic reaches, could read every environment's database
# passwords and keys. The path is .github/scripts/aws_secrets.py's /<project>/<environment>/,
# denied for all environments of the project; RDS names the master secrets it manages
# rds!db-<id> (rds!cluster-<id> for clusters), modules/broker its AUTH token
# <project>-<environment>-broker-auth-<suffix> (Ansible writes it into the workers' settings).
data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id
}

data "aws_iam_policy_document" "deny_secrets" {
  statement {
    sid     = "DenyPlatformParameters"
    effect  = "Deny"
    actions = ["ssm:GetParameter*"] # GetParameter, GetParameters, GetParametersByPath, GetParameterHistory
    resources = [
      "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/${var.project}",
      "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/${var.project}/*",
    ]
  }

  statement {
    sid       = "DenyDatabaseMasterSecrets"
    effect    = "Deny"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:rds!*"]
  }

  statement {
    sid       = "DenyBrokerAuthTokens"
    effect    = "Deny"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${var.project}-*-broker-auth-*"]
  }
}

resource "aws_iam_role_policy" "deny_secrets" {
  for_each = local.roles

  name   = "deny-platform-secrets"
  role   = aws_iam_role.role[each.key].id
  policy = data.aws_iam_policy_document.deny_secrets.json
}
