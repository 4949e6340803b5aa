"""Shared fixtures: paths, the tools' environment, and the hosts' image."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from local import config, image

REPO = config.REPO
VENV_BIN = Path(sys.executable).parent


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for ansible, molecule and podman: the venv's tools first."""
    return {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "CONTAINERS_CONF": str(config.CONTAINERS_CONF),
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_FORCE_COLOR": "false",
        "PY_COLORS": "0",
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
def host_image() -> str:
    """The hosts' image, built (or found up to date) once per session."""
    return image.ensure()
