# The bucket Ansible's aws_ssm connection moves module files through (inventories/aws): the
# controller uploads them and the hosts fetch them with presigned URLs, so the instance
# profiles need no access to it. It is deliberately NOT versioned: a task's arguments,
# secrets included, would survive in old versions. Objects expire after a day in case a run
# dies before it deletes them.

resource "aws_s3_bucket" "ssm_transfer" {
  #checkov:skip=CKV_AWS_21:Not versioned on purpose: Ansible module files carry task arguments (secrets included) that must not survive in old versions.
  #checkov:skip=CKV_AWS_144:Transient transfer files (deleted after each task) are not worth replicating.
  #checkov:skip=CKV_AWS_145:SSE-S3: the hosts download through presigned URLs, which then need no KMS permission on their side.
  #checkov:skip=CKV2_AWS_62:No consumer of event notifications for transfer files.
  bucket        = "${local.prefix}-ssm-transfer-${local.suffix}"
  force_destroy = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "ssm_transfer" {
  bucket = aws_s3_bucket.ssm_transfer.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "ssm_transfer" {
  bucket                  = aws_s3_bucket.ssm_transfer.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "ssm_transfer" {
  bucket = aws_s3_bucket.ssm_transfer.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "ssm_transfer" {
  bucket = aws_s3_bucket.ssm_transfer.id

  rule {
    id     = "expire-transfer-files"
    status = "Enabled"

    filter {}

    expiration {
      days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_logging" "ssm_transfer" {
  bucket        = aws_s3_bucket.ssm_transfer.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/ssm-transfer/"
}

data "aws_iam_policy_document" "ssm_transfer" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.ssm_transfer.arn,
      "${aws_s3_bucket.ssm_transfer.arn}/*",
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

resource "aws_s3_bucket_policy" "ssm_transfer" {
  bucket = aws_s3_bucket.ssm_transfer.id
  policy = data.aws_iam_policy_document.ssm_transfer.json

  depends_on = [aws_s3_bucket_public_access_block.ssm_transfer]
}
