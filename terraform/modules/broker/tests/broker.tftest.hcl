# Plan-level tests of modules/broker with a mocked AWS provider (no credentials, no API
# calls). Run here: terraform init -backend=false && terraform test

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }

  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  project           = "mlops"
  environment       = "staging"
  subnet_ids        = ["subnet-a", "subnet-b"]
  security_group_id = "sg-broker"
  multi_az          = false
}

run "the_broker_is_private_encrypted_and_needs_the_token" {
  command = plan

  assert {
    condition     = aws_elasticache_replication_group.this.engine == "valkey" && aws_elasticache_replication_group.this.engine_version == "8.2"
    error_message = "ElastiCache for Valkey 8.2 by default."
  }

  assert {
    condition = (
      aws_elasticache_replication_group.this.transit_encryption_enabled &&
      aws_elasticache_replication_group.this.transit_encryption_mode == "required"
    )
    error_message = "TLS is required: no client connects in clear text."
  }

  assert {
    condition     = aws_elasticache_replication_group.this.at_rest_encryption_enabled == "true"
    error_message = "Data and snapshots are encrypted at rest."
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "The at-rest key is the broker's own and rotates."
  }

  assert {
    condition     = toset(aws_elasticache_replication_group.this.security_group_ids) == toset(["sg-broker"])
    error_message = "The broker is in the given security group only."
  }

  assert {
    condition     = aws_elasticache_subnet_group.this.subnet_ids == toset(["subnet-a", "subnet-b"])
    error_message = "The broker's subnet group holds the given (private) subnets."
  }

  assert {
    condition     = random_password.auth_token.length == 64 && !random_password.auth_token.special
    error_message = "The AUTH token is 64 letters and digits (characters ElastiCache accepts)."
  }

  assert {
    condition     = aws_elasticache_replication_group.this.port == 6379
    error_message = "The broker listens on 6379, the port the security group opens."
  }

  assert {
    condition = (
      aws_elasticache_parameter_group.this.family == "valkey8" &&
      one([for p in aws_elasticache_parameter_group.this.parameter : p.value if p.name == "maxmemory-policy"]) == "noeviction"
    )
    error_message = "A full broker refuses writes instead of evicting queued tasks."
  }
}

run "staging_is_a_single_node" {
  command = plan

  assert {
    condition = (
      aws_elasticache_replication_group.this.num_cache_clusters == 1 &&
      !aws_elasticache_replication_group.this.automatic_failover_enabled &&
      !aws_elasticache_replication_group.this.multi_az_enabled
    )
    error_message = "multi_az = false: one node, no failover."
  }
}

run "production_has_a_replica_in_the_second_zone" {
  command = plan

  variables {
    environment = "production"
    multi_az    = true
  }

  assert {
    condition = (
      aws_elasticache_replication_group.this.num_cache_clusters == 2 &&
      aws_elasticache_replication_group.this.automatic_failover_enabled &&
      aws_elasticache_replication_group.this.multi_az_enabled
    )
    error_message = "multi_az = true: a primary and a replica, automatic failover across zones."
  }

  assert {
    condition     = aws_elasticache_replication_group.this.replication_group_id == "mlops-production-broker"
    error_message = "The replication group is named <project>-<environment>-broker."
  }
}

run "another_major_is_refused" {
  command = plan

  variables {
    engine_version = "7.2"
  }

  expect_failures = [var.engine_version]
}
