"""Measure a cold converge as AWS runs it, task by task: `python -m local profile`.

A replica of its own (`mlops-profile`, 10.89.62.0/24) is made from nothing and converged with
ansible/site.yml while every virtualenv installs from the package index (no wheelhouse), as
EC2 hosts do; the task_profile callback (ansible/plugins/callback) times each host's run of
each task. The longest tasks are written to bench/results/converge-profile.json, which the AWS
path's checks read: Session Manager ends any command that runs longer than
ansible_aws_ssm_timeout (tests/aws/test_connection.py). The replica is removed at the end.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from local import config, hosts, inventory

OUTPUT = config.REPO / "bench" / "results" / "converge-profile.json"
KEPT = 15


def recap(output: str) -> dict[str, int]:
    """changed= per host, from the PLAY RECAP of ansible-playbook's output."""
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.MULTILINE)
    }


def by_role(records: list[dict]) -> dict[str, float]:
    """Task seconds per role (summed over hosts), longest first; None: tasks of no role."""
    totals: dict[str, float] = {}
    for record in records:
        role = record["role"] or "(playbook)"
        totals[role] = totals.get(role, 0.0) + record["seconds"]
    return {role: round(total, 1) for role, total in sorted(totals.items(), key=lambda i: -i[1])}


def summarise(records: list[dict], kept: int = KEPT) -> list[dict]:
    """The longest task runs, longest first."""
    return sorted(records, key=lambda r: r["seconds"], reverse=True)[:kept]


def _commit() -> str:
    proc = subprocess.run(
        ["git", "-C", str(config.REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or "unknown"


def converge(
    replica: config.Replica, *args: str, capture: bool = False
) -> tuple[subprocess.CompletedProcess, float, list[dict]]:
    """ansible/site.yml on a replica with the task_profile callback on: the finished process,
    its seconds, and the time of each host's run of each task."""
    with tempfile.TemporaryDirectory(prefix="mlops-converge-") as tmp:
        records = Path(tmp) / "tasks.json"
        started = time.monotonic()
        proc = subprocess.run(
            [
                str(Path(sys.executable).parent / "ansible-playbook"),
                *("-i", str(replica.inventory_dir), "ansible/site.yml", *args),
            ],
            cwd=config.REPO,
            env={**os.environ, "MLOPS_TASK_PROFILE": str(records)},
            capture_output=capture,
            text=True,
            check=False,
        )
        took = time.monotonic() - started
        tasks = json.loads(records.read_text()) if records.exists() else []
    return proc, took, tasks


def measure(up, output: Path = OUTPUT) -> dict:
    """Build the profile replica with `up` (local.__main__.up), converge it, write the file."""
    with tempfile.TemporaryDirectory(prefix="mlops-profile-") as tmp:
        base = Path(tmp)
        inventory.link_group_vars(
            config.REPO / "inventories" / "local" / "group_vars", base / "inventory" / "group_vars"
        )
        replica = config.Replica(
            name="mlops-profile",
            subnet="10.89.62.0/24",
            state_dir=base / "state",
            inventory_dir=base / "inventory",
        )
        hosts.remove(replica, purge=True)
        try:
            up(replica)
            proc, took, records = converge(replica, "-e", "python_service_wheelhouse=")
            if proc.returncode != 0:
                raise SystemExit(f"profile: ansible/site.yml failed ({proc.returncode})")
            longest = summarise(records)
        finally:
            hosts.remove(replica, purge=True)
    profile = {
        "what": "ansible/site.yml on new hosts, virtualenvs from the package index (as on EC2)",
        "measured": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": {"cores": os.cpu_count(), "system": platform.platform()},
        "converge_seconds": round(took),
        "longest_tasks": longest,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(profile, indent=2) + "\n")
    return profile
