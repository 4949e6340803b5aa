"""Shared by the roles' testinfra tests: pytest loads it above every molecule scenario."""

import json

import pytest
import testinfra


@pytest.fixture(scope="module")
def host(_testinfra_host):
    """The instance, reached with `podman exec` rather than testinfra's ansible backend.

    molecule's instances use Ansible's podman connection, which testinfra cannot map to a
    backend of its own, so it would run every check as an Ansible task (about a second
    each); the instance is the podman container of the same name, reached directly."""
    backend = _testinfra_host.backend
    if backend.NAME != "ansible" or backend.ansible_runner.inventory["_meta"]["hostvars"].get(
        backend.host, {}
    ).get("ansible_connection") not in ("podman", "containers.podman.podman"):
        return _testinfra_host
    return testinfra.get_host(f"podman://{backend.host}")


@pytest.fixture
def http(host):
    """An HTTP call made with curl on the instance: http(url, method, data=..., user=...,
    headers=...) returns (status, body); data is sent as JSON."""

    def call(url, method="GET", data=None, user=None, headers=None):
        command = "curl -s -w '\\n%%{http_code}' -X %s"
        args = [method]
        for name, value in (headers or {}).items():
            command += " -H %s"
            args.append(f"{name}: {value}")
        if user:
            command += " -u %s"
            args.append(user)
        if data is not None:
            command += " -H 'Content-Type: application/json' -d %s"
            args.append(json.dumps(data))
        body, _, status = host.run(command + " %s", *args, url).stdout.rpartition("\n")
        return int(status), body

    return call
