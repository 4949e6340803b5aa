"""Build the hosts' Debian images from scratch: debootstrap, customise, `podman import`.

One image per Debian release a host runs (config.RELEASES): 12 for most hosts, 13 for the
database host, whose PostgreSQL major must be RDS's (17). No registry is involved. The
debootstrap tree (the slow, download-heavy part, ~45 s) is cached
as a tarball under ~/.cache/mlops-platform; the customisation is cheap and redone whenever its
inputs change, which the image's label records.
"""

from __future__ import annotations

import configparser
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from local import podman
from local.config import IMAGE_LABEL, RELEASES, SSH_USER, cache_dir, image_name

MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "sudo",
    "python3",
    "python3-apt",
    "iproute2",
    "ca-certificates",
)
CONTROLLER_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CONTROLLER_PIP_CONF = Path("/etc/pip.conf")
# pip settings that make sense on another machine; local paths (find-links, constraints) do not
PIP_KEYS = ("index-url", "extra-index-url", "trusted-host", "timeout", "retries")
PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\s.+?-----END CERTIFICATE-----", re.DOTALL)

FILES: dict[str, str] = {
    f"etc/sudoers.d/90-{SSH_USER}": f"{SSH_USER} ALL=(ALL) NOPASSWD:ALL\n",
    # Each host makes its own SSH host keys at first boot instead of sharing the image's.
    "etc/systemd/system/ssh.service.d/10-host-keys.conf": (
        "[Service]\n"
        "ExecStartPre=\n"
        "ExecStartPre=/usr/bin/ssh-keygen -A\n"
        "ExecStartPre=/usr/sbin/sshd -t\n"
    ),
    # Empty: systemd gives every container its own machine id at boot.
    "etc/machine-id": "",
}


def sources_list(suite: str) -> str:
    return (
        f"deb {MIRROR} {suite} main\n"
        f"deb {MIRROR} {suite}-updates main\n"
        f"deb {SECURITY_MIRROR} {suite}-security main\n"
    )


def base_tarball(release: int) -> Path:
    """The debootstrap tree as a tarball, built once per release and package list, reused."""
    suite = RELEASES[release]
    key = hashlib.sha256("\n".join((suite, MIRROR, *PACKAGES)).encode()).hexdigest()[:12]
    path = cache_dir() / "images" / f"debian-{suite}-minbase-{key}.tar"
    if path.exists():
        return path
    if shutil.which("debootstrap") is None:
        raise SystemExit("debootstrap is missing: run `make prereqs` (apt-get install debootstrap)")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        root = Path(tmp) / "rootfs"
        print(f"image: debootstrap {suite} into the cache (about a minute, once)", flush=True)
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                suite,
                str(root),
                MIRROR,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        partial = Path(tmp) / "rootfs.tar"
        subprocess.run(
            ["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."], check=True
        )
        partial.rename(path)
    return path


def extra_cas(controller_bundle: bytes, host_bundle: bytes) -> list[bytes]:
    """Certificates the controller trusts and a stock Debian host does not (a proxy's CA)."""
    known = {re.sub(rb"\s", b"", c) for c in PEM.findall(host_bundle)}
    extra: list[bytes] = []
    for cert in PEM.findall(controller_bundle):
        norm = re.sub(rb"\s", b"", cert)
        if norm not in known:
            known.add(norm)
            extra.append(cert + b"\n")
    return extra


def pip_conf(controller_conf: str, env: dict[str, str]) -> str:
    """The hosts' /etc/pip.conf: the controller's index settings, the system CA bundle."""
    parser = configparser.ConfigParser()
    parser.read_string(controller_conf)
    lines = ["[global]", "cert = /etc/ssl/certs/ca-certificates.crt"]
    section = parser["global"] if parser.has_section("global") else {}
    for key in PIP_KEYS:
        value = env.get(f"PIP_{key.upper().replace('-', '_')}") or section.get(key)
        if key == "timeout":
            value = value or env.get("PIP_DEFAULT_TIMEOUT")
        kept = " ".join(v for v in (value or "").split() if not v.startswith("file:"))
        if kept:
            lines.append(f"{key} = {kept}")
    return "\n".join(lines) + "\n"


