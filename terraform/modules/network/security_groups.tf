# Security groups allow exactly the flows below and nothing else (tests/terraform checks this
# list against the rules):
#
#   allowed_ingress_cidrs -> alb             443   HTTPS, the only ingress from outside the VPC
#   alb                   -> app             8501  dashboard
#   alb                   -> app             8000  model API
#   alb                   -> mlflow          5000  MLflow UI and REST API
#   alb                   -> airflow         8080  Airflow UI and REST API
#   airflow               -> mlflow          5000  the training DAG logs runs and models
#   app                   -> mlflow          5000  the model API loads the champion, the dashboard reads runs
#   app                   -> airflow         8080  the dashboard triggers DAG runs
#   mlflow                -> app             8000  MLflow's signed webhook: the champion alias moved
#   mlflow                -> rds             5432
#   airflow               -> rds             5432
#   airflow_worker        -> rds             5432  Celery's result backend
#   airflow_worker        -> mlflow          5000  tasks on Celery workers log runs and models
#   airflow_worker        -> airflow         8080  Airflow 3 workers run tasks through the api-server's Execution API
#   airflow               -> broker          6379  the scheduler queues tasks (TLS, AUTH token)
#   airflow_worker        -> broker          6379  the workers take them
#   airflow               -> airflow_worker  8793  the api-server reads a running task's log from its worker
#   mlflow, airflow, app,
#   airflow_worker        -> anywhere        443, 80  packages, SSM Session Manager, S3
#
# There is no SSH ingress (access is SSM Session Manager). The only Airflow log server anyone
# reaches is a worker's (8793), from the airflow hosts; the triggerer's (8794) stays local. The
# broker has no egress at all: ElastiCache never opens a connection.

resource "aws_security_group" "alb" {
  #checkov:skip=CKV2_AWS_5:Attached in modules/alb through the security_group_ids output; checkov does not follow module outputs.
  name        = "${local.name}-alb"
  description = "Load balancer: HTTPS from the allowed CIDRs, to the services"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${local.name}-alb" }
}

resource "aws_security_group" "mlflow" {
  #checkov:skip=CKV2_AWS_5:Attached in modules/compute through the security_group_ids output; checkov does not follow module outputs.
  name        = "${local.name}-mlflow"
  description = "MLflow hosts"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${local.name}-mlflow" }
}

resource "aws_security_group" "airflow" {
  #checkov:skip=CKV2_AWS_5:Attached in modules/compute through the security_group_ids output; checkov does not follow module outputs.
  name        = "${local.name}-airflow"
  description = "Airflow hosts"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${local.name}-airflow" }
}

resource "aws_security_group" "airflow_worker" {
  #checkov:skip=CKV2_AWS_5:Attached in modules/compute through the security_group_ids output; checkov does not follow module outputs.
  name        = "${local.name}-airflow-worker"
  description = "Airflow Celery workers"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${local.name}-airflow-worker" }
}

resource "aws_security_group" "app" {
  #checkov:skip=CKV2_AWS_5:Attached in modules/compute through the security_group_ids output; checkov does not follow module outputs.
  name        = "${local.name}-app"
  description = "Model API and dashboard hosts"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${local.name}-app" }
}

resource "aws_security_group" "rds" {
  #checkov:skip=CKV2_AWS_5:Attached in modules/database through the security_group_ids output; checkov does not follow module outputs.
  name        = "${local.name}-rds"
  description = "RDS PostgreSQL"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${local.name}-rds" }
}

resource "aws_security_group" "broker" {
  #checkov:skip=CKV2_AWS_5:Attached in modules/broker through the security_group_ids output; checkov does not follow module outputs.
  name        = "${local.name}-broker"
  description = "ElastiCache broker of Airflow's Celery executor"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${local.name}-broker" }
}

# --- ingress -------------------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each = toset(var.allowed_ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from an allowed network"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_ingress_rule" "app_dashboard_from_alb" {
  security_group_id            = aws_security_group.app.id
  description                  = "Dashboard from the load balancer"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = 8501
  to_port                      = 8501
}

