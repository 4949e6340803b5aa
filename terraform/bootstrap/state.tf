# The Terraform state bucket of every environment (terraform/envs/*/versions.tf): versioned,
# so an earlier state can be restored; SSE-KMS with the AWS managed key aws/s3 (the roles need
# no key permission of their own); public access blocked; TLS only; S3-native locking
# (`use_lockfile`, a .tflock object beside each state) needs no DynamoDB table.

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_18:Access to the state is audited by CloudTrail (the roles' sessions); a second bucket only for its access logs would need the same exemption itself.
  #checkov:skip=CKV_AWS_144:The state is versioned in a single region; cross-region replication doubles the cost of a few kilobytes that can be recovered from versions.
  #checkov:skip=CKV2_AWS_62:No consumer of event notifications for state objects.
  bucket = local.state_bucket

  # Losing this bucket loses track of every environment's resources.
  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-old-state-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.state_version_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "state" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.state.arn,
      "${aws_s3_bucket.state.arn}/*",
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

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state.json

  # A bucket policy is refused while the public access block is being created.
  depends_on = [aws_s3_bucket_public_access_block.state]
}
