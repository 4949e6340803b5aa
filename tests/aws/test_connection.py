"""Session Manager's limits against what a converge needs (inventories/aws/.../connection.yml).

amazon.aws's aws_ssm connection ends any command that runs longer than
ansible_aws_ssm_timeout (a limit on the whole command, not on silence) and then runs it again,
up to ansible_aws_ssm_retries times. The longest task of a cold converge from the package
index, as EC2 hosts install, is measured by `python -m local profile` into
bench/results/converge-profile.json; the limit must leave room for a slower host.
"""

from __future__ import annotations

import json

import yaml

from local import profile
from tests.conftest import REPO

CONNECTION = REPO / "inventories" / "aws" / "group_vars" / "all" / "connection.yml"
# EC2's default instance types are slower than this build machine's cores, and the profile
# was taken on one host; three times the longest task leaves room for both.
MARGIN = 3


def test_ssm_command_limit_outlasts_the_longest_task_of_a_cold_converge():
    measured = json.loads(profile.OUTPUT.read_text())
    longest = measured["longest_tasks"][0]
    timeout = int(yaml.safe_load(CONNECTION.read_text())["ansible_aws_ssm_timeout"])
    assert timeout >= MARGIN * longest["seconds"], (
        f"ansible_aws_ssm_timeout={timeout} s, but {longest['task']!r} took "
        f"{longest['seconds']} s on {longest['host']} ({profile.OUTPUT.name})"
    )


def test_the_profile_is_a_cold_converge_of_every_service():
    measured = json.loads(profile.OUTPUT.read_text())
    assert "package index" in measured["what"]
    roles = {task["role"] for task in measured["longest_tasks"]}
    assert {"python_service"} <= roles  # the installs, where a cold converge spends its time


def test_summarise_keeps_the_longest_first():
    runs = [("a", 1.0), ("b", 9.0), ("c", 5.0)]
    records = [{"task": t, "host": "h", "role": None, "seconds": s} for t, s in runs]
    assert [r["task"] for r in profile.summarise(records, kept=2)] == ["b", "c"]
