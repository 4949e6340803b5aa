"""Shared by the roles' testinfra tests: pytest loads it above every molecule scenario.

testinfra reaches each instance over SSH with sudo, as Ansible does (molecule/config.yml)."""

import json

import pytest


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
