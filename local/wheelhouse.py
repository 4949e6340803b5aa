"""The wheelhouse: every locked wheel of every service, downloaded once into the user's cache.

The replica's hosts and molecule's instances mount it read-only and install from it with
`pip --no-index --require-hashes`: no host downloads a package, and a host converges with no
package index at all. It is filled from the locks (local/locks.py) for the hosts' Python and
platform, whatever the controller runs, and kept between runs and clones: a lock whose wheels
are all there costs nothing.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
import time
from pathlib import Path

from local import locks
from local.config import REPO, cache_dir

# Where the hosts see it (a read-only mount); group_vars point python_service at it.
MOUNT = "/var/cache/mlops-platform/wheels"


def path() -> Path:
    return cache_dir() / "wheels"


def all_locks() -> list[Path]:
    return [locks.lock_path(s, py) for s in locks.sources() for py in locks.PYTHONS]


def _stamp(lock: Path) -> Path:
    """Marks a lock whose wheels are all in the wheelhouse (by the lock's content)."""
    return path() / ".complete" / hashlib.sha256(lock.read_bytes()).hexdigest()[:24]


def download(lock: Path, python: str, dest: Path) -> None:
    """Fetch the wheels of one lock for the hosts' Python and platform (pip checks hashes)."""
    arch = platform.machine()
    version = python.replace(".", "")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--require-hashes",
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            python,
            "--abi",
            f"cp{version}",
            "--abi",
            "abi3",
            "--abi",
            "none",
            *platforms(arch),
            "--dest",
            str(dest),
            "--requirement",
            str(lock),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"wheelhouse: pip could not download {lock}:\n{proc.stderr[-4000:]}")


def platforms(arch: str) -> list[str]:
    """pip's --platform options for a host with glibc 2.<locks.MANYLINUX>: pip matches the
    tags it is given exactly, so name each older manylinux level (and its legacy alias)."""
    newest = int(locks.MANYLINUX.rsplit("_", 1)[1])
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(newest, 16, -1)]
    tags += [f"manylinux2014_{arch}"]
    return [opt for tag in tags for opt in ("--platform", tag)]


def ensure(which: list[Path] | None = None) -> Path:
    """Download what the locks need and the wheelhouse lacks; return the wheelhouse."""
    dest = path()
    (dest / ".complete").mkdir(parents=True, exist_ok=True)
    for lock in which or all_locks():
        stamp = _stamp(lock)
        if stamp.exists():
            continue
        stale = locks.problems(lock.parent / "requirements.in", _python_of(lock))
        if stale:
            raise SystemExit("wheelhouse: " + "; ".join(stale))
        started = time.monotonic()
        download(lock, _python_of(lock), dest)
        stamp.touch()
        print(f"wheelhouse: {lock.relative_to(REPO)} ready in {time.monotonic() - started:.0f}s")
    return dest


def _python_of(lock: Path) -> str:
    """requirements-py311.lock -> 3.11"""
    digits = lock.stem.removeprefix("requirements-py")
    return f"{digits[0]}.{digits[1:]}"
