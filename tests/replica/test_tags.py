"""A role's tags run their step on a converged replica, and only it (the model API's here;
tests/roles/test_tags.py proves every role's tags select the same shared tasks)."""

from local import podman
from tests.conftest import VENV_BIN, run
from tests.replica.conftest import recap

ENV_FILE = "/etc/model-api/model-api.env"
PENDING = "/opt/model-api/restart-pending"


def tagged_run(replica, tag: str) -> int:
    """Changed tasks on the app host of `site.yml --tags TAG`."""
    proc = run(
        [
            str(VENV_BIN / "ansible-playbook"),
            *("-i", str(replica.inventory_dir), "ansible/site.yml"),
            *("--tags", tag, "--limit", "app"),
        ]
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return recap(proc.stdout)["app"]


def test_configure_then_run_restore_a_changed_environment_and_restart_once(converged):
    app = converged.container(next(h for h in converged.hosts if h.name == "app"))

    def sh(command: str) -> str:
        return podman.exec_(app, ["sh", "-c", command]).strip()

    def main_pid() -> str:
        return sh("systemctl show -P MainPID model-api")

    before = main_pid()
    sh(f"echo '# edited by hand' >> {ENV_FILE}")

    assert tagged_run(converged, "model_api_install") == 0  # not install's business
    assert "edited by hand" in sh(f"cat {ENV_FILE}")

    assert tagged_run(converged, "model_api_configure") > 0
    assert "edited by hand" not in sh(f"cat {ENV_FILE}")
    assert sh(f"test -e {PENDING} && echo pending") == "pending"
    assert main_pid() == before  # configure starts nothing

    assert tagged_run(converged, "model_api_run") > 0
    assert sh(f"test -e {PENDING} || echo cleared") == "cleared"
    restarted = main_pid()
    assert restarted not in (before, "0")
    assert sh("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/health") == "200"

    assert tagged_run(converged, "model_api_run") == 0  # nothing pending: no restart
    assert main_pid() == restarted
