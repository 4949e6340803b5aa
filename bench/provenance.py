"""Where a figure comes from: the machine and the commit it was measured on."""

from __future__ import annotations

import os
import platform
import subprocess

from local import config


def machine() -> dict:
    with open("/proc/cpuinfo") as handle:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")),
            platform.machine(),
        )
    with open("/proc/meminfo") as handle:
        memory_kib = int(handle.readline().split()[1])  # MemTotal
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
