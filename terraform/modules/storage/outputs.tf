output "bucket_names" {
  description = "Bucket name per purpose: artifacts, dags, data."
  value = {
    artifacts = module.artifacts.name
    dags      = module.dags.name
    data      = module.data.name
  }
}

output "bucket_arns" {
  description = "Bucket ARN per purpose: artifacts, dags, data."
  value = {
    artifacts = module.artifacts.arn
    dags      = module.dags.arn
    data      = module.data.arn
  }
}

# Taken from the bucket policy, not the bucket: a load balancer that enables its access logs
# before the policy lets ELB write is refused with Access Denied.
output "logs_bucket_name" {
  description = "Bucket that receives S3 and load balancer access logs, once its policy lets them in."
  value       = aws_s3_bucket_policy.logs.bucket
}

output "ssm_transfer_bucket_name" {
  description = "Bucket Ansible's aws_ssm connection transfers module files through."
  value       = aws_s3_bucket.ssm_transfer.bucket
}
