import yaml

from local import inventory
from local.config import Replica


def test_inventory_has_the_aws_groups_and_the_stand_ins(tmp_path):
    replica = Replica(
        name="t", subnet="10.7.7.0/24", state_dir=tmp_path / "s", inventory_dir=tmp_path / "inv"
    )
    path = inventory.write(replica)
    data = yaml.safe_load(path.read_text())
    children = data["all"]["children"]
    assert set(children) == {
        "mlflow",
        "airflow",
        "airflow_worker",
        "app",
        "database",
        "object_store",
        "load_balancer",
        "broker",
    }
    # without workers the groups are there, empty: no broker host, LocalExecutor
    assert children["airflow_worker"]["hosts"] == {}
    assert children["broker"]["hosts"] == {}
    assert children["load_balancer"]["hosts"] == {"lb": {"ansible_host": "10.7.7.23"}}
    assert data["all"]["vars"]["platform_domain"] == "t.mlops.test"
    assert children["database"]["hosts"] == {"rds": {"ansible_host": "10.7.7.21"}}
    assert children["object_store"]["hosts"] == {"s3": {"ansible_host": "10.7.7.22"}}
    assert data["all"]["vars"]["platform_network_cidr"] == "10.7.7.0/24"
    assert data["all"]["vars"]["platform_tls_dir"].endswith("/tls")
    assert data["all"]["vars"]["ansible_user"] == "admin"
    assert str(tmp_path / "s" / "known_hosts") in data["all"]["vars"]["ansible_ssh_common_args"]
    assert "StrictHostKeyChecking=yes" in data["all"]["vars"]["ansible_ssh_common_args"]
