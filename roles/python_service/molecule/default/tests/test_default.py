"""The python_service role: user, virtualenv, private environment, hardened restarting unit."""

import time

testinfra_hosts = ["all"]


def test_service_user_has_no_login(host):
    user = host.user("demo")
    assert user.shell == "/usr/sbin/nologin"
    assert user.home == "/var/lib/demo"


def test_virtualenv_holds_the_lock_installed_without_an_index(host):
    lock = host.file("/opt/demo/requirements.lock").content_string
    assert "six==1.16.0" in lock
    assert "--hash=sha256:" in lock
    # the record of what the venv holds: a second run compares it and runs no pip
    assert host.file("/opt/demo/venv/installed.lock").content_string == lock
    # the index pip.conf names does not answer, so the wheelhouse was the only source
    assert "127.0.0.1:9" in host.file("/etc/pip.conf").content_string
    out = host.run("/opt/demo/venv/bin/python -c 'import six; print(six.__version__)'")
    assert out.stdout.strip() == "1.16.0"


def test_environment_file_is_private(host):
    env = host.file("/etc/demo/demo.env")
    assert env.user == "root"
    assert env.mode == 0o600
    assert 'DEMO_TOKEN="molecule-not-a-real-secret"' in env.content_string


def test_unit_runs_hardened_as_the_service_user(host):
    service = host.service("demo-web")
    assert service.is_running
    assert service.is_enabled
    assert host.socket("tcp://127.0.0.1:8765").is_listening
    props = host.run(
        "systemctl show demo-web -p User -p NoNewPrivileges -p ProtectSystem -p Restart"
    ).stdout
    for expected in (
        "User=demo",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "Restart=on-failure",
    ):
        assert expected in props
    assert "DEMO_TOKEN" not in host.run("ps -eo args").stdout


def test_killed_unit_comes_back(host):
    before = host.run("systemctl show demo-web -p MainPID --value").stdout.strip()
    host.run("systemctl kill -s KILL demo-web")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after = host.run("systemctl show demo-web -p MainPID --value").stdout.strip()
        if after not in ("0", before) and host.socket("tcp://127.0.0.1:8765").is_listening:
            return
        time.sleep(1)
    raise AssertionError("demo-web did not come back within 30 s")


def test_migration_ran_as_the_service_and_recorded_the_locked_version(host):
    assert host.file("/var/lib/demo/migrated").user == "demo"
    assert host.file("/var/lib/demo/schema-migrated-by").content_string == "1.16.0\n"


def test_no_restart_is_left_pending(host):
    assert not host.file("/opt/demo/restart-pending").exists