def inputs(release: int) -> dict[str, bytes]:
    """Everything that goes into the image besides the cached tree, by name."""
    data = {name: content.encode() for name, content in FILES.items()}
    data["etc/apt/sources.list"] = sources_list(RELEASES[release]).encode()
    data["ca-bundle"] = CONTROLLER_CA_BUNDLE.read_bytes() if CONTROLLER_CA_BUNDLE.exists() else b""
    pip = CONTROLLER_PIP_CONF.read_text() if CONTROLLER_PIP_CONF.exists() else ""
    data["etc/pip.conf"] = pip_conf(pip, dict(os.environ)).encode()
    data["packages"] = "\n".join((RELEASES[release], MIRROR, *PACKAGES)).encode()
    data["customise"] = Path(__file__).read_bytes()
    return data


def fingerprint(data: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(data):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data[name]).digest())
    return digest.hexdigest()[:16]


def current_fingerprint(release: int) -> str | None:
    info = podman.inspect("image", image_name(release))
    if not info:
        return None
    return ((info.get("Config") or {}).get("Labels") or {}).get(IMAGE_LABEL)


def customise(root: Path, data: dict[str, bytes]) -> None:
    """Turn the debootstrap tree into a host: login user, sudo, SSH, apt, the controller's CAs."""
    for name in (*FILES, "etc/apt/sources.list"):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data[name])
    (root / f"etc/sudoers.d/90-{SSH_USER}").chmod(0o440)
    (root / "etc/pip.conf").write_bytes(data["etc/pip.conf"])
    for key in root.glob("etc/ssh/ssh_host_*"):
        key.unlink()
    # dbus's copy of the machine id would give every host the same one; link it, as Debian does.
    dbus_id = root / "var/lib/dbus/machine-id"
    dbus_id.unlink(missing_ok=True)
    dbus_id.symlink_to("/etc/machine-id")
    host_bundle = (root / "etc/ssl/certs/ca-certificates.crt").read_bytes()
    cas = root / "usr/local/share/ca-certificates/controller"
    cas.mkdir(parents=True, exist_ok=True)
    for i, cert in enumerate(extra_cas(data["ca-bundle"], host_bundle)):
        (cas / f"controller-{i:03d}.crt").write_bytes(cert)
    chroot = ["chroot", str(root)]
    subprocess.run([*chroot, "update-ca-certificates"], check=True, capture_output=True)
    subprocess.run(
        [*chroot, "useradd", "--create-home", "--shell", "/bin/bash", "--groups", "sudo", SSH_USER],
        check=True,
    )
    subprocess.run([*chroot, "apt-get", "clean"], check=True)
    # No package lists in the image, and nothing that says they are fresh: the first apt task
    # on a host (update_cache with cache_valid_time) fetches current ones.
    lists = root / "var/lib/apt/lists"
    for child in lists.glob("*"):
        if child.is_file():
            child.unlink()
    os.utime(lists, (0, 0))
    for leftover in ("var/lib/apt/periodic/update-success-stamp", "var/log/bootstrap.log"):
        (root / leftover).unlink(missing_ok=True)


def ensure_all(releases: set[int]) -> dict[int, str]:
    """Build the image of each release (at once: debootstrap mostly waits on the mirror);
    return their fingerprints by release."""
    with ThreadPoolExecutor(max_workers=len(releases)) as pool:
        return dict(zip(sorted(releases), pool.map(ensure, sorted(releases)), strict=True))


def ensure(release: int) -> str:
    """Build the image unless one with the same inputs exists; return its fingerprint."""
    data = inputs(release)
    wanted = fingerprint(data)
    if current_fingerprint(release) == wanted:
        return wanted
    tarball = base_tarball(release)
    print(f"image: building {image_name(release)} ({wanted})", flush=True)
    with tempfile.TemporaryDirectory(dir=tarball.parent) as tmp:
        root = Path(tmp) / "rootfs"
        root.mkdir()
        subprocess.run(
            ["tar", "-C", str(root), "--numeric-owner", "-xpf", str(tarball)], check=True
        )
        customise(root, data)
        out = Path(tmp) / "image.tar"
        subprocess.run(
            ["tar", "-C", str(root), "--numeric-owner", "-cf", str(out), "."], check=True
        )
        podman.run(
            "import",
            "--change",
            'CMD ["/sbin/init"]',
            "--change",
            "STOPSIGNAL SIGRTMIN+3",
            "--change",
            f"LABEL {IMAGE_LABEL}={wanted}",
            str(out),
            image_name(release),
        )
    return wanted
