locals {
  name = "${var.project}-${var.environment}"

  # One target group per service; each service answers at <host>.<domain_name>. Sticky: a
  # browser stays on one target (Streamlit keeps its session, uploads included, in a process).
  services = {
    dashboard = { role = "app", port = 8501, host = "dashboard", health = "/_stcore/health", sticky = true }
    api       = { role = "app", port = 8000, host = "api", health = "/health", sticky = false }
    mlflow    = { role = "mlflow", port = 5000, host = "mlflow", health = "/health", sticky = false }
    airflow   = { role = "airflow", port = 8080, host = "airflow", health = "/api/v2/monitor/health", sticky = false }
  }

  attachments = merge([
    for svc, s in local.services : {
      for name, id in var.instance_ids[s.role] : "${svc}/${name}" => { service = svc, id = id, port = s.port }
    }
  ]...)
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:Ingress is limited to allowed_ingress_cidrs and every service authenticates its users; attach a WAF web ACL (aws_wafv2_web_acl_association) before opening it to 0.0.0.0/0.
  #checkov:skip=CKV_AWS_150:Deletion protection is a variable: on in production, off in staging so the environment can be torn down.
  #checkov:skip=CKV2_AWS_76:No WAF web ACL is attached (see CKV2_AWS_28); none of the services runs Java, so Log4j is not in play.
  name                       = local.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [var.security_group_id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  # Large MLflow artifacts go through the artifact proxy: give uploads time.
  idle_timeout = 300

  access_logs {
    bucket  = var.access_logs_bucket
    prefix  = "alb"
    enabled = true
  }
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; the hop to the targets stays inside the VPC's private subnets and is limited by security groups.
  for_each = local.services

  name     = "${local.name}-${each.key}"
  port     = each.value.port
  protocol = "HTTP"
  vpc_id   = var.vpc_id

  health_check {
    path                = each.value.health
    matcher             = "200"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  stickiness {
    type            = "lb_cookie"
    enabled         = each.value.sticky
    cookie_duration = 86400
  }
}

resource "aws_lb_target_group_attachment" "this" {
  for_each = local.attachments

  target_group_arn = aws_lb_target_group.this[each.value.service].arn
  target_id        = each.value.id
  port             = each.value.port
}

# HTTPS only: there is no port-80 listener to redirect from, so nothing answers in clear text.
resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "Not found"
      status_code  = "404"
    }
  }
}

resource "aws_lb_listener_rule" "this" {
  for_each = local.services

  listener_arn = aws_lb_listener.https.arn
  priority     = 10 + index(keys(local.services), each.key)

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[each.key].arn
  }

  condition {
    host_header {
      values = ["${each.value.host}.${var.domain_name}"]
    }
  }
}
