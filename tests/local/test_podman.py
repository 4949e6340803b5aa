import subprocess

import pytest

from local import podman


def completed(rc, err=b""):
    return subprocess.CompletedProcess(["podman"], rc, b"", err)


def test_remove_retries_a_container_whose_processes_died(monkeypatch):
    calls = []
    answers = iter([completed(125, b"timed out waiting for file"), completed(0)])

    def fake_run(*args, check=True, **kwargs):
        calls.append(args)
        return next(answers)

    monkeypatch.setattr(podman, "run", fake_run)
    monkeypatch.setattr(podman, "exists", lambda kind, name: True)
    monkeypatch.setattr(podman.time, "sleep", lambda s: None)
    podman.remove_container("dead")
    assert calls == [("rm", "--force", "--time", "10", "dead")] * 2


def test_remove_gives_up_with_the_error(monkeypatch):
    monkeypatch.setattr(podman, "run", lambda *a, **k: completed(125, b"boom"))
    monkeypatch.setattr(podman, "exists", lambda kind, name: True)
    monkeypatch.setattr(podman.time, "sleep", lambda s: None)
    with pytest.raises(podman.PodmanError, match="boom"):
        podman.remove_container("stuck")


def test_podman_runs_with_the_project_containers_conf():
    assert podman.env()["CONTAINERS_CONF"].endswith("local/containers.conf")
