"""The replica's database runs the PostgreSQL major of RDS's engine_version.

Behaviour changes between majors (PostgreSQL 16 changed what a role's creator may do with
it), so a replica on another major than RDS would hide exactly the defects it exists to
show. Terraform's default engine_version, the Debian release of the replica's database host,
the PostgreSQL that release ships (roles/postgresql) and the postgresql role's molecule
instance must agree.
"""

from __future__ import annotations

import yaml

from local import config
from tests.conftest import REPO
from tests.terraform.contracts import variable_default


def rds_major() -> int:
    """The default engine_version of terraform/modules/database."""
    engine = variable_default(REPO / "terraform" / "modules" / "database", "engine_version")
    return int(str(engine).split(".")[0])


def database_host() -> config.Host:
    (host,) = [h for h in config.HOSTS if "database" in h.groups]
    return host


def packaged_major(debian: int) -> int:
    """The PostgreSQL major the postgresql role installs on a Debian release."""
    role_vars = yaml.safe_load((REPO / "roles/postgresql/vars/main.yml").read_text())
    return int(role_vars["__postgresql_packaged_versions"][str(debian)])


def test_replica_database_runs_the_rds_major():
    assert packaged_major(database_host().debian) == rds_major()


def test_postgresql_scenario_runs_the_database_hosts_release():
    scenario = REPO / "roles/postgresql/molecule/default/molecule.yml"
    (platform,) = yaml.safe_load(scenario.read_text())["platforms"]
    assert platform["image"] == database_host().image
