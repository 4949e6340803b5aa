"""The dashboard role: Streamlit as a hardened service, its secrets kept off command lines."""

testinfra_hosts = ["all"]


def test_service_running_hardened(host):
    service = host.service("dashboard")
    assert service.is_running
    assert service.is_enabled
    assert host.socket("tcp://0.0.0.0:8501").is_listening
    show = host.run("systemctl show dashboard -p ProtectSystem -p User").stdout
    assert "ProtectSystem=strict" in show
    assert "User=dashboard" in show


def test_streamlit_answers(host):
    health = host.run("curl -s http://127.0.0.1:8501/_stcore/health")
    assert health.stdout == "ok"
    page = host.run("curl -s http://127.0.0.1:8501/")
    assert "You need to enable JavaScript to run this app." in page.stdout


def test_code_installed_without_caches(host):
    assert host.file("/opt/dashboard/app/dashboard/app.py").exists
    assert not host.file("/opt/dashboard/app/dashboard/__pycache__").exists


def test_secrets_only_in_the_env_file(host):
    env = host.file("/etc/dashboard/dashboard.env")
    assert env.mode == 0o600
    ps = host.run("ps -eo args").stdout
    for secret in (
        "molecule-dashboard-password",
        "molecule-reader-password",
        "molecule-airflow-password",
        "molecule-api-key-0123456789",
    ):
        assert secret not in ps


def test_usage_statistics_off(host):
    unit = host.file("/etc/systemd/system/dashboard.service").content_string
    assert "--browser.gatherUsageStats false" in unit
