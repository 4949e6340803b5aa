# Plan-level tests of modules/network with a mocked AWS provider (no credentials, no API
# calls). Run here: terraform init -backend=false && terraform test

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { region = "us-east-1" }
  }
}

variables {
  project               = "mlops"
  environment           = "staging"
  availability_zones    = ["us-east-1a", "us-east-1b"]
  allowed_ingress_cidrs = ["203.0.113.0/24", "198.51.100.0/24"]
}

run "only_the_alb_listener_is_open_to_the_allowed_cidrs" {
  command = plan

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.alb_https) == 2
    error_message = "One HTTPS ingress rule per allowed CIDR."
  }

  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.alb_https : r.from_port == 443 && r.to_port == 443])
    error_message = "The load balancer accepts HTTPS (443) only."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.rds_from_mlflow.from_port == 5432 && aws_vpc_security_group_ingress_rule.rds_from_mlflow.cidr_ipv4 == null
    error_message = "PostgreSQL is reachable from a security group, never from a CIDR."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.public : !s.map_public_ip_on_launch])
    error_message = "Nothing gets a public IP on launch, even in public subnets."
  }

  assert {
    condition     = aws_route.private_nat.destination_cidr_block == "0.0.0.0/0" && aws_route.public_internet.destination_cidr_block == "0.0.0.0/0"
    error_message = "The private subnets route to the NAT gateway, the public ones to the internet gateway (routes of their own, so that what needs them can wait)."
  }
}

run "the_broker_admits_the_airflow_tiers_only_and_workers_serve_only_their_logs" {
  command = plan

  assert {
    condition = toset(keys(aws_vpc_security_group_ingress_rule.broker_from_airflow)) == toset(["airflow", "airflow_worker"]) && alltrue([
      for r in aws_vpc_security_group_ingress_rule.broker_from_airflow :
      r.from_port == 6379 && r.to_port == 6379 && r.ip_protocol == "tcp" && r.cidr_ipv4 == null
    ])
    error_message = "The broker takes 6379 from the airflow and airflow_worker security groups, never from a CIDR."
  }

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.airflow_worker_logs_from_airflow.from_port == 8793 &&
      aws_vpc_security_group_ingress_rule.airflow_worker_logs_from_airflow.to_port == 8793 &&
      aws_vpc_security_group_ingress_rule.airflow_worker_logs_from_airflow.cidr_ipv4 == null
    )
    error_message = "A worker's only inbound port is its log server (8793), for the airflow hosts."
  }

  assert {
    condition     = toset(keys(aws_vpc_security_group_egress_rule.hosts_https)) == toset(["mlflow", "airflow", "app", "airflow_worker"])
    error_message = "The workers reach packages, SSM and S3 like every host."
  }
}

run "empty_allowed_cidrs_are_refused" {
  command = plan

  variables {
    allowed_ingress_cidrs = []
  }

  expect_failures = [var.allowed_ingress_cidrs]
}

run "malformed_cidr_is_refused" {
  command = plan

  variables {
    allowed_ingress_cidrs = ["203.0.113.7"]
  }

  expect_failures = [var.allowed_ingress_cidrs]
}