resource "aws_vpc_security_group_ingress_rule" "app_model_api_from_alb" {
  security_group_id            = aws_security_group.app.id
  description                  = "Model API from the load balancer"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
}

resource "aws_vpc_security_group_ingress_rule" "mlflow_from_alb" {
  security_group_id            = aws_security_group.mlflow.id
  description                  = "MLflow from the load balancer"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = 5000
  to_port                      = 5000
}

resource "aws_vpc_security_group_ingress_rule" "airflow_from_alb" {
  security_group_id            = aws_security_group.airflow.id
  description                  = "Airflow from the load balancer"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_vpc_security_group_ingress_rule" "mlflow_from_airflow" {
  security_group_id            = aws_security_group.mlflow.id
  description                  = "MLflow from Airflow tasks"
  referenced_security_group_id = aws_security_group.airflow.id
  ip_protocol                  = "tcp"
  from_port                    = 5000
  to_port                      = 5000
}

resource "aws_vpc_security_group_ingress_rule" "mlflow_from_app" {
  security_group_id            = aws_security_group.mlflow.id
  description                  = "MLflow from the model API and the dashboard"
  referenced_security_group_id = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = 5000
  to_port                      = 5000
}

resource "aws_vpc_security_group_ingress_rule" "airflow_from_app" {
  security_group_id            = aws_security_group.airflow.id
  description                  = "Airflow REST API from the dashboard"
  referenced_security_group_id = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_vpc_security_group_ingress_rule" "rds_from_mlflow" {
  security_group_id            = aws_security_group.rds.id
  description                  = "PostgreSQL from MLflow"
  referenced_security_group_id = aws_security_group.mlflow.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_ingress_rule" "rds_from_airflow" {
  security_group_id            = aws_security_group.rds.id
  description                  = "PostgreSQL from Airflow"
  referenced_security_group_id = aws_security_group.airflow.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_ingress_rule" "rds_from_airflow_worker" {
  security_group_id            = aws_security_group.rds.id
  description                  = "PostgreSQL from Celery workers (result backend)"
  referenced_security_group_id = aws_security_group.airflow_worker.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_ingress_rule" "mlflow_from_airflow_worker" {
  security_group_id            = aws_security_group.mlflow.id
  description                  = "MLflow from tasks on Celery workers"
  referenced_security_group_id = aws_security_group.airflow_worker.id
  ip_protocol                  = "tcp"
  from_port                    = 5000
  to_port                      = 5000
}

resource "aws_vpc_security_group_ingress_rule" "airflow_from_airflow_worker" {
  security_group_id            = aws_security_group.airflow.id
  description                  = "Airflow Execution API from Celery workers"
  referenced_security_group_id = aws_security_group.airflow_worker.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_vpc_security_group_ingress_rule" "airflow_worker_logs_from_airflow" {
  security_group_id            = aws_security_group.airflow_worker.id
  description                  = "Task logs from a worker's log server to the api-server"
  referenced_security_group_id = aws_security_group.airflow.id
  ip_protocol                  = "tcp"
  from_port                    = 8793
  to_port                      = 8793
}

# The broker's clients, and its only ones: the scheduler queues tasks, the workers take them.
locals {
  broker_clients = {
    airflow        = aws_security_group.airflow.id
    airflow_worker = aws_security_group.airflow_worker.id
  }
}

resource "aws_vpc_security_group_ingress_rule" "broker_from_airflow" {
  for_each = local.broker_clients

  security_group_id            = aws_security_group.broker.id
  description                  = "Valkey (TLS) from ${each.key}"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

# --- egress --------------------------------------------------------------------------------

resource "aws_vpc_security_group_egress_rule" "alb_to_app_dashboard" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the dashboard"
  referenced_security_group_id = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = 8501
  to_port                      = 8501
}

resource "aws_vpc_security_group_egress_rule" "alb_to_app_model_api" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the model API"
  referenced_security_group_id = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
}

resource "aws_vpc_security_group_egress_rule" "alb_to_mlflow" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To MLflow"
  referenced_security_group_id = aws_security_group.mlflow.id
  ip_protocol                  = "tcp"
  from_port                    = 5000
  to_port                      = 5000
}

