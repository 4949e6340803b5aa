"""Provisioning: ansible/site.yml on the running replica again (idempotent: changed=0
expected); with --warm the hosts removed and made anew with the caches kept (the wheelhouse,
the host images, the database's and object store's volumes); with --cold made anew as on a
new machine: no host image, no wheelhouse, no data (the replica's runs, models and users are
gone after it, as `make down PURGE=1` leaves them)."""

from __future__ import annotations

import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from local import config, hosts, podman, profile
from local.__main__ import up  # the same steps as `make up`

# What a cold run starts without: the base images' tarballs and the wheelhouse (under
# config.cache_dir()), and the host images made from them.
COLD_CACHES = ("images", "wheels")


def converge(replica: config.Replica) -> dict:
    """One run of ansible/site.yml: seconds, changed per host, task seconds per role."""
    proc, took, tasks = profile.converge(replica, capture=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ansible/site.yml failed ({proc.returncode}): {proc.stdout[-3000:]}")
    changed = profile.recap(proc.stdout)
    return {
        "seconds": round(took, 1),
        "changed": changed,
        "changed_total": sum(changed.values()),
        "task_seconds_by_role": profile.by_role(tasks),
    }


def anew(replica: config.Replica, purge: bool) -> dict:
    """The hosts removed (with their data when `purge`) and made as `make up` makes them."""
    started = time.monotonic()
    hosts.remove(replica, purge=purge)
    up(replica)
    hosts_ready = time.monotonic() - started
    run = converge(replica)
    return {
        "hosts_s": round(hosts_ready, 1),
        "playbook": run,
        "total_s": round(hosts_ready + run["seconds"], 1),
    }


@contextmanager
def without_caches(replica: config.Replica, cache: Path):
    """The replica's host images removed and COLD_CACHES moved aside, for a run that makes
    them anew; what it made is kept, and what was moved aside is put back if it fails."""
    images = sorted({config.image_name(host.debian) for host in replica.hosts})
    for image in images:
        if podman.exists("image", image):
            # not --force: an image another replica's hosts run from stays, and says so
            podman.run("image", "rm", image)
    aside = cache / ".before-cold-run"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir(parents=True)
    for name in COLD_CACHES:
        if (cache / name).exists():
            (cache / name).rename(aside / name)
    try:
        yield
    except BaseException:
        for name in COLD_CACHES:
            if (aside / name).exists():
                shutil.rmtree(cache / name, ignore_errors=True)
                (aside / name).rename(cache / name)
        raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def measure(replica: config.Replica, warm: bool, cold: bool = False) -> dict:
    result = {}
    if cold:
        hosts.remove(replica, purge=True)  # first: an image stays while hosts run from it
        with without_caches(replica, config.cache_dir()):
            result["cold"] = anew(replica, purge=True)
        print(f"provisioning: cold {result['cold']['total_s']} s")
    if warm:
        result["warm"] = anew(replica, purge=False)
        print(f"provisioning: warm {result['warm']['total_s']} s")
    result["idempotent"] = converge(replica)
    print(
        f"provisioning: idempotent re-run {result['idempotent']['seconds']} s, "
        f"changed={result['idempotent']['changed_total']}"
    )
    return result
