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

  # Debian's AMI has no SSM agent, and Ansible connects through SSM. cloud-init writes the
  # install script where it runs one at every boot (the first one included): it retries until
  # the network carries traffic, and a host whose install still failed is repaired by a
  # reboot. The instance waits for the NAT route, the S3 endpoint and its egress rules
  # (modules/network's outputs), so the first attempt normally succeeds.
  user_data = join("\n", [
    "#cloud-config",
    yamlencode({
      write_files = [{
        path        = "/var/lib/cloud/scripts/per-boot/amazon-ssm-agent.sh"
        owner       = "root:root"
        permissions = "0755"
        content = templatefile("${path.module}/ssm_agent.sh.tftpl", {
          region = data.aws_region.current.region
        })
      }]
    }),
  ])
  # cloud-init writes its files at an instance's first boot only: a changed script reaches
  # new hosts, so a change replaces the hosts (the plan shows it) instead of being ignored.
  user_data_replace_on_change = true

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
    # A new AMI release must not replace running hosts: roll them on purpose.
    ignore_changes = [ami]
  }
}
