output "address" {
  description = "Host name of the primary endpoint (it follows a failover)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "port" {
  description = "Port of the endpoint (TLS only)."
  value       = aws_elasticache_replication_group.this.port
}

# Handed out once the secret holds the token: Ansible reads it right after the apply.
output "auth_secret_arn" {
  description = "Secrets Manager secret holding the AUTH token as a plain string."
  value       = aws_secretsmanager_secret.auth_token.arn

  depends_on = [aws_secretsmanager_secret_version.auth_token]
}
