"""Champion: a delivery naming a version the host has prepared is served before the registry
is asked, and the registry's answer has the last word."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from model_api import champion
from tests.api.model_api import fakes


class Registry:
    """MlflowClient's alias lookup, recording what the champion served when it was asked."""

    def __init__(self) -> None:
        self.alias_names = "4"
        self.served_when_asked: list[str | None] = []
        self.followed: champion.Champion | None = None

    def get_model_version_by_alias(self, name: str, alias: str):
        current = self.followed.current
        self.served_when_asked.append(current.version if current else None)
        return SimpleNamespace(version=self.alias_names, run_id=f"run-{self.alias_names}")


class HostLoader:
    """A loader whose host has prepared `prepared` versions; a load records its version."""

    shared_dir = "shared"

    def __init__(self, *prepared: str) -> None:
        self.prepared = set(prepared)
        self.loaded: list[str] = []

    def load_prepared(self, name, alias, version, fast_path):
        if version not in self.prepared:
            return None
        return fakes.loaded_model(version=version)

    def load(self, name, alias, version, run_id, fast_path):
        self.loaded.append(version)
        return fakes.loaded_model(version=version)


@pytest.fixture
def registry(monkeypatch) -> Registry:
    """The registry, whose alias names v4."""
    registry = Registry()
    monkeypatch.setattr(champion, "MlflowClient", lambda: registry)
    return registry


def following(registry: Registry, loader: HostLoader) -> champion.Champion:
    """A champion serving v3, loading with `loader`."""
    registry.followed = champion.Champion("fake", "champion", 60, loader=loader)
    registry.followed.current = fakes.loaded_model(version="3")
    return registry.followed


def test_a_prepared_version_a_delivery_names_is_served_before_the_registry_answers(
    registry,
) -> None:
    loader = HostLoader("4")
    served = following(registry, loader)
    assert served.poll(moved_to="4")
    assert served.current.version == "4"
    assert registry.served_when_asked == ["4"]  # swapped first, then confirmed
    assert loader.loaded == []


def test_a_delivery_the_alias_has_moved_past_is_corrected_by_the_registry(registry) -> None:
    """Deliveries leave MLflow from a thread pool: an older one may arrive last."""
    loader = HostLoader("4", "5")
    served = following(registry, loader)
    assert served.poll(moved_to="5")
    assert registry.served_when_asked == ["5"]
    assert (served.current.version, loader.loaded) == ("4", ["4"])


@pytest.mark.parametrize("moved_to", [None, "4"])
def test_without_the_version_prepared_the_registry_is_asked_first(registry, moved_to) -> None:
    loader = HostLoader()
    served = following(registry, loader)
    assert served.poll(moved_to=moved_to)
    assert registry.served_when_asked == ["3"]
    assert (served.current.version, loader.loaded) == ("4", ["4"])


def test_a_delivery_naming_the_version_served_changes_nothing(registry) -> None:
    loader = HostLoader("3", "4")
    served = following(registry, loader)
    served.current = fakes.loaded_model(version="4")
    assert not served.poll(moved_to="4")
    assert (served.current.version, loader.loaded) == ("4", [])
