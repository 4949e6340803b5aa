"""Every tag a role's README documents runs exactly its step, shared tasks included.

The tags reach python_service's and common's tasks only when those are imported (static):
a dynamic include_role keeps them on the include alone. `ansible-playbook --list-tasks`
shows each task with the tags it really carries, so one listing per role proves it."""

import re
import tempfile
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import REPO, VENV_BIN, run

ROLES = sorted(p.parent.name for p in (REPO / "roles").glob("*/README.md"))
STEPS = ("install", "configure", "run")
# A task each step must run, for the roles that run on python_service.
SHARED_STEP_TASKS = {
    "install": "python_service : Install the lock into the virtualenv",
    "configure": "python_service : Write the environment file (secrets, mode 0600)",
    "run": "python_service : Start the units, restarting them when anything they run changed",
}
ON_PYTHON_SERVICE = ("mlflow", "airflow", "model_api", "dashboard", "object_store")


def documented_tags(role: str) -> list[str]:
    text = (REPO / "roles" / role / "README.md").read_text()
    line = re.search(r"^Tags: (.*)$", text, re.MULTILINE)
    return re.findall(r"`([a-z_]+)`", line.group(1)) if line else []


@cache
def listed_tasks(role: str) -> list[tuple[str, set[str]]]:
    """(task, its tags) of a play that applies the role, in order."""
    with tempfile.TemporaryDirectory() as directory:
        playbook = Path(directory) / f"{role}.yml"
        playbook.write_text(f"- hosts: localhost\n  gather_facts: false\n  roles: [{role}]\n")
        result = run(
            [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(playbook), "--list-tasks"],
            ANSIBLE_ROLES_PATH=str(REPO / "roles"),
        )
    assert result.returncode == 0, result.stdout + result.stderr
    return parse(result.stdout)


def parse(listing: str) -> list[tuple[str, set[str]]]:
    tasks = []
    for line in listing.splitlines():
        found = re.match(r"^\s{6}(.+?)\tTAGS: \[(.*)\]$", line)
        if found:
            tasks.append((found.group(1), {t.strip() for t in found.group(2).split(",") if t}))
    return tasks


def selected(tasks: list[tuple[str, set[str]]], tag: str) -> list[str]:
    """The tasks `--tags TAG` runs (always-tagged ones too)."""
    return [name for name, tags in tasks if tag in tags or "always" in tags]


def step_problems(role: str, tasks: list[tuple[str, set[str]]]) -> list[str]:
    problems = []
    tags = documented_tags(role)
    if tags != [f"{role}_{step}" for step in STEPS]:
        problems.append(f"{role}: README documents {tags}, not one tag per step")
    for name, carried in tasks:
        steps = carried & set(tags)
        if not steps and "always" not in carried:
            problems.append(f"{role}: {name!r} runs under none of the documented tags")
        if len(steps) > 1 and not name.startswith(f"{role} : Check "):
            problems.append(f"{role}: {name!r} runs in more than one step: {sorted(steps)}")
    if role in ON_PYTHON_SERVICE:
        for step, shared in SHARED_STEP_TASKS.items():
            chosen = selected(tasks, f"{role}_{step}")
            if shared not in chosen:
                problems.append(f"{role}: --tags {role}_{step} does not run {shared!r}")
            for other, task in SHARED_STEP_TASKS.items():
                if other != step and task in chosen:
                    problems.append(f"{role}: --tags {role}_{step} also runs {task!r}")
    return problems


@pytest.mark.parametrize("role", [r for r in ROLES if r != "python_service"])
def test_each_documented_tag_runs_exactly_its_step(role: str):
    assert step_problems(role, listed_tasks(role)) == []


def test_the_checker_catches_tags_that_stop_at_an_include():
    """What a dynamic include_role gave: the shared tasks carry no tag of the role."""
    tasks = [
        (name, set()) if name.startswith("python_service : ") else (name, tags)
        for name, tags in listed_tasks("model_api")
    ]
    problems = step_problems("model_api", tasks)
    assert any("--tags model_api_install does not run" in p for p in problems)
    assert any("runs under none of the documented tags" in p for p in problems)


def test_python_service_documents_no_tags_of_its_own():
    """It is imported by the service roles, which tag it with their own steps."""
    assert documented_tags("python_service") == []
