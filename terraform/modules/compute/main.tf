locals {
  name = "${var.project}-${var.environment}"

  # One entry per instance: "airflow-1", "app-1", "app-2", ...; the keys are known at plan time
  # so other modules can for_each over them.
  instances = merge([
    for role, spec in var.instances : {
      for i in range(spec.count) : "${role}-${i + 1}" => {
        role          = role
        index         = i
        instance_type = spec.instance_type
      }
    }
  ]...)
}

data "aws_region" "current" {}

# Debian 12 from Debian's own AWS account.
data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"]

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

resource "aws_instance" "this" {
  for_each = local.instances

  ami                         = data.aws_ami.debian.id
  instance_type               = each.value.instance_type
  subnet_id                   = var.subnet_ids[each.value.index % length(var.subnet_ids)]
  vpc_security_group_ids      = [var.security_group_ids[each.value.role]]
  iam_instance_profile        = aws_iam_instance_profile.role[each.value.role].name
  associate_public_ip_address = false
  ebs_optimized               = true
  monitoring                  = true

  # Debian's AMI has no SSM agent: installed at first boot (Ansible connects through SSM).
  user_data = templatefile("${path.module}/ssm_agent.sh.tftpl", {
    region = data.aws_region.current.region
  })

  # IMDSv2 only: a token is required, and one hop keeps containers from reaching it.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size
    encrypted             = true
    delete_on_termination = true
  }

  # The dynamic inventory filters on Project and Environment and groups on Role.
  tags = {
    Name        = "${local.name}-${each.key}"
    Project     = var.project
    Environment = var.environment
    Role        = each.value.role
  }

  lifecycle {
    # A new AMI release must not replace running hosts, and user data runs at first boot
    # only: roll them on purpose.
    ignore_changes = [ami, user_data]
  }
}
