"""Start, check and remove the replica's hosts; give them the controller's SSH key."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from local import podman, wheelhouse
from local.config import (
    DEFAULT_CPU_SHARES,
    IMAGE_LABEL,
    REPLICA_LABEL,
    SPEC_LABEL,
    SSH_USER,
    Host,
    Replica,
)

BOOT_TIMEOUT = 90.0


def ensure_network(replica: Replica) -> None:
    if podman.exists("network", replica.network):
        info = podman.inspect("network", replica.network) or {}
        subnets = [s.get("subnet") for s in info.get("subnets") or []]
        if replica.network_cidr not in subnets:
            raise SystemExit(
                f"network {replica.network} exists with subnets {subnets}, not "
                f"{replica.network_cidr}: run `make down` first or set MLOPS_REPLICA_SUBNET"
            )
        return
    podman.run(
        "network",
        "create",
        "--subnet",
        replica.network_cidr,
        "--gateway",
        replica.gateway,
        "--label",
        f"{REPLICA_LABEL}={replica.name}",
        replica.network,
    )


def _healthy(container: str) -> bool:
    """A running container whose systemd answers (after a crash podman may still say running)."""
    proc = podman.run("exec", container, "systemctl", "is-system-running", check=False)
    state = proc.stdout.decode().strip()
    return state in {"running", "degraded", "starting", "initializing"}


def _state(replica: Replica, host: Host, fingerprint: str) -> str:
    """ "absent", "foreign" (made differently), "healthy", or "down" (ours, not answering)."""
    info = podman.inspect("container", replica.container(host))
    if not info:
        return "absent"
    labels = (info.get("Config") or {}).get("Labels") or {}
    if labels.get(SPEC_LABEL) != spec(replica, host, fingerprint):
        return "foreign"
    state = info.get("State") or {}
    if not (state.get("Running") and _alive(state.get("Pid", 0))):
        return "down"  # no `podman exec` here: into a dead host it wedges podman's state
    return "healthy" if _healthy(replica.container(host)) else "down"


def _alive(pid: int) -> bool:
    """Whether the host's init still runs (podman may say "running" after it died)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _restart(name: str) -> bool:
    """Start a stopped host again, keeping what is installed in it; False if podman can't.

    A host whose processes died (a killed session, a reboot) still looks "running" to podman;
    the first stop only records that it exited.
    """
    for _ in range(2):
        podman.run("stop", "--time", "10", name, check=False)
    return podman.run("start", name, check=False).returncode == 0


def spec(replica: Replica, host: Host, fingerprint: str) -> str:
    """A digest of how the host is made (image and `podman run` arguments)."""
    digest = hashlib.sha256("\0".join(_run_args(replica, host, fingerprint)).encode())
    return digest.hexdigest()[:16]


def run_args(replica: Replica, host: Host, fingerprint: str) -> list[str]:
    """The `podman run` arguments of one host, labelled with their own digest."""
    args = _run_args(replica, host, fingerprint)
    return [*args[:-1], "--label", f"{SPEC_LABEL}={spec(replica, host, fingerprint)}", args[-1]]


def _run_args(replica: Replica, host: Host, fingerprint: str) -> list[str]:
    args = [
        "run",
        "--detach",
        "--name",
        replica.container(host),
        "--hostname",
        host.name,
        "--network",
        replica.network,
        "--ip",
        replica.ip(host),
        "--mac-address",
        replica.mac(host),
        "--systemd",
        "always",
        "--label",
        f"{REPLICA_LABEL}={replica.name}",
        "--label",
        f"{IMAGE_LABEL}={fingerprint}",
    ]
    if host.cpu_shares != DEFAULT_CPU_SHARES:
        args += ["--cpu-shares", str(host.cpu_shares)]
    for other in replica.resolvable:
        if other.name != host.name:
            args += ["--add-host", f"{other.name}:{replica.ip(other)}"]
    for suffix, mount in host.volumes.items():
        args += ["--volume", f"{replica.volume(host, suffix)}:{mount}"]
    # the controller's wheelhouse, read-only: the virtualenvs install from it (no index)
    args += ["--volume", f"{wheelhouse.path()}:{wheelhouse.MOUNT}:ro"]
    return [*args, host.image]


