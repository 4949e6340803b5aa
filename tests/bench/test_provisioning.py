"""A cold run starts without the host images and the caches, and loses none if it fails."""

from __future__ import annotations

import pytest

from bench import provisioning
from local import config


@pytest.fixture
def removed(monkeypatch) -> list[tuple]:
    """The podman commands a cold run gave (every image exists)."""
    commands = []
    monkeypatch.setattr(provisioning.podman, "exists", lambda kind, name: True)
    monkeypatch.setattr(provisioning.podman, "run", lambda *args: commands.append(args))
    return commands


@pytest.fixture
def cache(tmp_path):
    for name in provisioning.COLD_CACHES:
        (tmp_path / name).mkdir()
        (tmp_path / name / "kept").write_text("before")
    (tmp_path / "hypothesis").mkdir()  # not a cache a cold run goes without
    return tmp_path


def test_a_cold_run_starts_without_images_and_caches_and_keeps_what_it_made(cache, removed) -> None:
    with provisioning.without_caches(config.Replica(), cache):
        assert not any((cache / name).exists() for name in provisioning.COLD_CACHES)
        assert (cache / "hypothesis").exists()
        (cache / "wheels").mkdir()
        (cache / "wheels" / "made").write_text("anew")
    assert (cache / "wheels" / "made").read_text() == "anew"
    assert not (cache / "images").exists()  # nothing made it: nothing to keep
    assert sorted(name for name in (p.name for p in cache.iterdir())) == ["hypothesis", "wheels"]
    images = {config.image_name(host.debian) for host in config.HOSTS}
    assert removed == [("image", "rm", image) for image in sorted(images)]


def fail_half_way(cache) -> None:
    with provisioning.without_caches(config.Replica(), cache):
        (cache / "wheels").mkdir()
        (cache / "wheels" / "half").write_text("half-made")
        raise RuntimeError("the playbooks failed")


def test_a_failed_cold_run_puts_the_caches_back(cache, removed) -> None:
    with pytest.raises(RuntimeError, match="playbooks failed"):
        fail_half_way(cache)
    for name in provisioning.COLD_CACHES:
        assert (cache / name / "kept").read_text() == "before"
    assert not (cache / "wheels" / "half").exists()
    assert not (cache / ".before-cold-run").exists()
