"""`molecule test` of every role: create, converge, idempotence, verify, destroy."""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from local import podman
from tests.conftest import MOLECULE_PARALLEL, REPO, STEPS, VENV_BIN, run

ROLES = sorted(
    p.parent.parent.parent.name for p in REPO.glob("roles/*/molecule/default/molecule.yml")
)
# The longest first, so the last to finish is a short one (seconds each, 2 at once on the
# 2-core build machine: airflow 353, mlflow 274, dashboard 190, model_api 169, object_store
# 146, postgresql 136, python_service 122, load_balancer 91, common 79, broker 67).
LONGEST_FIRST = [
    "airflow",
    "mlflow",
    "dashboard",
    "model_api",
    "object_store",
    "postgresql",
    "python_service",
    "load_balancer",
    "common",
    "broker",
]


def test_every_role_has_a_scenario():
    roles = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "tasks").is_dir())
    assert roles == ROLES


def molecule_test(role: str) -> subprocess.CompletedProcess[str]:
    # A container left by an interrupted run would make molecule's first destroy fail.
    podman.remove_container(f"molecule-{role}")
    started = time.monotonic()
    proc = run([str(VENV_BIN / "molecule"), "test"], cwd=REPO / "roles" / role, MOLECULE_ROLE=role)
    STEPS[f"molecule {role}"] = time.monotonic() - started
    return proc


@pytest.fixture(scope="module")
def scenarios(request, host_image) -> dict[str, Future]:
    """The selected roles' scenarios, started together on MOLECULE_PARALLEL workers when the first
    one is needed; each test then waits for its own role's result."""
    selected = {
        item.callspec.params["role"]
        for item in request.session.items
        if item.originalname == "test_molecule" and hasattr(item, "callspec")
    }
    order = sorted(selected, key=lambda r: LONGEST_FIRST.index(r) if r in LONGEST_FIRST else 99)
    with ThreadPoolExecutor(max_workers=MOLECULE_PARALLEL, thread_name_prefix="molecule") as pool:
        yield {role: pool.submit(molecule_test, role) for role in order}


@pytest.mark.molecule
@pytest.mark.parametrize("role", ROLES)
def test_molecule(role, scenarios):
    proc = scenarios[role].result()
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    assert "changed=0" in proc.stdout + proc.stderr  # the idempotence run
