output "instance_ids" {
  description = "Instance ids per role, keyed by instance name (e.g. airflow-1)."
  value = {
    for role in keys(var.instances) : role => {
      for key, spec in local.instances : key => aws_instance.this[key].id if spec.role == role
    }
  }
}

output "private_ips" {
  description = "Private IP per instance name."
  value       = { for key, inst in aws_instance.this : key => inst.private_ip }
}

output "instance_role_arns" {
  description = "IAM role ARN per host role."
  value       = { for r, role in aws_iam_role.role : r => role.arn }
}

# From the variable alone, so it is known at plan time: modules/platform decides from it
# whether the broker exists.
output "instance_counts" {
  description = "Instance count per role."
  value       = { for role, spec in var.instances : role => spec.count }
}
