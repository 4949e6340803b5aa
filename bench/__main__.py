"""`python -m bench [--seconds S]`: measure on the running local replica (`make up` first),
write bench/results/bench-<UTC time>.json and the tables of bench/README.md.

What it measures today: serving (our model API vs `mlflow models serve`). Promotion,
pipeline and provisioning figures are not measured yet (issue 13).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from datetime import UTC, datetime

from bench import report, serving
from local import config, podman, secrets


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo").read().splitlines()  # noqa: SIM115
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    memory_kib = int(open("/proc/meminfo").read().split()[1])  # noqa: SIM115 - MemTotal
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 2**20, 1),
        "cpu": cpu,
        "kernel": platform.release(),
    }


def commit() -> str:
    proc = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=config.REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per cell")
    args = parser.parse_args(argv)
    replica = config.from_env()
    app = next(host for host in replica.hosts if host.name == "app")
    if not podman.exists("container", replica.container(app)):
        raise SystemExit(f"no replica {replica.name} is running: run `make up` first")
    api_key = secrets.load(replica.secrets_file)["secret_model_api_key"]
    taken_at = datetime.now(UTC)
    result = {
        "taken_at": taken_at.isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "replica": replica.name,
        "serving": serving.measure(replica, api_key, args.seconds),
    }
    report.RESULTS.mkdir(exist_ok=True)
    path = report.RESULTS / f"bench-{taken_at:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    report.update_readme(path)
    print(f"bench: {path.relative_to(config.REPO)}; tables in bench/README.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
