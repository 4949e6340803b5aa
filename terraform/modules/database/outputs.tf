output "address" {
  description = "Host name of the database endpoint."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the database endpoint."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "Name of the database."
  value       = aws_db_instance.this.db_name
}

output "master_username" {
  description = "Master user name."
  value       = aws_db_instance.this.username
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret holding the master password (managed by RDS)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}
