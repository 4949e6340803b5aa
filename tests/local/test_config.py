import pytest

from local.config import HOSTS, Replica, hosts_for, parse_scale


def test_every_inventory_group_has_a_host():
    groups = {g for h in HOSTS for g in h.groups}
    assert groups == {"mlflow", "airflow", "app", "database", "object_store", "load_balancer"}


def test_the_default_scale_fits_two_cores():
    """One host per group, no Celery workers and so no broker."""
    assert parse_scale("") == {"app": 1, "mlflow": 1, "airflow_worker": 0}
    assert [h.name for h in Replica().hosts] == [h.name for h in HOSTS]


def test_scaled_out_hosts_get_their_own_names_and_addresses():
    replica = Replica(name="x", scale=parse_scale("app=2, airflow_worker=2 mlflow=2"))
    added = {h.name: (h.groups, replica.ip(h)) for h in replica.hosts if h not in HOSTS}
    assert added == {
        "broker": (("broker",), "10.89.60.24"),
        "app-2": (("app",), "10.89.60.32"),
        "mlflow-2": (("mlflow",), "10.89.60.52"),
        "airflow-worker-1": (("airflow_worker",), "10.89.60.41"),
        "airflow-worker-2": (("airflow_worker",), "10.89.60.42"),
    }
    app2 = next(h for h in replica.hosts if h.name == "app-2")
    assert app2.cpu_shares == next(h for h in HOSTS if h.name == "app").cpu_shares
    # at the largest scale every address is still distinct
    largest = hosts_for(parse_scale("app=4 mlflow=3 airflow_worker=4"))
    octets = [h.octet for h in largest]
    assert len(octets) == len(set(octets))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("app=0", "app takes 1 to 4 hosts"),
        ("airflow_worker=9", "airflow_worker takes 0 to 4 hosts"),
        ("app=two", "app takes 1 to 4"),
        ("database=2", "GROUP one of app, mlflow, airflow_worker"),
        ("app", "GROUP=COUNT"),
    ],
)
def test_bad_scale_rejected_naming_the_group(text, message):
    with pytest.raises(ValueError, match=message):
        parse_scale(text)


def test_the_scale_is_kept_until_down(tmp_path, monkeypatch):
    from local import config

    monkeypatch.setenv("MLOPS_REPLICA_STATE", str(tmp_path))
    monkeypatch.setenv("MLOPS_REPLICA_SCALE", "app=2")
    assert config.from_env().scale["app"] == 2
    (tmp_path / "scale").write_text("airflow_worker=1 app=3\n")
    monkeypatch.delenv("MLOPS_REPLICA_SCALE")
    assert config.from_env().scale == {"app": 3, "mlflow": 1, "airflow_worker": 1}
    monkeypatch.setenv("MLOPS_REPLICA_SCALE", "app=9")
    with pytest.raises(SystemExit, match="MLOPS_REPLICA_SCALE: scale 'app=9'"):
        config.from_env()


def test_scaling_changes_no_existing_host():
    """A host's spec (its run arguments) is the same at every scale: `make up SCALE=...`
    adds and removes hosts, it never replaces the others."""
    from local import hosts

    small, large = Replica(name="x"), Replica(name="x", scale=parse_scale("app=3 airflow_worker=2"))
    for host in small.hosts:
        assert hosts.spec(small, host, "img") == hosts.spec(large, host, "img"), host.name


def test_the_load_balancer_answers_for_the_service_names():
    assert Replica().service_names() == (
        "dashboard.mlops.test",
        "api.mlops.test",
        "mlflow.mlops.test",
        "airflow.mlops.test",
    )
    assert Replica(name="t1").service_name("dashboard") == "dashboard.t1.mlops.test"
    with pytest.raises(ValueError, match="'grafana' is none of the services"):
        Replica().service_name("grafana")


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
    scaled = Replica(name="x", scale=parse_scale("app=2"))
    app2 = next(h for h in scaled.hosts if h.name == "app-2")
    assert "128" in hosts.run_args(scaled, app2, "img1")
