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


def _workflow(name: str) -> dict:
    import yaml

    return yaml.safe_load((WORKFLOWS / name).read_text())


def test_one_concurrency_group_spans_plan_and_apply_of_an_environment():
    """Defect 10: with one group per job, run B's plan could start between run A's plan and
    its apply (the group is free while A waits for approval or its next job), and A's saved
    plan then applies to a state B's plan did not see, or B's plan goes stale. The group is
    held by the caller's job, around the whole reusable workflow, and never cancelled."""
    deploy = _workflow("deploy.yml")
    callers = {
        name: job
        for name, job in deploy["jobs"].items()
        if str(job.get("uses", "")).endswith("/deploy-environment.yml")
    }
    assert set(callers) == {"staging", "production"}
    groups = set()
    for name, job in callers.items():
        environment = job["with"]["environment"]
        concurrency = job.get("concurrency")
        assert isinstance(concurrency, dict), f"{name}: no concurrency group"
        assert environment in concurrency["group"], concurrency
        assert "${{" not in concurrency["group"].replace("${{ github.repository }}", ""), (
            f"{name}: the group must not vary from run to run"
        )
        assert concurrency.get("cancel-in-progress") is False, name
        groups.add(concurrency["group"])
    assert len(groups) == len(callers), "one group per environment"
    # Inside, no job takes a group of its own: one named like the caller's would wait on it
    # forever, another would let a run in between plan and apply again.
    called = _workflow("deploy-environment.yml")
    assert {"plan", "apply"} <= set(called["jobs"])
    for name, job in called["jobs"].items():
        assert "concurrency" not in job, f"deploy-environment.yml: job {name}"
    assert "concurrency" not in called


def test_the_deploy_session_fits_the_deploy_roles_maximum():
    """Defect 7: role-duration-seconds above the role's MaxSessionDuration fails the assume;
    terraform/bootstrap sets the maximum from the same number."""
    from tests.terraform import contracts

    called = _workflow("deploy-environment.yml")
    durations = [
        step["with"]["role-duration-seconds"]
        for step in called["jobs"]["apply"]["steps"]
        if "configure-aws-credentials" in str(step.get("uses", ""))
    ]
    assert durations == [7200]
    bootstrap = REPO / "terraform" / "bootstrap"
    assert contracts.variable_default(bootstrap, "deploy_session_duration_seconds") == durations[0]
