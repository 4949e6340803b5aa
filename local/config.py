"""What a local replica is made of: its hosts, network, paths and the image they run."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONTAINERS_CONF = Path(__file__).resolve().parent / "containers.conf"
# Debian releases the hosts run, by major version. The database host runs 13: its PostgreSQL
# (17) is the major of RDS's engine_version (terraform/modules/database), which Debian 12
# (15) does not ship; the other hosts stay on 12, whose Python 3.11 the locks are made for.
RELEASES = {12: "bookworm", 13: "trixie"}
IMAGE_LABEL = "org.mlops-platform.image-inputs"
REPLICA_LABEL = "org.mlops-platform.replica"
SPEC_LABEL = "org.mlops-platform.spec"
SSH_USER = "admin"  # the login user of Debian's EC2 AMIs, kept the same here

DEFAULT_CPU_SHARES = 1024  # podman's
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,20}$")


@dataclass(frozen=True)
class Host:
    """One local host: its name, the inventory groups it joins, and its persistent paths."""

    name: str
    groups: tuple[str, ...]
    octet: int
    # volume suffix -> mount point; these survive `down` and go with `down --purge`
    volumes: dict[str, str] = field(default_factory=dict)
    debian: int = 12
    # Its share of the machine's cores when they are contended (cgroup cpu.shares): see
    # APP_CPU_SHARES.
    cpu_shares: int = DEFAULT_CPU_SHARES

    @property
    def image(self) -> str:
        return image_name(self.debian)


def image_name(release: int) -> str:
    """The local image of a Debian release, e.g. localhost/mlops-debian:12."""
    if release not in RELEASES:
        raise ValueError(f"Debian {release}: not one of the releases {sorted(RELEASES)}")
    return f"localhost/mlops-debian:{release}"


# On AWS the app host, which takes the API's traffic, is an instance of its own; here every
# host shares the machine's cores. With equal weights, wrk saturating the app host made
# MLflow answer a registry call in up to 3.8 s instead of 0.02-0.14 s (and once 12 s to move an
# alias): the control plane starved by the data plane, which separate instances never are.
# So the app host weighs an eighth of the others: alone on the cores it still gets them all.
APP_CPU_SHARES = 128

# The hosts every replica has, whatever its scale. `lb` stands in for the ALB (HAProxy, TLS
# with the replica's CA) in front of the app, MLflow and Airflow hosts.
HOSTS: tuple[Host, ...] = (
    Host("mlflow", ("mlflow",), 11),
    Host("airflow", ("airflow",), 12),
    Host("app", ("app",), 13, cpu_shares=APP_CPU_SHARES),
    Host(
        "rds",
        ("database",),
        21,
        {"pg-etc": "/etc/postgresql", "pg-data": "/var/lib/postgresql"},
        debian=13,
    ),
    Host("s3", ("object_store",), 22, {"seaweedfs": "/var/lib/seaweedfs"}),
    Host("lb", ("load_balancer",), 23),
)
# With Airflow workers the replica gains the Redis-protocol broker their CeleryExecutor uses
# (ElastiCache for Valkey on AWS); its queue survives a restart (append-only file).
BROKER = Host("broker", ("broker",), 24, {"redis": "/var/lib/redis"})


@dataclass(frozen=True)
class Scalable:
    """A group `make up SCALE=...` sizes: how many hosts, where their addresses start."""

    group: str
    default: int
    minimum: int
    maximum: int
    first_octet: int  # of the second host (the first is the fixed one, when there is one)
    cpu_shares: int = DEFAULT_CPU_SHARES


# The default is what fits a 2-core machine: one host each, no Celery workers. The first app
# and MLflow hosts are the fixed ones above; the others are app-2, mlflow-2, ...; workers are
# airflow-worker-1, -2, ...
SCALABLE: dict[str, Scalable] = {
    "app": Scalable("app", 1, 1, 4, 32, APP_CPU_SHARES),
    "mlflow": Scalable("mlflow", 1, 1, 3, 52),
    "airflow_worker": Scalable("airflow_worker", 0, 0, 4, 41),
}


def parse_scale(text: str) -> dict[str, int]:
    """`app=2 airflow_worker=2` (spaces or commas) into counts, each checked."""
    scale = {name: s.default for name, s in SCALABLE.items()}
    for item in text.replace(",", " ").split():
        group, sep, count = item.partition("=")
        if group not in SCALABLE or not sep:
            raise ValueError(
                f"scale {item!r}: use GROUP=COUNT with GROUP one of {', '.join(SCALABLE)}"
            )
        limits = SCALABLE[group]
        if not count.isdigit() or not limits.minimum <= int(count) <= limits.maximum:
            raise ValueError(
                f"scale {item!r}: {group} takes {limits.minimum} to {limits.maximum} hosts"
            )
        scale[group] = int(count)
    return scale


def hosts_for(scale: dict[str, int]) -> tuple[Host, ...]:
    """The fixed hosts, then the broker when there are workers, then the scaled-out hosts."""
    hosts = list(HOSTS)
    if scale.get("airflow_worker", 0):
        hosts.append(BROKER)
    for group in ("app", "mlflow"):
        limits = SCALABLE[group]
        for n in range(2, scale.get(group, limits.default) + 1):
            name = f"{group}-{n}"
            hosts.append(
                Host(name, (group,), limits.first_octet + n - 2, cpu_shares=limits.cpu_shares)
            )
    workers = SCALABLE["airflow_worker"]
    for n in range(1, scale.get("airflow_worker", 0) + 1):
        hosts.append(Host(f"airflow-worker-{n}", ("airflow_worker",), workers.first_octet + n - 1))
    return tuple(hosts)


# The load balancer routes by host name, as the ALB does (Terraform's service_urls): the
# services are https://<service>.<domain>; `.test` is reserved and never resolves publicly.
DOMAIN = "mlops.test"
SERVICES = ("dashboard", "api", "mlflow", "airflow")


def cache_dir() -> Path:
    """Downloads that survive between runs and clones (never inside the repository)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlops-platform"


