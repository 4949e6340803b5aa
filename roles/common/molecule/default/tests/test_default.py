"""The common role: packages, time zone, journald, SSH hardening, service accounts."""

import pytest

testinfra_hosts = ["all"]


@pytest.mark.parametrize("package", ["acl", "curl", "python3-venv", "unattended-upgrades"])
def test_base_packages(host, package):
    assert host.package(package).is_installed


def test_time_zone(host):
    assert host.file("/etc/localtime").linked_to == "/usr/share/zoneinfo/Europe/Lisbon"
    assert host.file("/etc/timezone").content_string.strip() == "Europe/Lisbon"


def test_journald_limits(host):
    conf = host.file("/etc/systemd/journald.conf.d/50-platform.conf")
    assert conf.mode == 0o644
    assert "SystemMaxUse=200M" in conf.content_string


def test_unattended_upgrades_off_in_tests(host):
    conf = host.file("/etc/apt/apt.conf.d/20auto-upgrades").content_string
    assert 'Unattended-Upgrade "0"' in conf
    assert not host.service("apt-daily-upgrade.timer").is_enabled


def test_sshd_hardened_and_running(host):
    effective = host.run("/usr/sbin/sshd -T").stdout.lower()
    assert "permitrootlogin no" in effective
    assert "passwordauthentication no" in effective
    assert "pubkeyauthentication yes" in effective
    assert host.service("ssh").is_running
    assert host.service("ssh").is_enabled
    assert host.socket("tcp://0.0.0.0:22").is_listening


def test_service_account_convention(host):
    user = host.user("demo-svc")
    assert user.shell == "/usr/sbin/nologin"
    assert user.home == "/var/lib/demo-svc"
    assert user.group == "demo-svc"
    assert user.uid < 1000
    home = host.file("/var/lib/demo-svc")
    assert home.is_directory
    assert home.user == "demo-svc"
    assert home.mode == 0o750
