"""A thin wrapper around the podman CLI with the project's containers.conf."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence

from local.config import CONTAINERS_CONF


class PodmanError(RuntimeError):
    """A podman command failed; the message carries its stderr."""


def env() -> dict[str, str]:
    """The environment podman runs with: ours, plus the project's containers.conf."""
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def available() -> bool:
    return shutil.which("podman") is not None


def run(
    *args: str, check: bool = True, input: bytes | None = None, capture: bool = True
) -> subprocess.CompletedProcess[bytes]:
    """Run `podman ARGS`; raise PodmanError with stderr when it fails and check is set."""
    proc = subprocess.run(
        ["podman", *args],
        env=env(),
        input=input,
        capture_output=capture,
        check=False,
    )
    if check and proc.returncode != 0:
        err = (proc.stderr or b"").decode(errors="replace").strip()
        raise PodmanError(f"podman {' '.join(args[:3])} failed ({proc.returncode}): {err}")
    return proc


def exists(kind: str, name: str) -> bool:
    """Whether a container, network, volume or image of that name exists."""
    if kind not in {"container", "network", "volume", "image"}:
        raise ValueError(f"podman has no {kind!r} objects")
    return run(kind, "exists", name, check=False).returncode == 0


def inspect(kind: str, name: str) -> dict | None:
    proc = run(kind, "inspect", name, check=False)
    if proc.returncode != 0:
        return None
    data = json.loads(proc.stdout or b"[]")
    return data[0] if data else None


def labelled(kind: str, label: str) -> list[str]:
    """The names of the containers or volumes that carry a label (key=value)."""
    field = {"container": "{{.Names}}", "volume": "{{.Name}}"}[kind]
    listing = ("ps", "--all") if kind == "container" else ("volume", "ls")
    proc = run(*listing, "--filter", f"label={label}", "--format", field)
    return sorted(proc.stdout.decode().split())


def exec_(container: str, argv: Sequence[str], input: bytes | None = None) -> str:
    flags = ["-i"] if input is not None else []
    return run("exec", *flags, container, *argv, input=input).stdout.decode()


def remove_container(name: str, attempts: int = 3) -> None:
    """Remove a container, also one whose processes died with an earlier session.

    For such a container podman still says "running"; the first `rm --force` fails waiting
    for an exit file that nobody writes, but records the container as exited, and the next
    attempt removes it (seen with podman 4.3).
    """
    err = ""
    for _ in range(attempts):
        proc = run("rm", "--force", "--time", "10", name, check=False)
        if proc.returncode == 0 or not exists("container", name):
            return
        err = proc.stderr.decode(errors="replace").strip()
        time.sleep(1)
    raise PodmanError(f"podman rm {name} failed {attempts} times: {err}")
