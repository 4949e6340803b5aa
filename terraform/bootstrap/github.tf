# GitHub Actions reach AWS through OIDC only: no static key anywhere. Each role trusts one
# kind of job of this repository, by the token's subject claim:
#   plan role:   repo:<owner>/<repo>:pull_request        terraform.yml's plans of a pull request
#                repo:<owner>/<repo>:ref:refs/heads/main  deploy-environment.yml's plan job, on
#                                                         pushes to main (no environment yet:
#                                                         reviewers approve the plan it shows)
#   deploy role: repo:<owner>/<repo>:environment:<env>    deploy-environment.yml's apply job,
#                                                         which runs in the GitHub environment

locals {
  oidc_host = "token.actions.githubusercontent.com"
  oidc_provider_arn = (
    var.create_github_oidc_provider
    ? aws_iam_openid_connect_provider.github[0].arn
    : data.aws_iam_openid_connect_provider.github[0].arn
  )
}

# AWS verifies GitHub's tokens against its own library of trusted CAs: no thumbprint.
resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 0 : 1

  url = "https://token.actions.githubusercontent.com"
}

# --- the plan role: read-only ------------------------------------------------------------------

data "aws_iam_policy_document" "plan_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values = [
        "repo:${var.github_repository}:pull_request",
        "repo:${var.github_repository}:ref:refs/heads/main",
      ]
    }
  }
}

resource "aws_iam_role" "plan" {
  name               = "${var.project}-terraform-plan"
  description        = "terraform plan from GitHub Actions (pull requests, main): read-only"
  assume_role_policy = data.aws_iam_policy_document.plan_assume.json
}

# What a refresh reads: every resource of the platform.
resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role       = aws_iam_role.plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

data "aws_iam_policy_document" "plan" {
  statement {
    sid       = "ListState"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }

  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.state.arn}/${local.state_prefix}*"]
  }

  # S3-native locking writes and removes <key>.tflock; the workflows plan with -lock=false
  # (a cancelled pull-request run would leave a stale lock), a plan run by hand locks.
  statement {
    sid       = "StateLockFiles"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.state.arn}/${local.state_prefix}*.tflock"]
  }

  # The one secret a plan reads: refreshing modules/broker's aws_secretsmanager_secret_version
  # calls GetSecretValue, and a refused read fails every plan once a broker exists. Its value,
  # the broker's AUTH token, is in the state this role reads anyway (modules/broker/README.md
  # says why), so reading it here opens nothing new.
  statement {
    sid       = "RefreshBrokerAuthTokens"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.broker_secrets_arn]
  }

  # ReadOnlyAccess reads more than a plan needs. A pull request's workflow runs with this
  # role, so what a plan never reads stays out of reach: the platform's secrets, object
  # contents other than the state, and log contents (the database's DDL log among them).
  statement {
    sid       = "DenyPlatformParameters"
    effect    = "Deny"
    actions   = ["ssm:GetParameter*"]
    resources = [local.parameters_arn, "${local.parameters_arn}/*"]
  }

  statement {
    sid           = "DenySecretValuesButTheBrokers"
    effect        = "Deny"
    actions       = ["secretsmanager:GetSecretValue"]
    not_resources = [local.broker_secrets_arn]
  }

  statement {
    sid           = "DenyObjectsOtherThanTheState"
    effect        = "Deny"
    actions       = ["s3:GetObject", "s3:GetObjectVersion"]
    not_resources = ["${aws_s3_bucket.state.arn}/*"]
  }

  statement {
    sid    = "DenyLogContents"
    effect = "Deny"
    actions = [
      "logs:GetLogEvents",
      "logs:FilterLogEvents",
      "logs:StartQuery",
      "logs:StartLiveTail",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "plan" {
  name   = "terraform-state-read"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}

# --- the deploy roles: one per environment -----------------------------------------------------

data "aws_iam_policy_document" "deploy_assume" {
  for_each = toset(var.environments)

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:${each.key}"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  for_each = toset(var.environments)

  name                 = "${var.project}-${each.key}-deploy"
  description          = "terraform apply and Ansible for ${each.key}, from its GitHub environment only"
  assume_role_policy   = data.aws_iam_policy_document.deploy_assume[each.key].json
  max_session_duration = var.deploy_session_duration_seconds
}

# Everything but IAM: VPC, EC2, RDS, S3, load balancer, logs, KMS, SSM (Session Manager and the
# environment's parameters).
resource "aws_iam_role_policy_attachment" "deploy_power_user" {
  for_each = aws_iam_role.deploy

  role       = each.value.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/PowerUserAccess"
}

# IAM only for the environment's own roles and instance profiles (modules/compute and the
# flow logs of modules/network name them <project>-<environment>-*), policies attached only
# from the one AWS managed policy the hosts use, roles passed only to EC2 and flow logs. And
# no other environment's parameters: PowerUserAccess alone would reach them.
data "aws_iam_policy_document" "deploy" {
  for_each = toset(var.environments)

  statement {
    sid = "ReadIam"
    actions = [
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:GetInstanceProfile",
      "iam:GetPolicy",
      "iam:GetPolicyVersion",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:ListRoleTags",
      "iam:ListInstanceProfileTags",
    ]
    resources = [
      "arn:${local.partition}:iam::${local.account_id}:role/*",
      "arn:${local.partition}:iam::${local.account_id}:instance-profile/*",
      "arn:${local.partition}:iam::aws:policy/*",
    ]
  }

  statement {
    sid = "ManageOwnRoles"
    actions = [
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:PutRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:CreateInstanceProfile",
      "iam:DeleteInstanceProfile",
      "iam:AddRoleToInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile",
      "iam:TagInstanceProfile",
      "iam:UntagInstanceProfile",
    ]
    resources = [
      "arn:${local.partition}:iam::${local.account_id}:role/${var.project}-${each.key}-*",
      "arn:${local.partition}:iam::${local.account_id}:instance-profile/${var.project}-${each.key}-*",
    ]
  }

  statement {
    sid       = "AttachOnlyTheSsmPolicy"
    actions   = ["iam:AttachRolePolicy"]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/${var.project}-${each.key}-*"]

    condition {
      test     = "ArnEquals"
      variable = "iam:PolicyARN"
      values   = ["arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    }
  }

  statement {
    sid       = "PassOwnRoles"
    actions   = ["iam:PassRole"]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/${var.project}-${each.key}-*"]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"]
    }
  }

  dynamic "statement" {
    for_each = length(var.environments) > 1 ? [1] : []

    content {
      sid     = "DenyOtherEnvironmentsParameters"
      effect  = "Deny"
      actions = ["ssm:GetParameter*", "ssm:PutParameter", "ssm:DeleteParameter*", "ssm:LabelParameterVersion"]
      resources = [
        for other in var.environments : "${local.parameters_arn}/${other}/*" if other != each.key
      ]
    }
  }
}

resource "aws_iam_role_policy" "deploy" {
  for_each = aws_iam_role.deploy

  name   = "own-environment-iam"
  role   = each.value.id
  policy = data.aws_iam_policy_document.deploy[each.key].json
}
