"""Static checks, each a test so `make test` reports them with everything else."""

import pytest

from tests.conftest import VENV_BIN, run

pytestmark = pytest.mark.lint


def check(argv):
    proc = run(argv)
    assert proc.returncode == 0, f"{' '.join(argv)}\n{proc.stdout}\n{proc.stderr}"


def test_ruff():
    check([str(VENV_BIN / "ruff"), "check", "."])


def test_ruff_format():
    check([str(VENV_BIN / "ruff"), "format", "--check", "."])


def test_yamllint():
    check([str(VENV_BIN / "yamllint"), "--strict", "."])


def test_ansible_lint_production_profile():
    check([str(VENV_BIN / "ansible-lint"), "--profile", "production", "--offline"])
