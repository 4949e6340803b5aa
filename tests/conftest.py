"""Shared fixtures: paths, the tools' environment, and the hosts' image."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local import config, image, wheelhouse

REPO = config.REPO
VENV_BIN = Path(sys.executable).parent


# molecule scenarios that run at once. Each spends most of its time waiting on apt, systemd
# and its services' start-up: two at once took the phase from 1,596 s to 769 s on 2 cores,
# each scenario within 10 % of its time alone; three at once were no faster (727 s, airflow's
# scenario 525 s instead of 353 s).
MOLECULE_PARALLEL = int(os.environ.get("MLOPS_MOLECULE_PARALLEL", "2"))


def phase(markers) -> str:
    """Where a test's time goes: unit, lint, molecule, or the replica's. `markers`: the names
    of the test's markers (an item's, or a report's keywords under xdist, whose controller
    collects nothing)."""
    if "molecule" in markers:
        return f"molecule, {MOLECULE_PARALLEL} at once (wall clock)"
    if "replica" in markers:
        return "replica (converge + end-to-end)"
    return "lint" if "lint" in markers else "unit (seconds of test, summed over the workers)"


def markers_of(item: pytest.Item) -> set[str]:
    return {marker.name for marker in item.iter_markers()}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Containers last, one kind at a time: the molecule scenarios, then the end-to-end
    replica, whose session fixture is removed right after its last test instead of idling
    through the rest of the run. The web UIs' pages (MLflow's and Airflow's, then the
    dashboard's) come last of all, once the workload tests have produced runs, models and
    DAG runs for them to show; batch scoring then uses the model the dashboard's test
    trained from an upload. The secrets' rotation and log scan end the run: they change
    passwords the tests before them log in with."""

    def order(item: pytest.Item) -> tuple[int, int]:
        kind = phase(markers_of(item))
        rank = 2 if kind.startswith("replica") else 1 if kind.startswith("molecule") else 0
        name = item.path.name
        return rank, _LAST.index(name) + 1 if name in _LAST else 0

    unmarked = [
        item.nodeid
        for item in items
        if CONTAINER_FIXTURES & set(getattr(item, "fixturenames", ()))
        and not {"molecule", "replica"} & markers_of(item)
    ]
    if unmarked:  # `make unit` promises no container
        raise pytest.UsageError(f"tests that make containers without a marker: {unmarked}")
    items.sort(key=order)


# Fixtures that build images or hosts: only molecule and replica tests may use them.
CONTAINER_FIXTURES = {"host_image", "replica"}
# The replica's tests that run after all its others, in this order.
_LAST = ["test_web_uis.py", "test_dashboard.py", "test_scoring.py", "test_secrets.py"]
_SECONDS: dict[str, float] = {}
# Time spent making what the containers need (the wheelhouse, the image), by the fixture.
_PREPARED: dict[str, float] = {}
# Steps timed by the tests themselves (each molecule scenario's own run), shown apart.
STEPS: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    kind = phase(report.keywords)
    _SECONDS[kind] = _SECONDS.get(kind, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the time of each phase, so a slow run says where it went."""
    totals: dict[str, float] = {**_PREPARED, **_SECONDS}
    if not totals:
        return
    terminalreporter.section("time per phase")
    for kind, seconds in totals.items():
        terminalreporter.write_line(f"{kind:48} {seconds:7.0f} s")
    for step, seconds in STEPS.items():
        terminalreporter.write_line(f"  {step:46} {seconds:7.0f} s")


def free_port() -> int:
    """A loopback TCP port nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for ansible, molecule and podman: the venv's tools first."""
    return {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "CONTAINERS_CONF": str(config.CONTAINERS_CONF),
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_FORCE_COLOR": "false",
        "PY_COLORS": "0",
        "MLOPS_WHEELHOUSE": str(wheelhouse.path()),
        **extra,
    }


def run(argv: list[str], cwd: Path = REPO, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=tool_env(**extra), capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """A real MLflow tracking store and registry (SQLite, local artifacts) for one module."""
    import mlflow

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root}/mlflow.db"
    patch = pytest.MonkeyPatch()
    patch.setenv("MLFLOW_TRACKING_URI", uri)
    patch.chdir(root)  # the default artifact root (./mlruns) lands here
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(None)
    patch.undo()


@pytest.fixture(scope="session")
def host_image() -> dict[int, str]:
    """The hosts' images (by Debian release) and the wheelhouse they install from, made (or
    found up to date) once per session."""
    started = time.monotonic()
    wheelhouse.ensure()
    _PREPARED["wheelhouse"] = time.monotonic() - started
    started = time.monotonic()
    fingerprints = image.ensure_all(set(config.RELEASES))
    _PREPARED["hosts' images"] = time.monotonic() - started
    return fingerprints
