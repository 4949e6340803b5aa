"""`python -m local up|down|status|secrets|urls`: manage the local replica."""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from local import config, hosts, image, inventory, locks, podman, secrets, tls, wheelhouse


def up(replica: config.Replica) -> None:
    started = time.monotonic()
    if not podman.available():
        raise SystemExit("podman is missing: run `make prereqs` (or apt-get install podman runc)")
    if os.geteuid() != 0:
        raise SystemExit(
            "the local replica needs root (rootful podman: the controller reaches the hosts on "
            "their own network): run `sudo make up`"
        )
    generated = secrets.ensure(replica.secrets_file)
    if generated:
        print(f"secrets: generated {len(generated)} new value(s) in {replica.secrets_file}")
    public_key = hosts.ensure_ssh_key(replica)
    tls.ensure(replica.tls_dir, replica.name, servers(replica))
    fingerprints = image.ensure_all({h.debian for h in replica.hosts})
    wheelhouse.ensure()
    hosts.ensure_network(replica)
    for name in hosts.prune(replica):
        print(f"scale: {name} is beyond {config.format_scale(replica.scale)}")
    replica.scale_file.parent.mkdir(parents=True, exist_ok=True)
    replica.scale_file.write_text(config.format_scale(replica.scale) + "\n")
    done = {h.name: hosts.ensure_host(replica, h, fingerprints[h.debian]) for h in replica.hosts}
    with ThreadPoolExecutor(max_workers=len(replica.hosts)) as pool:
        list(pool.map(lambda h: hosts.wait_booted(replica, h), replica.hosts))
    lines = []
    for host in replica.hosts:
        hosts.authorize(replica, host, public_key)
        lines.append(hosts.host_key_line(replica, host))
    replica.known_hosts.write_text("\n".join(lines) + "\n")
    with ThreadPoolExecutor(max_workers=len(replica.hosts)) as pool:
        list(pool.map(lambda h: hosts.wait_ssh(replica, h), replica.hosts))
    path = inventory.write(replica)
    took = time.monotonic() - started
    print(
        f"replica {replica.name} ({config.format_scale(replica.scale)}): "
        f"{len(replica.hosts)} hosts up "
        f"({', '.join(f'{name} {what}' for name, what in done.items())}) in {took:.1f}s; "
        f"inventory {path}"
    )


def servers(replica: config.Replica) -> list[tls.Server]:
    return [
        tls.Server(
            h.name,
            replica.ip(h),
            replica.service_names() if "load_balancer" in h.groups else (),
        )
        for h in replica.hosts
    ]


def status(replica: config.Replica) -> int:
    down = 0
    for host in replica.hosts:
        info = podman.inspect("container", replica.container(host))
        state = (info or {}).get("State", {}).get("Status", "absent")
        down += state != "running"
        print(f"{host.name:8} {replica.ip(host):15} {state:10} groups={','.join(host.groups)}")
    return 1 if down else 0


def urls(replica: config.Replica) -> None:
    by_group: dict[str, str] = {}  # the first host of each group (app, not app-2)
    for host in replica.hosts:
        for group in host.groups:
            by_group.setdefault(group, replica.ip(host))
    print("\nLocal platform")
    print(
        f"  MLflow UI and API          http://{by_group['mlflow']}:5000  user admin, "
        "password secret_mlflow_admin_password"
    )
    print(
        f"  Airflow UI and API         http://{by_group['airflow']}:8080  user admin, "
        "password secret_airflow_admin_password"
    )
    print(
        f"  Dashboard                  http://{by_group['app']}:8501  user admin, "
        "password secret_dashboard_password"
    )
    print(
        f"  Model API (OpenAPI docs)   http://{by_group['app']}:8000/docs  header X-API-Key: "
        "secret_model_api_key"
    )
    print(f"  PostgreSQL (RDS stand-in)  {by_group['database']}:5432  database 'mlops'")
    print(f"  S3 (SeaweedFS)             http://{by_group['object_store']}:8333")
    print(
        f"  SSH                        ssh -i {replica.ssh_key} "
        f"-o UserKnownHostsFile={replica.known_hosts} admin@<host ip>"
    )
    print(f"  Credentials                {replica.secrets_file} (mode 0600, git-ignored)")
    names = " ".join(replica.service_names())
    print(f"\nThrough the load balancer, as on AWS (HTTPS, the CA {replica.tls_dir}/ca.crt)")
    for name in replica.service_names():
        print(f"  https://{name}")
    print(
        f"  The names resolve to {by_group['load_balancer']} once /etc/hosts has the line\n"
        f"    {by_group['load_balancer']} {names}\n"
        f"  or per command: curl --cacert {replica.tls_dir}/ca.crt "
        f"--resolve {replica.service_name('api')}:443:{by_group['load_balancer']} "
        f"https://{replica.service_name('api')}/health"
    )
    workers = [h.name for h in replica.hosts if "airflow_worker" in h.groups]
    executor = f"CeleryExecutor on {', '.join(workers)}" if workers else "LocalExecutor"
    print(f"\nScale: {config.format_scale(replica.scale)}; Airflow runs tasks with {executor}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="build the image and start (or repair) the hosts")
    down = sub.add_parser("down", help="remove the hosts and network")
    down.add_argument("--purge", action="store_true", help="also remove their data volumes")
    sub.add_parser("status", help="show each host's state")
    sub.add_parser("secrets", help="generate missing secrets")
    sub.add_parser("urls", help="print where each service answers")
    lock = sub.add_parser("locks", help="re-resolve the services' locks whose pins changed")
    lock.add_argument("--check", action="store_true", help="only list stale locks; fail if any")
    sub.add_parser("wheelhouse", help="download the locked wheels the cache lacks")
    sub.add_parser("profile", help="time each task of a cold converge from the package index")
    cert = sub.add_parser("tls", help="a CA and server certificates in a directory (molecule)")
    cert.add_argument("directory", type=Path)
    cert.add_argument("servers", nargs="+", metavar="NAME=ADDRESS")
    args = parser.parse_args(argv)
    replica = config.from_env()
    try:
        if args.command == "up":
            up(replica)
        elif args.command == "down":
            hosts.remove(replica, purge=args.purge)
        elif args.command == "status":
            return status(replica)
        elif args.command == "secrets":
            secrets.ensure(replica.secrets_file)
        elif args.command == "urls":
            urls(replica)
        elif args.command == "locks":
            return locks.main(check=args.check)
        elif args.command == "wheelhouse":
            print(f"wheelhouse: {wheelhouse.ensure()}")
        elif args.command == "profile":
            from local import profile

            longest = profile.measure(up)["longest_tasks"][0]
            print(f"profile: {profile.OUTPUT}; longest {longest['seconds']} s: {longest['task']}")
        elif args.command == "tls":
            pairs = [s.partition("=") for s in args.servers]
            tls.ensure(args.directory, "molecule", [tls.Server(n, a) for n, _, a in pairs])
    except podman.PodmanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