def ensure_host(replica: Replica, host: Host, fingerprint: str) -> str:
    """Create, restart or keep one host; return what was done: kept, started or created."""
    name = replica.container(host)
    state = _state(replica, host, fingerprint)
    if state == "healthy":
        return "kept"
    if state == "down":
        if _restart(name):
            return "started"
        print(f"host {host.name}: {name} does not start again; replacing it")
    if state != "absent":
        if state == "foreign":
            print(f"host {host.name}: replacing {name} (made from another image or spec)")
        podman.remove_container(name)
    for suffix in host.volumes:
        vol = replica.volume(host, suffix)
        if not podman.exists("volume", vol):
            podman.run("volume", "create", "--label", f"{REPLICA_LABEL}={replica.name}", vol)
    podman.run(*run_args(replica, host, fingerprint))
    return "created"


def wait_booted(replica: Replica, host: Host, timeout: float = BOOT_TIMEOUT) -> None:
    name = replica.container(host)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc = podman.run("exec", name, "systemctl", "is-active", "ssh", check=False)
        if proc.stdout.decode().strip() == "active":
            return
        time.sleep(0.5)
    status = podman.run("exec", name, "systemctl", "--failed", "--no-pager", check=False)
    raise SystemExit(
        f"host {host.name}: sshd not active after {timeout:.0f}s\n"
        f"{status.stdout.decode()}{status.stderr.decode()}"
    )


def ensure_ssh_key(replica: Replica) -> str:
    """The controller's key for the replica, generated once; returns the public key."""
    key = replica.ssh_key
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        subprocess.run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                f"{replica.name}-controller",
                "-f",
                str(key),
            ],
            check=True,
        )
    return key.with_suffix(".pub").read_text().strip()


def authorize(replica: Replica, host: Host, public_key: str) -> None:
    """Install the controller's key for the login user (idempotent, every run)."""
    home = f"/home/{SSH_USER}"
    script = (
        f"install -d -m 0700 -o {SSH_USER} -g {SSH_USER} {home}/.ssh && "
        f"cat > {home}/.ssh/authorized_keys && "
        f"chown {SSH_USER}:{SSH_USER} {home}/.ssh/authorized_keys && "
        f"chmod 0600 {home}/.ssh/authorized_keys"
    )
    podman.exec_(replica.container(host), ["sh", "-c", script], input=(public_key + "\n").encode())


def host_key_line(replica: Replica, host: Host) -> str:
    pub = podman.exec_(replica.container(host), ["cat", "/etc/ssh/ssh_host_ed25519_key.pub"])
    algo, key = pub.split()[:2]
    return f"{replica.ip(host)},{host.name} {algo} {key}"


def wait_ssh(replica: Replica, host: Host, timeout: float = 30.0) -> None:
    """Wait until the host answers SSH with the controller's key and a verified host key."""
    ip = replica.ip(host)
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((ip, 22), timeout=2):
                pass
        except OSError as exc:
            last = str(exc)
            time.sleep(0.3)
            continue
        proc = subprocess.run(
            ["ssh", *ssh_options(replica), f"{SSH_USER}@{ip}", "true"],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode == 0:
            return
        last = proc.stderr.strip()
        time.sleep(0.5)
    raise SystemExit(f"host {host.name}: no SSH login at {ip} after {timeout:.0f}s: {last}")


def ssh_options(replica: Replica) -> list[str]:
    return [
        "-i",
        str(replica.ssh_key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        f"UserKnownHostsFile={replica.known_hosts}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "ConnectTimeout=5",
    ]


def prune(replica: Replica) -> list[str]:
    """Remove the replica's hosts that its scale no longer has (their volumes stay)."""
    wanted = {replica.container(h) for h in replica.hosts}
    extra = [c for c in podman.labelled("container", _label(replica)) if c not in wanted]
    _remove_all(extra)
    return extra


def remove(replica: Replica, purge: bool) -> None:
    """Remove every host of the replica (of any scale) and its network; with purge, their data
    volumes too."""
    _remove_all(podman.labelled("container", _label(replica)))
    if purge:
        for vol in podman.labelled("volume", _label(replica)):
            podman.run("volume", "rm", "--force", vol)
            print(f"volume {vol} removed")
    if podman.exists("network", replica.network):
        podman.run("network", "rm", "--force", replica.network)
    replica.scale_file.unlink(missing_ok=True)


def _label(replica: Replica) -> str:
    return f"{REPLICA_LABEL}={replica.name}"


def _remove_all(containers: list[str]) -> None:
    def remove_one(name: str) -> None:
        # each host's systemd takes up to podman's stop timeout to shut down: all at once
        podman.remove_container(name)
        print(f"host {name}: removed")

    with ThreadPoolExecutor(max_workers=len(containers) or 1) as pool:
        list(pool.map(remove_one, containers))
