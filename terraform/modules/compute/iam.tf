# One instance profile per role. Every role gets AmazonSSMManagedInstanceCore (Session Manager
# instead of SSH); S3 access is the least each role needs:
#   mlflow:  artifacts bucket read/write (the artifact proxy stores and deletes artifacts)
#   airflow: dags and data buckets read-only (S3 DAG bundle, training datasets); artifacts go
#            through MLflow's proxy, never straight to the bucket
#   app:     no S3 access (models come through MLflow)

locals {
  roles = toset(["mlflow", "airflow", "app"])

  s3_read_buckets = {
    mlflow  = [var.bucket_arns["artifacts"]]
    airflow = [var.bucket_arns["dags"], var.bucket_arns["data"]]
    app     = []
  }

  s3_write_buckets = {
    mlflow  = [var.bucket_arns["artifacts"]]
    airflow = []
    app     = []
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
      sid       = "WriteObjects"
      actions   = ["s3:PutObject", "s3:DeleteObject"]
      resources = [for b in local.s3_write_buckets[each.key] : "${b}/*"]
    }
  }
}

resource "aws_iam_role_policy" "s3" {
  for_each = data.aws_iam_policy_document.s3

  name   = "s3-access"
  role   = aws_iam_role.role[each.key].id
  policy = each.value.json
}
