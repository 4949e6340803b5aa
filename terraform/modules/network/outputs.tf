output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

# The subnet ids are handed out only once the subnets route: whatever is placed in them waits
# for it. An internet-facing load balancer is refused in a VPC without an internet gateway,
# and a host boots once and downloads its SSM agent at first boot (through the NAT gateway,
# or the S3 endpoint that serves the regional bucket).
output "public_subnet_ids" {
  description = "Public subnets (load balancer, NAT gateway), once they route to the internet gateway."
  value       = aws_subnet.public[*].id

  depends_on = [
    aws_route.public_internet,
    aws_route_table_association.public,
  ]
}

output "private_subnet_ids" {
  description = "Private subnets (EC2 hosts, RDS), once they route to the NAT gateway and the S3 endpoint."
  value       = aws_subnet.private[*].id

  depends_on = [
    aws_route.private_nat,
    aws_route_table_association.private,
    aws_vpc_endpoint.s3,
  ]
}

# A new security group has no egress rule once Terraform removed AWS's default one: the
# hosts get their groups only with the egress rules their first boot needs.
output "security_group_ids" {
  description = "Security group per tier: alb, mlflow, airflow, app, airflow_worker, rds, broker (with the hosts' egress rules in place)."
  value = {
    alb            = aws_security_group.alb.id
    mlflow         = aws_security_group.mlflow.id
    airflow        = aws_security_group.airflow.id
    app            = aws_security_group.app.id
    airflow_worker = aws_security_group.airflow_worker.id
    rds            = aws_security_group.rds.id
    broker         = aws_security_group.broker.id
  }

  depends_on = [
    aws_vpc_security_group_egress_rule.hosts_https,
    aws_vpc_security_group_egress_rule.hosts_http,
  ]
}
