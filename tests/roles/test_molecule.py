"""`molecule test` of every role: create, converge, idempotence, verify, destroy."""

import pytest

from local import podman
from tests.conftest import REPO, VENV_BIN, run

ROLES = sorted(
    p.parent.parent.parent.name for p in REPO.glob("roles/*/molecule/default/molecule.yml")
)


def test_every_role_has_a_scenario():
    roles = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "tasks").is_dir())
    assert roles == ROLES


@pytest.mark.molecule
@pytest.mark.parametrize("role", ROLES)
def test_molecule(role, host_image):
    # A container left by an interrupted run would make molecule's first destroy fail.
    podman.remove_container(f"molecule-{role}")
    proc = run([str(VENV_BIN / "molecule"), "test"], cwd=REPO / "roles" / role, MOLECULE_ROLE=role)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    assert "changed=0" in proc.stdout + proc.stderr  # the idempotence run
