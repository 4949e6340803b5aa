output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "public_subnet_ids" {
  description = "Public subnets (load balancer, NAT gateway)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets (EC2 hosts, RDS)."
  value       = aws_subnet.private[*].id
}

output "security_group_ids" {
  description = "Security group per tier: alb, mlflow, airflow, app, rds."
  value = {
    alb     = aws_security_group.alb.id
    mlflow  = aws_security_group.mlflow.id
    airflow = aws_security_group.airflow.id
    app     = aws_security_group.app.id
    rds     = aws_security_group.rds.id
  }
}
