"""Every service's virtualenv, locked: its pins resolved into a full, hashed list per Python.

A service's top-level pins are a `requirements.in` (name==version lines; `-r FILE` includes
another pins file, relative to it). Its locks sit beside it, one per Python version the hosts
run: `requirements-py311.lock`, made by uv with every dependency pinned and hashed. The hosts
install the lock (`pip --require-hashes`), never the pins. A lock records a digest of the pins
it was made from, so a stale lock is found without a network (tests/local/test_locks.py).

`python -m local locks` (`make locks`) rewrites the locks whose pins changed.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from local.config import REPO

# The hosts' Python versions: Debian 12's python3 (the replica's image and the EC2 AMI).
PYTHONS = ("3.11",)
# glibc of Debian 12, the oldest the hosts run: wheels up to this manylinux level install.
MANYLINUX = "manylinux_2_36"
DIGEST_PREFIX = "# pins-sha256: "
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9,._-]+\])?==([A-Za-z0-9.+!-]+)$")
_INCLUDE = re.compile(r"^-r\s+(\S+)$")


def normalize(name: str) -> str:
    """A project name as PyPI compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def sources(root: Path = REPO) -> list[Path]:
    """Every service's pins file: roles/<role>/files/requirements.in (and test scenarios')."""
    return sorted(p for p in root.glob("roles/**/requirements.in") if ".venv" not in p.parts)


def pins(source: Path) -> list[str]:
    """The pins of a requirements.in, includes followed, as `name[extras]==version` lines.

    Anything but a pin or an include is an error: the lock would depend on what the resolver
    picks that day."""
    found: list[str] = []
    for number, raw in enumerate(source.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        include = _INCLUDE.match(line)
        if include:
            found += pins((source.parent / include.group(1)).resolve())
        elif _PIN.match(line):
            found.append(line)
        else:
            raise ValueError(f"{source}:{number}: {raw.strip()!r} is not pinned as name==version")
    return found


def pins_digest(source: Path, python: str) -> str:
    """What a lock is made from: the sorted pins and the Python version."""
    text = "\n".join([f"python {python}", *sorted(set(pins(source)))])
    return hashlib.sha256(text.encode()).hexdigest()


def lock_path(source: Path, python: str) -> Path:
    return source.parent / f"requirements-py{python.replace('.', '')}.lock"


@dataclass(frozen=True)
class Locked:
    """One pinned distribution of a lock and the hashes of its files."""

    name: str
    version: str
    hashes: tuple[str, ...]


def read(lock: Path) -> tuple[str, list[Locked]]:
    """A lock's recorded pins digest and its entries."""
    text = lock.read_text()
    digest = next(
        (ln[len(DIGEST_PREFIX) :] for ln in text.splitlines() if ln.startswith(DIGEST_PREFIX)), ""
    )
    entries: list[Locked] = []
    # an entry: `name==version \` then `    --hash=sha256:...` continuation lines
    for block in re.split(r"\n(?=\S)", text):
        head = block.split()[0] if block.strip() else ""
        match = _PIN.match(head)
        if match and not block.startswith("#"):
            entries.append(
                Locked(
                    name=normalize(match.group(1)),
                    version=match.group(3),
                    hashes=tuple(re.findall(r"--hash=(sha256:[0-9a-f]{64})", block)),
                )
            )
    return digest, entries


def problems(source: Path, python: str) -> list[str]:
    """Why the lock of one pins file is stale or unusable; empty when it is current."""
    lock = lock_path(source, python)
    name = lock.relative_to(REPO) if lock.is_relative_to(REPO) else lock
    if not lock.exists():
        return [f"{name}: missing (run `make locks`)"]
    digest, entries = read(lock)
    found: list[str] = []
    if digest != pins_digest(source, python):
        found.append(f"{name}: made from other pins than {source.name}'s (run `make locks`)")
    locked = {e.name: e.version for e in entries}
    for pin in pins(source):
        name, version = pin.split("==")
        want = normalize(name.split("[")[0])
        if locked.get(want) != version:
            found.append(f"{name}: pins {want}=={version}, the lock has {locked.get(want)}")
    found += [f"{name}: {e.name}=={e.version} has no hash" for e in entries if not e.hashes]
    return found


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        raise SystemExit("uv is missing: run `make venv` (requirements.txt pins it)")
    return found


def compile_lock(source: Path, python: str) -> Path:
    """Resolve one pins file for one Python version into its lock (uv, from the index).

    The versions the old lock holds are kept where the new pins allow them (uv reads its
    output file as preferences): adding a pin adds what it needs and moves nothing else."""
    lock = lock_path(source, python)
    arch = platform.machine()
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / lock.name
        if lock.exists():
            shutil.copyfile(lock, output)
        proc = subprocess.run(
            [
                uv(),
                "pip",
                "compile",
                source.name,
                "--output-file",
                str(output),
                "--generate-hashes",
                "--no-header",
                "--quiet",
                "--python-version",
                python,
                "--python-platform",
                f"{arch}-{MANYLINUX}",
            ],
            cwd=source.parent,
            env={**os.environ, "UV_NO_CONFIG": "1"},
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"locks: uv could not resolve {source}:\n{proc.stderr}")
        resolved = output.read_text()
    rel = source.relative_to(REPO) if source.is_relative_to(REPO) else source
    header = (
        f"# {rel} locked for Python {python} on {arch} Linux: every dependency, pinned\n"
        "# and hashed. Written by `make locks`; do not edit.\n"
        f"{DIGEST_PREFIX}{pins_digest(source, python)}\n"
    )
    lock.write_text(header + resolved)
    return lock


def main(check: bool = False) -> int:
    """Rewrite the stale locks (or, with check, list them and fail)."""
    stale = [(s, py) for s in sources() for py in PYTHONS if problems(s, py)]
    if check:
        for source, python in stale:
            print("\n".join(problems(source, python)))
        return 1 if stale else 0
    for source, python in stale:
        print(f"locks: {compile_lock(source, python).relative_to(REPO)}", flush=True)
    return 0
