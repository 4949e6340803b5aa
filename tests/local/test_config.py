import pytest

from local.config import HOSTS, Replica


def test_every_inventory_group_has_a_host():
    groups = {g for h in HOSTS for g in h.groups}
    assert groups == {"mlflow", "airflow", "app", "database", "object_store"}


def test_addresses_are_inside_the_subnet_and_distinct():
    replica = Replica(name="x", subnet="10.1.2.0/24")
    ips = [replica.ip(h) for h in replica.hosts]
    assert len(set(ips)) == len(ips)
    assert all(ip.startswith("10.1.2.") for ip in ips)
    assert replica.gateway == "10.1.2.1"


def test_names_derive_from_the_replica_name():
    replica = Replica(name="demo")
    rds = next(h for h in replica.hosts if h.name == "rds")
    assert replica.container(rds) == "demo-rds"
    assert replica.volume(rds, "pg-data") == "demo-rds-pg-data"
    assert replica.network == "demo-net"


@pytest.mark.parametrize("name", ["", "UPPER", "with space", "x" * 30, "-lead"])
def test_bad_replica_name_rejected(name):
    with pytest.raises(ValueError, match="replica name"):
        Replica(name=name)


def test_too_small_subnet_rejected():
    with pytest.raises(ValueError, match="needs at least a /24"):
        Replica(subnet="10.0.0.0/28")


def test_mac_is_fixed_unicast_and_local():
    replica = Replica(name="x", subnet="10.1.2.0/24")
    macs = {replica.mac(h) for h in replica.hosts}
    assert len(macs) == len(replica.hosts)
    rds = next(h for h in replica.hosts if h.name == "rds")
    assert replica.mac(rds) == "02:00:0a:01:02:15"


def test_host_spec_follows_every_run_argument():
    from local import hosts

    a, b = Replica(name="x"), Replica(name="x", subnet="10.1.3.0/24")
    rds = next(h for h in a.hosts if h.name == "rds")
    args = hosts.run_args(a, rds, "img1")
    assert args[-1] == "localhost/mlops-debian:13"  # the database host: RDS's PostgreSQL major
    assert f"org.mlops-platform.spec={hosts.spec(a, rds, 'img1')}" in args
    assert "x-rds-pg-data:/var/lib/postgresql" in args
    assert hosts.spec(a, rds, "img1") != hosts.spec(a, rds, "img2")
    assert hosts.spec(a, rds, "img1") != hosts.spec(b, rds, "img1")


def test_only_the_database_host_runs_debian_13():
    from local.config import HOSTS, image_name

    assert {h.name: h.debian for h in HOSTS if h.debian != 12} == {"rds": 13}
    assert image_name(12) == "localhost/mlops-debian:12"
    with pytest.raises(ValueError, match="Debian 11"):
        image_name(11)


def test_the_app_host_weighs_less_on_contended_cores():
    """Its traffic must not starve MLflow, PostgreSQL and S3, as separate instances on AWS."""
    from local import hosts

    replica = Replica(name="x")
    shares = {}
    for host in replica.hosts:
        args = hosts.run_args(replica, host, "img1")
        shares[host.name] = args[args.index("--cpu-shares") + 1] if "--cpu-shares" in args else None
    assert shares == {name: None for name in shares} | {"app": "128"}
