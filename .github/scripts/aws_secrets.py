"""Create the platform's service secrets in SSM Parameter Store, once per environment.

Each secret of the local world (local/secrets.py) except the S3 keys, which AWS replaces with
instance profiles, becomes a SecureString parameter /<project>/<environment>/<name> with a
random value. Existing parameters are never overwritten, so re-running keeps every service's
credentials and adds only new names. The values exist only in memory here and in Parameter
Store: neither in git, nor in the Terraform state, nor in the workflow's logs.

    python .github/scripts/aws_secrets.py --environment production [--project mlops]

AWS credentials and region come from the environment (as for the AWS CLI).
"""

from __future__ import annotations

import argparse
import sys

import boto3

from local.secrets import GENERATORS

# Replaced on AWS by the hosts' instance profiles.
NOT_ON_AWS = frozenset(
    {
        "secret_s3_access_key",
        "secret_s3_secret_key",
        "secret_s3_upload_access_key",
        "secret_s3_upload_secret_key",
        "secret_s3_airflow_access_key",
        "secret_s3_airflow_secret_key",
        # ElastiCache's AUTH token: Terraform sets it, in a Secrets Manager secret of its own
        "secret_broker_password",
    }
)


def names() -> list[str]:
    return [name for name in GENERATORS if name not in NOT_ON_AWS]


def path(project: str, environment: str) -> str:
    return f"/{project}/{environment}/"


def ensure(ssm, project: str, environment: str) -> list[str]:
    """Create the missing parameters; return the names that were created."""
    created = []
    for name in names():
        try:
            ssm.put_parameter(
                Name=path(project, environment) + name,
                Value=GENERATORS[name](),
                Type="SecureString",
                Overwrite=False,
                Tags=[
                    {"Key": "Project", "Value": project},
                    {"Key": "Environment", "Value": environment},
                ],
            )
        except ssm.exceptions.ParameterAlreadyExists:
            continue
        created.append(name)
    return created


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="mlops")
    parser.add_argument("--environment", required=True)
    args = parser.parse_args(argv)
    created = ensure(boto3.client("ssm"), args.project, args.environment)
    where = path(args.project, args.environment)
    print(f"{where}: created {', '.join(created) if created else 'nothing (all present)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
