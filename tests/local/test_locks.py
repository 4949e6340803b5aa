"""The services' locks: current against their pins, complete, hashed; stale ones are found."""

import shutil

import pytest

from local import locks
from local.config import REPO

SERVICES = ["airflow", "dashboard", "mlflow", "model_api", "object_store"]
CASES = [(s, py) for s in locks.sources() for py in locks.PYTHONS]


def test_every_service_role_has_pins_and_a_lock_per_python():
    roles = {p.parent.parent.name for p in locks.sources() if p.parent.name == "files"}
    assert sorted(roles) == SERVICES
    for source, python in CASES:
        assert locks.lock_path(source, python).exists(), source


@pytest.mark.parametrize(
    ("source", "python"), CASES, ids=[f"{s.relative_to(REPO).parent}-py{p}" for s, p in CASES]
)
def test_lock_is_current_against_its_pins(source, python):
    assert locks.problems(source, python) == []


def test_includes_are_followed():
    pins = locks.pins(REPO / "roles/model_api/files/requirements.in")
    wanted = (REPO / "api/requirements/model_api.txt").read_text()
    assert pins
    assert all(pin in wanted for pin in pins)
    airflow = locks.pins(REPO / "roles/airflow/files/requirements.in")
    assert "scikit-learn==1.9.1" in airflow  # from dags/requirements.txt


def test_every_locked_distribution_is_pinned_and_hashed():
    _, entries = locks.read(REPO / "roles/airflow/files/requirements-py311.lock")
    names = {e.name for e in entries}
    assert {"apache-airflow", "apache-airflow-core", "sqlalchemy", "mlflow-skinny"} <= names
    assert all(e.hashes for e in entries)


@pytest.fixture
def service(tmp_path):
    """A copy of the mlflow role's pins and lock to change."""
    for name in ("requirements.in", "requirements-py311.lock"):
        shutil.copy(REPO / "roles/mlflow/files" / name, tmp_path / name)
    return tmp_path / "requirements.in"


def test_a_changed_pin_makes_the_lock_stale(service):
    service.write_text(service.read_text().replace("boto3==1.44.8", "boto3==1.44.7"))
    found = locks.problems(service, "3.11")
    assert any("other pins" in p for p in found)
    assert any("boto3==1.44.7, the lock has 1.44.8" in p for p in found)


def test_a_hand_edited_lock_is_stale(service):
    lock = service.parent / "requirements-py311.lock"
    lock.write_text(lock.read_text().replace("boto3==1.44.8", "boto3==1.44.9"))
    assert any("boto3==1.44.8, the lock has 1.44.9" in p for p in locks.problems(service, "3.11"))


def test_a_lock_without_hashes_is_refused(service):
    lock = service.parent / "requirements-py311.lock"
    lock.write_text("\n".join(ln for ln in lock.read_text().splitlines() if "--hash" not in ln))
    assert any("has no hash" in p for p in locks.problems(service, "3.11"))


def test_a_missing_lock_says_how_to_make_it(service):
    (service.parent / "requirements-py311.lock").unlink()
    assert locks.problems(service, "3.11") == [
        f"{service.parent / 'requirements-py311.lock'}: missing (run `make locks`)"
    ]


def test_the_python_version_is_part_of_what_a_lock_is_made_from(service):
    assert locks.pins_digest(service, "3.11") != locks.pins_digest(service, "3.13")


@pytest.mark.parametrize("line", ["boto3", "boto3>=1.44", "-e .", "--index-url https://x/"])
def test_an_unpinned_line_is_refused(tmp_path, line):
    source = tmp_path / "requirements.in"
    source.write_text(f"six==1.16.0\n{line}\n")
    with pytest.raises(ValueError, match=r"requirements\.in:2: .* is not pinned as name==version"):
        locks.pins(source)


def test_make_locks_check_passes_on_current_locks(capsys):
    """`python -m local locks --check`: what CI or a pre-commit hook would run."""
    from local.__main__ import main

    assert main(["locks", "--check"]) == 0
    assert capsys.readouterr().out == ""
