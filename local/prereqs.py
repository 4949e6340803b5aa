"""Install or check what the controller needs before anything else (standard library only).

Runs with the system's python3, before the project's virtualenv exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

# command -> Debian package that provides it
COMMANDS = {
    "podman": "podman",
    "runc": "runc",
    "debootstrap": "debootstrap",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "iptables": "iptables",  # netavark NATs the hosts' traffic with it
    "chromium": "chromium",  # the dashboard's browser tests (Playwright drives it)
    "wrk": "wrk",  # the bench's load generator: its script and parsing are tested here
}
# present as files rather than commands
FILES = {
    "/usr/lib/podman/netavark": "netavark",
    "/usr/lib/podman/aardvark-dns": "aardvark-dns",
}
PYTHON_MODULES = {"venv": "python3-venv", "ensurepip": "python3-venv"}


def missing_packages() -> list[str]:
    wanted = {pkg for cmd, pkg in COMMANDS.items() if shutil.which(cmd) is None}
    wanted |= {pkg for path, pkg in FILES.items() if not os.path.exists(path)}
    for module, pkg in PYTHON_MODULES.items():
        probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
        if probe.returncode != 0:
            wanted.add(pkg)
    return sorted(wanted)


def install(packages: list[str]) -> None:
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            raise SystemExit(
                "missing packages: "
                + " ".join(packages)
                + "\nrun as root: apt-get install -y "
                + " ".join(packages)
            )
        prefix = [sudo]
    else:
        prefix = []
    if shutil.which("apt-get") is None:
        raise SystemExit(
            "this needs a Debian or Ubuntu controller (apt-get); install by hand: "
            + " ".join(packages)
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("prereqs: installing " + " ".join(packages), flush=True)
    subprocess.run([*prefix, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        [*prefix, "apt-get", "install", "-y", "-qq", *packages],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def main() -> int:
    missing = missing_packages()
    if missing:
        install(missing)
        still = missing_packages()
        if still:
            raise SystemExit("still missing after install: " + " ".join(still))
    return 0


if __name__ == "__main__":
    sys.exit(main())
