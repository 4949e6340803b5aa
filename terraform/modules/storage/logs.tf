# The access-log bucket: S3 server access logs of the three buckets and the load balancer's
# access logs. Load balancer access logs support only SSE-S3, so this bucket uses AES256.

data "aws_region" "current" {}

locals {
  # Regions opened before August 2022 had load balancer logs delivered by a per-region ELB
  # account, and AWS's documentation for them still shows that grant: there, it is kept
  # beside the service principal so that delivery works whichever of the two a region uses.
  # The list is closed (every newer region uses the service principal), and the data source
  # is read only in these regions: elsewhere it fails with "Unknown region".
  legacy_elb_log_regions = toset([
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
    "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-south-1", "eu-north-1", "me-south-1", "sa-east-1", "us-gov-east-1", "us-gov-west-1",
    "cn-north-1", "cn-northwest-1",
  ])
  legacy_elb_log_delivery = contains(local.legacy_elb_log_regions, data.aws_region.current.region)
  alb_log_objects         = "${aws_s3_bucket.logs.arn}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"
}

data "aws_elb_service_account" "current" {
  count = local.legacy_elb_log_delivery ? 1 : 0
}

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log bucket itself; logging it into itself would loop.
  #checkov:skip=CKV_AWS_144:Access logs are not replicated to a second region: they are audit copies, not primary data.
  #checkov:skip=CKV_AWS_145:Load balancer access logs can only be delivered to buckets encrypted with SSE-S3 (AES256).
  #checkov:skip=CKV2_AWS_62:No consumer of event notifications for access logs.
  bucket        = "${local.prefix}-logs-${local.suffix}"
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.access_log_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 7
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "logs" {
  # Confused-deputy protection: only this account's buckets deliver their access logs here.
  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values = [
        module.artifacts.arn,
        module.dags.arn,
        module.data.arn,
        aws_s3_bucket.ssm_transfer.arn,
      ]
    }
  }

  # Load balancer access logs, through ELB's log-delivery service principal (every region).
  # No aws:SourceAccount/SourceArn condition: AWS documents none for this principal, and a
  # condition on a key the delivery does not send turns the Allow into nothing (no error,
  # no logs). The object path names this account.
  statement {
    sid       = "LoadBalancerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = [local.alb_log_objects]

    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  dynamic "statement" {
    for_each = data.aws_elb_service_account.current

    content {
      sid       = "LoadBalancerAccessLogsLegacyAccount"
      actions   = ["s3:PutObject"]
      resources = [local.alb_log_objects]

      principals {
        type        = "AWS"
        identifiers = [statement.value.arn]
      }
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.logs.arn,
      "${aws_s3_bucket.logs.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}