resource "aws_vpc_security_group_egress_rule" "alb_to_airflow" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To Airflow"
  referenced_security_group_id = aws_security_group.airflow.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_vpc_security_group_egress_rule" "airflow_to_mlflow" {
  security_group_id            = aws_security_group.airflow.id
  description                  = "To MLflow"
  referenced_security_group_id = aws_security_group.mlflow.id
  ip_protocol                  = "tcp"
  from_port                    = 5000
  to_port                      = 5000
}

resource "aws_vpc_security_group_egress_rule" "app_to_mlflow" {
  security_group_id            = aws_security_group.app.id
  description                  = "To MLflow"
  referenced_security_group_id = aws_security_group.mlflow.id
  ip_protocol                  = "tcp"
  from_port                    = 5000
  to_port                      = 5000
}

resource "aws_vpc_security_group_egress_rule" "app_to_airflow" {
  security_group_id            = aws_security_group.app.id
  description                  = "To the Airflow REST API"
  referenced_security_group_id = aws_security_group.airflow.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_vpc_security_group_ingress_rule" "app_model_api_from_mlflow" {
  security_group_id            = aws_security_group.app.id
  description                  = "MLflow's webhooks to the model API"
  referenced_security_group_id = aws_security_group.mlflow.id
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
}

resource "aws_vpc_security_group_egress_rule" "mlflow_to_app_model_api" {
  security_group_id            = aws_security_group.mlflow.id
  description                  = "Webhooks to the model API"
  referenced_security_group_id = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
}

resource "aws_vpc_security_group_egress_rule" "mlflow_to_rds" {
  security_group_id            = aws_security_group.mlflow.id
  description                  = "To PostgreSQL"
  referenced_security_group_id = aws_security_group.rds.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_egress_rule" "airflow_to_rds" {
  security_group_id            = aws_security_group.airflow.id
  description                  = "To PostgreSQL"
  referenced_security_group_id = aws_security_group.rds.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_egress_rule" "airflow_worker_to_rds" {
  security_group_id            = aws_security_group.airflow_worker.id
  description                  = "To PostgreSQL"
  referenced_security_group_id = aws_security_group.rds.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_egress_rule" "airflow_worker_to_mlflow" {
  security_group_id            = aws_security_group.airflow_worker.id
  description                  = "To MLflow"
  referenced_security_group_id = aws_security_group.mlflow.id
  ip_protocol                  = "tcp"
  from_port                    = 5000
  to_port                      = 5000
}

resource "aws_vpc_security_group_egress_rule" "airflow_worker_to_airflow" {
  security_group_id            = aws_security_group.airflow_worker.id
  description                  = "To the Airflow Execution API"
  referenced_security_group_id = aws_security_group.airflow.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_vpc_security_group_egress_rule" "airflow_to_airflow_worker_logs" {
  security_group_id            = aws_security_group.airflow.id
  description                  = "To the workers' log servers"
  referenced_security_group_id = aws_security_group.airflow_worker.id
  ip_protocol                  = "tcp"
  from_port                    = 8793
  to_port                      = 8793
}

resource "aws_vpc_security_group_egress_rule" "airflow_to_broker" {
  for_each = local.broker_clients

  security_group_id            = each.value
  description                  = "To the broker (Valkey, TLS)"
  referenced_security_group_id = aws_security_group.broker.id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

# The hosts install packages (Debian, PyPI), talk to SSM Session Manager and reach S3 (through
# the gateway endpoint, which still needs an egress rule): HTTPS, and HTTP for Debian's mirrors.
locals {
  host_security_groups = {
    mlflow         = aws_security_group.mlflow.id
    airflow        = aws_security_group.airflow.id
    app            = aws_security_group.app.id
    airflow_worker = aws_security_group.airflow_worker.id
  }
}

resource "aws_vpc_security_group_egress_rule" "hosts_https" {
  for_each = local.host_security_groups

  security_group_id = each.value
  description       = "HTTPS to package mirrors, SSM and S3"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "hosts_http" {
  for_each = local.host_security_groups

  security_group_id = each.value
  description       = "HTTP to Debian package mirrors"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}
