"""Every client verifies the database's certificate and name (sslmode=verify-full) against
the CA bundle the inventory names: RDS's on AWS, the replica's own CA locally."""

from __future__ import annotations

import yaml

from tests.conftest import REPO


def load(path: str) -> dict:
    return yaml.safe_load((REPO / path).read_text())


def test_aws_hosts_get_rds_ca_bundle():
    database = load("inventories/aws/group_vars/all/database.yml")
    assert database["platform_database_ca_url"].startswith(
        "https://truststore.pki.rds.amazonaws.com/"
    )
    assert "platform_database_ca_url" in database["platform_database_ca_bundle"]
    local = load("inventories/local/group_vars/all/database.yml")
    assert "ca.crt" in local["platform_database_ca_bundle"]


def test_every_client_verifies_against_that_bundle():
    mapping = load("ansible/group_vars/all/database.yml")
    ca_file = mapping["platform_database_ca_file"]
    # common writes bundle "database" (and the broker's, when the inventory has one)
    assert "{'database': platform_database_ca_bundle}" in mapping["common_ca_bundles"]
    assert ca_file == "/etc/ssl/mlops/database.pem"  # where common writes bundle "database"
    for role in ("mlflow", "airflow"):
        assert mapping[f"{role}_db_ca_file"] == "{{ platform_database_ca_file }}"
        assert load(f"roles/{role}/defaults/main.yml")[f"{role}_db_sslmode"] == "verify-full"
    assert load("roles/postgresql/defaults/main.yml")["postgresql_login_ssl_mode"] == "verify-full"
    (schemas,) = [
        p for p in load("ansible/data.yml") if p["hosts"] == "{{ groups.get('mlflow', [])[:1] }}"
    ]
    assert schemas["vars"]["postgresql_login_ca_cert"] == "{{ platform_database_ca_file }}"
