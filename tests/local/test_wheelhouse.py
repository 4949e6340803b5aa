"""The wheelhouse: made from the locks for the hosts' platform, reused once complete."""

import pytest

from local import locks, wheelhouse
from local.config import REPO


def test_platform_tags_cover_every_manylinux_level_the_hosts_run():
    tags = wheelhouse.platforms("x86_64")[1::2]
    assert tags[0] == "manylinux_2_36_x86_64"
    assert "manylinux_2_28_x86_64" in tags
    assert "manylinux_2_17_x86_64" in tags
    assert tags[-1] == "manylinux2014_x86_64"
    assert wheelhouse.platforms("x86_64")[::2] == ["--platform"] * len(tags)


def test_python_version_is_read_from_the_lock_name():
    assert wheelhouse._python_of(REPO / "roles/mlflow/files/requirements-py311.lock") == "3.11"
    assert wheelhouse._python_of(REPO / "x/requirements-py313.lock") == "3.13"


def test_every_lock_goes_into_the_wheelhouse():
    expected = {locks.lock_path(s, py) for s in locks.sources() for py in locks.PYTHONS}
    assert set(wheelhouse.all_locks()) == expected


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "mlops-platform" / "wheels"


def test_a_complete_lock_is_not_downloaded_again(cache, monkeypatch):
    lock = REPO / "roles/object_store/files/requirements-py311.lock"
    calls = []
    monkeypatch.setattr(wheelhouse, "download", lambda *args: calls.append(args))
    assert wheelhouse.ensure([lock]) == cache
    assert wheelhouse.ensure([lock]) == cache
    assert calls == [(lock, "3.11", cache)]


def test_a_stale_lock_is_refused_before_any_download(cache, monkeypatch, tmp_path):
    service = tmp_path / "svc"
    service.mkdir()
    (service / "requirements.in").write_text("six==1.17.0\n")
    lock = service / "requirements-py311.lock"
    demo = REPO / "roles/python_service/molecule/default/requirements-py311.lock"
    lock.write_text(demo.read_text())
    monkeypatch.setattr(wheelhouse, "download", lambda *args: pytest.fail("downloaded"))
    with pytest.raises(SystemExit, match=r"six==1\.17\.0, the lock has 1\.16\.0"):
        wheelhouse.ensure([lock])
