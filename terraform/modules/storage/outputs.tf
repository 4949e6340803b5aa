output "bucket_names" {
  description = "Bucket name per purpose: artifacts, dags, data."
  value       = { for k, b in aws_s3_bucket.this : k => b.id }
}

output "bucket_arns" {
  description = "Bucket ARN per purpose: artifacts, dags, data."
  value       = { for k, b in aws_s3_bucket.this : k => b.arn }
}

output "logs_bucket_name" {
  description = "Bucket that receives S3 and load balancer access logs."
  value       = aws_s3_bucket.logs.id
}
