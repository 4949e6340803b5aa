"""moto's server mode on loopback: a fake EC2, SSM and Secrets Manager for the AWS inventory."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field

import pytest

from tests.conftest import REPO, VENV_BIN, free_port, tool_env

REGION = "eu-west-1"
PROJECT = "mlops"


@dataclass
class FakeAws:
    endpoint: str
    env: dict[str, str]
    instances: dict[str, dict] = field(default_factory=dict)

    def client(self, service: str):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def run(self, argv: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            cwd=REPO,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )


@pytest.fixture(scope="session")
def fake_aws():
    """A moto server on a free loopback port, stopped by its PID at the end."""
    port = free_port()
    server = subprocess.Popen(
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto did not start on {endpoint}") from None
                time.sleep(0.2)
        env = tool_env(
            AWS_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION=REGION,
            AWS_DEFAULT_REGION=REGION,
            MLOPS_PROJECT=PROJECT,
            MLOPS_ENVIRONMENT="staging",
            ANSIBLE_INVENTORY_UNPARSED_FAILED="true",
            ANSIBLE_DEPRECATION_WARNINGS="false",
        )
        # No real account may be reached through a profile or a session of the caller.
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_URL"):
            env.pop(name, None)
        env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        yield FakeAws(endpoint=endpoint, env=env)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def tags(**values: str) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in values.items()]


@pytest.fixture(scope="session")
def fleet(fake_aws: FakeAws) -> dict[str, dict]:
    """Instances as Terraform tags them, plus ones the inventory must leave out.

    Returns name -> {"id", "ip", "role"}; names are the Name tags (or the id without one).
    """
    ec2 = fake_aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]

    def launch(**tag_values: str) -> dict:
        spec = {"ResourceType": "instance", "Tags": tags(**tag_values)}
        instance = ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.small",
            SubnetId=subnet,
            TagSpecifications=[spec],
        )["Instances"][0]
        return {
            "id": instance["InstanceId"],
            "ip": instance["PrivateIpAddress"],
            "role": tag_values.get("Role"),
        }

    ours = {"Project": PROJECT, "Environment": "staging"}
    fleet = {
        "mlops-staging-mlflow-1": launch(**ours, Role="mlflow", Name="mlops-staging-mlflow-1"),
        "mlops-staging-airflow-1": launch(**ours, Role="airflow", Name="mlops-staging-airflow-1"),
        "mlops-staging-app-1": launch(**ours, Role="app", Name="mlops-staging-app-1"),
        "mlops-staging-app-2": launch(**ours, Role="app", Name="mlops-staging-app-2"),
        "mlops-staging-airflow_worker-1": launch(
            **ours, Role="airflow_worker", Name="mlops-staging-airflow_worker-1"
        ),
        "mlops-staging-airflow_worker-2": launch(
            **ours, Role="airflow_worker", Name="mlops-staging-airflow_worker-2"
        ),
    }
    unnamed = launch(**ours, Role="airflow")
    fleet[unnamed["id"]] = unnamed
    outsiders = {
        "production": launch(Project=PROJECT, Environment="production", Role="mlflow"),
        "no-role": launch(**ours, Name="mlops-staging-norole"),
        "bastion": launch(**ours, Role="bastion", Name="mlops-staging-bastion"),
        "other-project": launch(Project="other", Environment="staging", Role="app"),
    }
    stopped = launch(**ours, Role="app", Name="mlops-staging-app-stopped")
    ec2.stop_instances(InstanceIds=[stopped["id"]])
    outsiders["stopped"] = stopped
    fake_aws.instances = {"ours": fleet, "outsiders": outsiders}
    return fake_aws.instances