@dataclass(frozen=True)
class Replica:
    """A named set of hosts on its own network; `make up` uses "mlops", the test suite its own."""

    name: str = "mlops"
    subnet: str = "10.89.60.0/24"
    state_dir: Path = REPO / ".replica"
    inventory_dir: Path = REPO / "inventories" / "local"
    # hosts per scalable group (parse_scale); not part of the replica's identity
    scale: dict[str, int] = field(
        default_factory=lambda: parse_scale(""), compare=False, hash=False
    )

    @property
    def hosts(self) -> tuple[Host, ...]:
        return hosts_for(self.scale)

    @property
    def resolvable(self) -> tuple[Host, ...]:
        """The hosts whose names every host resolves (podman --add-host): the fixed ones and the
        broker, whatever the scale, so that scaling never changes an existing host's spec."""
        return (*HOSTS, BROKER)

    def service_name(self, service: str) -> str:
        """The name the load balancer answers for a service, e.g. mlflow.mlops.test."""
        if service not in SERVICES:
            raise ValueError(f"{service!r} is none of the services {SERVICES}")
        return f"{service}.{self.domain}"

    def service_names(self) -> tuple[str, ...]:
        return tuple(self.service_name(service) for service in SERVICES)

    @property
    def domain(self) -> str:
        """The default replica's services are at <service>.mlops.test, another one's at
        <service>.<name>.mlops.test, so two replicas' names never collide."""
        return DOMAIN if self.name == "mlops" else f"{self.name}.{DOMAIN}"

    @property
    def scale_file(self) -> Path:
        """The scale of the last `up`, kept until `down`: `make up` alone keeps the hosts."""
        return self.state_dir / "scale"

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"replica name {self.name!r}: use 1-21 lowercase letters, digits, '-'")
        net = ipaddress.ip_network(self.subnet)
        if net.prefixlen > 24:
            raise ValueError(f"subnet {self.subnet}: needs at least a /24")

    @property
    def network(self) -> str:
        return f"{self.name}-net"

    @property
    def network_cidr(self) -> str:
        return str(ipaddress.ip_network(self.subnet))

    @property
    def gateway(self) -> str:
        return str(ipaddress.ip_network(self.subnet).network_address + 1)

    def container(self, host: Host) -> str:
        return f"{self.name}-{host.name}"

    def volume(self, host: Host, suffix: str) -> str:
        return f"{self.name}-{host.name}-{suffix}"

    def ip(self, host: Host) -> str:
        return str(ipaddress.ip_network(self.subnet).network_address + host.octet)

    def mac(self, host: Host) -> str:
        """A fixed, locally administered MAC derived from the IP: a restarted host keeps it,
        so the controller's neighbour cache stays right (a new MAC left it unreachable)."""
        octets = ipaddress.ip_address(self.ip(host)).packed
        return "02:00:" + ":".join(f"{b:02x}" for b in octets)

    @property
    def ssh_key(self) -> Path:
        return self.state_dir / "id_ed25519"

    @property
    def tls_dir(self) -> Path:
        """The replica's CA and its hosts' certificates (local/tls.py)."""
        return self.state_dir / "tls"

    @property
    def known_hosts(self) -> Path:
        return self.state_dir / "known_hosts"

    @property
    def inventory_file(self) -> Path:
        return self.inventory_dir / "hosts.yml"

    @property
    def secrets_file(self) -> Path:
        return self.inventory_dir / "group_vars" / "all" / "secrets.yml"


def from_env() -> Replica:
    """The replica named by MLOPS_REPLICA_* variables, or the default one."""
    name = os.environ.get("MLOPS_REPLICA_NAME", "mlops")
    subnet = os.environ.get("MLOPS_REPLICA_SUBNET", "10.89.60.0/24")
    state = os.environ.get("MLOPS_REPLICA_STATE")
    inventory = os.environ.get("MLOPS_REPLICA_INVENTORY")
    state_dir = Path(state) if state else REPO / ".replica"
    saved = state_dir / "scale"
    text = os.environ.get("MLOPS_REPLICA_SCALE")
    if text is None:
        text = saved.read_text() if saved.exists() else ""
    try:
        scale = parse_scale(text)
    except ValueError as exc:
        raise SystemExit(f"MLOPS_REPLICA_SCALE: {exc}") from exc
    return Replica(
        name=name,
        subnet=subnet,
        state_dir=state_dir,
        inventory_dir=Path(inventory) if inventory else REPO / "inventories" / "local",
        scale=scale,
    )


def format_scale(scale: dict[str, int]) -> str:
    return " ".join(f"{group}={count}" for group, count in sorted(scale.items()))
