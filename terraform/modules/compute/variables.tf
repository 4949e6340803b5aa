variable "project" {
  description = "Project name: the `Project` tag the dynamic inventory filters on."
  type        = string
}

variable "environment" {
  description = "Environment name: the `Environment` tag the dynamic inventory filters on."
  type        = string
}

variable "instances" {
  description = "Per role (mlflow, airflow, app, airflow_worker): how many instances and of which type."
  type = map(object({
    count         = number
    instance_type = string
  }))
  nullable = false # null (from modules/platform) takes these defaults

  # Sizes measured on the local replica:
  # - airflow: the four components plus 4 LocalExecutor workers use ~1.8 GB RSS before the
  #   training task loads pandas and scikit-learn, so a 2 GB t3.small swaps or gets OOM-killed.
  #   t3.large (8 GB, 2 vCPU) leaves room for training tasks; t3.medium (4 GB) is the floor.
  # - mlflow: server with job execution off ~470 MB, with its 0.9 GB virtualenv: t3.medium.
  # - app: model API (a loaded model plus pandas, scikit-learn) and Streamlit: t3.medium.
  # - airflow_worker: a Celery worker runs the tasks the LocalExecutor runs on the airflow host
  #   (training included), so it gets the airflow host's size. None by default: the
  #   LocalExecutor stays the small default, and a count above 0 also creates the broker
  #   (modules/platform).
  default = {
    mlflow         = { count = 1, instance_type = "t3.medium" }
    airflow        = { count = 1, instance_type = "t3.large" }
    app            = { count = 1, instance_type = "t3.medium" }
    airflow_worker = { count = 0, instance_type = "t3.large" }
  }

  validation {
    condition     = sort(keys(var.instances)) == sort(["airflow", "airflow_worker", "app", "mlflow"])
    error_message = "instances must have exactly the roles mlflow, airflow, app and airflow_worker."
  }

  # Every service but the workers needs a host; the workers are optional (LocalExecutor).
  validation {
    condition = alltrue([
      for role, r in var.instances :
      r.count >= (role == "airflow_worker" ? 0 : 1) && r.count <= 10 && floor(r.count) == r.count
    ])
    error_message = "mlflow, airflow and app need between 1 and 10 instances, airflow_worker between 0 and 10."
  }

  validation {
    condition     = alltrue([for r in values(var.instances) : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", r.instance_type))])
    error_message = "Each instance_type must look like an EC2 instance type, e.g. t3.large."
  }

  # Airflow with LocalExecutor needs ~1.8 GB before any task runs (see above), and a Celery
  # worker runs the same tasks.
  validation {
    condition = alltrue([
      for role in ["airflow", "airflow_worker"] : !contains(
        ["t3.nano", "t3.micro", "t3.small", "t3a.nano", "t3a.micro", "t3a.small", "t4g.nano", "t4g.micro", "t4g.small"],
        try(var.instances[role].instance_type, "")
      )
    ])
    error_message = "Airflow and its workers need at least 4 GB of memory (t3.medium); 2 GB types are too small."
  }
}

variable "subnet_ids" {
  description = "Private subnets the instances are spread over."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security group per role (mlflow, airflow, app, airflow_worker)."
  type        = map(string)
}

variable "bucket_arns" {
  description = "Bucket ARNs by purpose: artifacts, dags, data."
  type        = map(string)
}

variable "root_volume_size" {
  description = "Root EBS volume size in GiB (the services' virtualenvs take up to 1 GB each)."
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_size >= 8
    error_message = "root_volume_size must be at least 8 GiB, the Debian AMI's size."
  }
}

variable "upload_prefix" {
  description = "Key prefix of the data bucket under which the app hosts may put users' uploads (Ansible's platform_upload_prefix)."
  type        = string
  default     = "uploads"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)*$", var.upload_prefix))
    error_message = "upload_prefix must be a key prefix without leading or trailing slashes, e.g. uploads."
  }
}
