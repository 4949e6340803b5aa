"""checkov on terraform/: zero failed checks, every skip justified where it is made.

checkov lives in a virtualenv of its own under ~/.cache/mlops-platform/venvs/: its
bc-python-hcl2 would overwrite python-hcl2's `hcl2` module in the project's venv (and it
downgrades boto3). The venv is made once and reused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

CHECKOV_VERSION = "3.3.30"
VENVS = Path.home() / ".cache" / "mlops-platform" / "venvs"
TERRAFORM = REPO / "terraform"
FIXTURES = Path(__file__).parent / "fixtures"
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=(CKV2?_[A-Z0-9_]+)(?::(.*))?")


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


@pytest.fixture(scope="session")
def checkov() -> list[str]:
    """The command that runs the pinned checkov, installing it on first use."""
    venv = VENVS / f"checkov-{CHECKOV_VERSION}"
    if not _python(venv).exists():
        # Build beside the final place and rename: an interrupted install is never reused.
        building = VENVS / f".checkov-{CHECKOV_VERSION}-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        building.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True)
        pip = [str(_python(building)), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, f"checkov=={CHECKOV_VERSION}"], check=True, timeout=900)
        building.rename(venv)
    # `python -m checkov.main` rather than bin/checkov: the script's shebang names the
    # directory the venv was built in.
    return [str(_python(venv)), "-m", "checkov.main"]


def run_checkov(command: list[str], directory: Path) -> dict:
    # --skip-download: nothing from Prisma Cloud, so it runs offline with the same result.
    options = ["--framework", "terraform", "--output", "json", "--skip-download"]
    proc = subprocess.run(
        [*command, "-d", str(directory), *options],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_COLOR": "1"},
    )
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert isinstance(report, dict), "one framework, one report"
    return report


def test_checkov_version(checkov: list[str]):
    proc = subprocess.run([*checkov, "--version"], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == CHECKOV_VERSION


def test_checkov_finds_no_failed_check(checkov: list[str]):
    report = run_checkov(checkov, TERRAFORM)
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range'][0]})"
        for c in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert report["summary"]["passed"] > 100
    assert report["summary"]["parsing_errors"] == 0
    for skipped in report["results"]["skipped_checks"]:
        reason = skipped["check_result"].get("suppress_comment") or ""
        assert len(reason) >= 20, skipped["check_id"]


def test_checkov_flags_the_insecure_fixture(checkov: list[str]):
    failed = {c["check_id"] for c in run_checkov(checkov, FIXTURES)["results"]["failed_checks"]}
    # RDS unencrypted (16) and public (17), IMDSv1 (79), SSH from 0.0.0.0/0 (24), unencrypted
    # root volume (8)
    assert {"CKV_AWS_16", "CKV_AWS_17", "CKV_AWS_79", "CKV_AWS_24", "CKV_AWS_8"} <= failed


def test_every_skip_in_the_code_gives_a_reason():
    skips = [
        (path.relative_to(REPO), match.group(1), (match.group(2) or "").strip())
        for path in sorted(TERRAFORM.rglob("*.tf"))
        for match in SKIP_COMMENT.finditer(path.read_text())
    ]
    assert skips, "the skips are expected to be in the code, next to what they excuse"
    unjustified = [f"{path}: {check}" for path, check, reason in skips if len(reason) < 20]
    assert unjustified == []
