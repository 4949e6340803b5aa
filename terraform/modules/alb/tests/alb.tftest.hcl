# Plan-level tests of modules/alb with a mocked AWS provider (no credentials, no API
# calls). Run here: terraform init -backend=false && terraform test

mock_provider "aws" {}

# A mocked plan leaves computed attributes unknown, and comparing two unknown ARNs gives no
# answer. Each target group gets a known, distinct and valid ARN during plan
# (override_during, Terraform 1.11+), so the runs can check which target group the
# attachments and listener rules point at; the provider validates these ARN arguments.
override_resource {
  target          = aws_lb_target_group.this["dashboard"]
  override_during = plan
  values          = { arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mlops-staging-dashboard/0000000000000001" }
}

override_resource {
  target          = aws_lb_target_group.this["api"]
  override_during = plan
  values          = { arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mlops-staging-api/0000000000000002" }
}

override_resource {
  target          = aws_lb_target_group.this["mlflow"]
  override_during = plan
  values          = { arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mlops-staging-mlflow/0000000000000003" }
}

override_resource {
  target          = aws_lb_target_group.this["airflow"]
  override_during = plan
  values          = { arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mlops-staging-airflow/0000000000000004" }
}

variables {
  project           = "mlops"
  environment       = "staging"
  vpc_id            = "vpc-0123456789abcdef0"
  public_subnet_ids = ["subnet-a", "subnet-b"]
  security_group_id = "sg-alb"
  domain_name       = "mlops.example.com"
  certificate_arn   = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  instance_ids = {
    mlflow  = { "mlflow-1" = "i-0000000000000000a" }
    airflow = { "airflow-1" = "i-0000000000000000b" }
    app     = { "app-1" = "i-0000000000000000c", "app-2" = "i-0000000000000000d" }
  }
  access_logs_bucket  = "mlops-staging-logs-123456789012"
  deletion_protection = false
}

run "one_target_group_per_service_with_its_port_and_health_check" {
  command = plan

  assert {
    condition     = toset(keys(aws_lb_target_group.this)) == toset(["dashboard", "api", "mlflow", "airflow"])
    error_message = "One target group per service: dashboard, api, mlflow and airflow."
  }

  assert {
    condition = (
      aws_lb_target_group.this["dashboard"].port == 8501 &&
      aws_lb_target_group.this["api"].port == 8000 &&
      aws_lb_target_group.this["mlflow"].port == 5000 &&
      aws_lb_target_group.this["airflow"].port == 8080
    )
    error_message = "Target group ports: dashboard 8501, api 8000, mlflow 5000, airflow 8080."
  }

  assert {
    condition = (
      aws_lb_target_group.this["dashboard"].health_check[0].path == "/_stcore/health" &&
      aws_lb_target_group.this["api"].health_check[0].path == "/health" &&
      aws_lb_target_group.this["mlflow"].health_check[0].path == "/health" &&
      aws_lb_target_group.this["airflow"].health_check[0].path == "/api/v2/monitor/health"
    )
    error_message = "Each target group checks its service's health endpoint (Streamlit /_stcore/health, /health, Airflow /api/v2/monitor/health)."
  }

  assert {
    condition     = alltrue([for k, tg in aws_lb_target_group.this : tg.protocol == "HTTP" && tg.health_check[0].matcher == "200" && tg.vpc_id == "vpc-0123456789abcdef0"])
    error_message = "Target groups speak HTTP inside the VPC and expect a 200 from the health check."
  }

  assert {
    condition = alltrue([
      for k, tg in aws_lb_target_group.this :
      tg.stickiness[0].type == "lb_cookie" && tg.stickiness[0].enabled == (k == "dashboard")
    ])
    error_message = "Only the dashboard's target group keeps a browser on one target (lb_cookie): Streamlit's sessions live in a process."
  }

  assert {
    condition     = aws_lb_target_group.this["airflow"].name == "mlops-staging-airflow"
    error_message = "Target groups are named <project>-<environment>-<service>."
  }
}

run "every_instance_of_a_role_is_attached_to_its_services" {
  command = plan

  assert {
    condition = toset(keys(aws_lb_target_group_attachment.this)) == toset([
      "dashboard/app-1", "dashboard/app-2", "api/app-1", "api/app-2", "mlflow/mlflow-1", "airflow/airflow-1",
    ])
    error_message = "The dashboard and the API get one attachment per app instance, MLflow and Airflow one per instance of their role."
  }

  assert {
    condition = alltrue([
      for k, a in aws_lb_target_group_attachment.this :
      a.target_group_arn == aws_lb_target_group.this[split("/", k)[0]].arn && a.port == aws_lb_target_group.this[split("/", k)[0]].port
    ])
    error_message = "An attachment <service>/<instance> registers in its service's target group, on the service's port."
  }

  assert {
    condition = (
      aws_lb_target_group_attachment.this["dashboard/app-2"].target_id == "i-0000000000000000d" &&
      aws_lb_target_group_attachment.this["api/app-1"].target_id == "i-0000000000000000c" &&
      aws_lb_target_group_attachment.this["mlflow/mlflow-1"].target_id == "i-0000000000000000a" &&
      aws_lb_target_group_attachment.this["airflow/airflow-1"].target_id == "i-0000000000000000b"
    )
    error_message = "Each attachment targets the instance id given for that instance name."
  }
}

run "two_hosts_of_a_role_are_two_targets_of_each_of_its_target_groups" {
  command = plan

  # app and mlflow scaled out to two hosts each (modules/compute's instances); a worker serves
  # nothing through the load balancer.
  variables {
    instance_ids = {
      mlflow         = { "mlflow-1" = "i-0000000000000000a", "mlflow-2" = "i-0000000000000000e" }
      airflow        = { "airflow-1" = "i-0000000000000000b" }
      app            = { "app-1" = "i-0000000000000000c", "app-2" = "i-0000000000000000d" }
      airflow_worker = { "airflow_worker-1" = "i-0000000000000000f" }
    }
  }

  assert {
    condition = alltrue([
      for service, targets in {
        dashboard = ["i-0000000000000000c", "i-0000000000000000d"]
        api       = ["i-0000000000000000c", "i-0000000000000000d"]
        mlflow    = ["i-0000000000000000a", "i-0000000000000000e"]
        airflow   = ["i-0000000000000000b"]
      } :
      toset([for k, a in aws_lb_target_group_attachment.this : a.target_id if split("/", k)[0] == service]) == toset(targets)
    ])
    error_message = "Each target group has one target per host of its role: two for the dashboard, the API and MLflow."
  }

  assert {
    condition     = !anytrue([for a in aws_lb_target_group_attachment.this : a.target_id == "i-0000000000000000f"])
    error_message = "Celery workers are attached to no target group."
  }
}

run "https_listener_only_with_tls13_and_a_404_default" {
  command = plan

  # The module declares a single listener, aws_lb_listener.https (no count, no for_each):
  # there is no port-80 listener to assert on, and a test cannot name a resource the
  # module does not declare.
  assert {
    condition     = aws_lb_listener.https.port == 443 && aws_lb_listener.https.protocol == "HTTPS"
    error_message = "The only listener is HTTPS on port 443."
  }

  assert {
    condition     = startswith(aws_lb_listener.https.ssl_policy, "ELBSecurityPolicy-TLS13-")
    error_message = "The listener uses a TLS 1.3 security policy."
  }

  assert {
    condition     = aws_lb_listener.https.certificate_arn == var.certificate_arn
    error_message = "The listener serves the given ACM certificate."
  }

  assert {
    condition = (
      length(aws_lb_listener.https.default_action) == 1 &&
      aws_lb_listener.https.default_action[0].type == "fixed-response" &&
      aws_lb_listener.https.default_action[0].fixed_response[0].status_code == "404"
    )
    error_message = "A request for an unknown host name gets a fixed 404, never a service."
  }
}

run "each_host_name_routes_to_its_target_group" {
  command = plan

  variables {
    domain_name = "ml.example.org"
  }

  assert {
    condition     = toset(keys(aws_lb_listener_rule.this)) == toset(["dashboard", "api", "mlflow", "airflow"])
    error_message = "One listener rule per service."
  }

  assert {
    condition = (
      one(one(aws_lb_listener_rule.this["dashboard"].condition).host_header).values == toset(["dashboard.ml.example.org"]) &&
      one(one(aws_lb_listener_rule.this["api"].condition).host_header).values == toset(["api.ml.example.org"]) &&
      one(one(aws_lb_listener_rule.this["mlflow"].condition).host_header).values == toset(["mlflow.ml.example.org"]) &&
      one(one(aws_lb_listener_rule.this["airflow"].condition).host_header).values == toset(["airflow.ml.example.org"])
    )
    error_message = "Each rule matches the host name <service>.<domain_name>, and only that."
  }

  assert {
    condition = alltrue([
      for k, r in aws_lb_listener_rule.this :
      length(r.action) == 1 && r.action[0].type == "forward" && r.action[0].target_group_arn == aws_lb_target_group.this[k].arn
    ])
    error_message = "Each rule forwards to its own service's target group."
  }

  assert {
    condition     = length(distinct([for r in aws_lb_listener_rule.this : r.priority])) == 4
    error_message = "Listener rule priorities are distinct."
  }
}

run "load_balancer_is_public_hardened_and_logged" {
  command = plan

  assert {
    condition     = aws_lb.this.load_balancer_type == "application" && !aws_lb.this.internal
    error_message = "The load balancer is an internet-facing application load balancer."
  }

  assert {
    condition     = aws_lb.this.drop_invalid_header_fields
    error_message = "The load balancer drops invalid HTTP header fields."
  }

  assert {
    condition = (
      aws_lb.this.access_logs[0].enabled &&
      aws_lb.this.access_logs[0].bucket == "mlops-staging-logs-123456789012" &&
      aws_lb.this.access_logs[0].prefix == "alb"
    )
    error_message = "Access logs go to the given bucket under the alb prefix."
  }

  assert {
    condition     = !aws_lb.this.enable_deletion_protection
    error_message = "deletion_protection = false leaves the load balancer deletable (staging)."
  }
}

run "deletion_protection_follows_the_variable" {
  command = plan

  variables {
    deletion_protection = true
  }

  assert {
    condition     = aws_lb.this.enable_deletion_protection
    error_message = "deletion_protection = true protects the load balancer (production)."
  }
}

run "urls_give_each_service_its_https_host_name" {
  command = plan

  assert {
    condition = output.urls == {
      dashboard = "https://dashboard.mlops.example.com"
      api       = "https://api.mlops.example.com"
      mlflow    = "https://mlflow.mlops.example.com"
      airflow   = "https://airflow.mlops.example.com"
    }
    error_message = "urls maps each service to https://<service>.<domain_name>."
  }
}

run "a_url_is_refused_as_domain_name" {
  command = plan

  variables {
    domain_name = "https://mlops.example.com"
  }

  expect_failures = [var.domain_name]
}

run "an_upper_case_domain_name_is_refused" {
  command = plan

  variables {
    domain_name = "MLOps.Example.com"
  }

  expect_failures = [var.domain_name]
}

run "a_certificate_outside_acm_is_refused" {
  command = plan

  # A valid ARN (the provider would accept it), but an IAM server certificate, not ACM.
  variables {
    certificate_arn = "arn:aws:iam::123456789012:server-certificate/mlops"
  }

  expect_failures = [var.certificate_arn]
}
