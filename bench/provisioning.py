"""Provisioning: ansible/site.yml on the running replica again (idempotent: changed=0
expected), and with --warm the hosts removed and made anew with the caches kept (the
wheelhouse, the host images, the database's and object store's volumes)."""

from __future__ import annotations

import time

from local import config, hosts, profile
from local.__main__ import up  # the same steps as `make up`


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


def measure(replica: config.Replica, warm: bool) -> dict:
    result = {}
    if warm:
        started = time.monotonic()
        hosts.remove(replica, purge=False)
        up(replica)
        hosts_ready = time.monotonic() - started
        run = converge(replica)
        result["warm"] = {
            "hosts_s": round(hosts_ready, 1),
            "playbook": run,
            "total_s": round(hosts_ready + run["seconds"], 1),
        }
        print(f"provisioning: warm {result['warm']['total_s']} s")
    result["idempotent"] = converge(replica)
    print(
        f"provisioning: idempotent re-run {result['idempotent']['seconds']} s, "
        f"changed={result['idempotent']['changed_total']}"
    )
    return result
