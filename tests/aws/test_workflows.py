"""The GitHub Actions workflows: zizmor (offline) and actionlint find nothing."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, VENV_BIN, run

pytestmark = pytest.mark.lint

WORKFLOWS = REPO / ".github" / "workflows"


def test_zizmor_finds_nothing():
    proc = run(
        [str(VENV_BIN / "zizmor"), "--offline", "--no-progress", "--color", "never", str(WORKFLOWS)]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout + proc.stderr


def test_actionlint_finds_nothing():
    # actionlint finds the workflows from the git work tree it runs in, and runs shellcheck
    # on the `run:` scripts when shellcheck is installed.
    proc = run([str(VENV_BIN / "actionlint"), "-no-color"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_action_is_pinned_to_a_commit_with_its_version():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            text = line.split("#", 1)[0].strip().removeprefix("- ")
            if not text.startswith("uses:"):
                continue
            target = text.split(":", 1)[1].strip()
            if target.startswith(("$/", "./")):
                continue  # this repository's own reusable workflows
            ref = target.rsplit("@", 1)[1]
            where = f"{path.name}:{number}: {target}"
            assert len(ref) == 40, where
            assert all(c in "0123456789abcdef" for c in ref), where
            assert "# v" in line, f"{where}: no version comment"
