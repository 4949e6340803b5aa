"""ServedModels: any registered model's champion on first use, kept in a cache bounded by count
and size that drops the least recently used one."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from model_api import metrics
from model_api.served import NotServed, ServedModels
from tests.api.model_api import fakes

MB = 2**20


class Follow:
    """Makes each model's champion, serving a version of `size` MB; records what it made."""

    def __init__(self, size_mb: float = 1) -> None:
        self.size = int(size_mb * MB)
        self.made: list[str] = []
        self.champions: list[fakes.FakeChampion] = []

    def __call__(self, name: str, wake_file=None) -> fakes.FakeChampion:
        self.made.append(name)
        model = replace(fakes.loaded_model(), name=name, size_bytes=self.size)
        champion = fakes.FakeChampion(model)
        champion.name, champion.wake_file = name, wake_file
        self.champions.append(champion)
        return champion


def served(follow, max_models: int = 4, max_mb: float = 512, **values) -> ServedModels:
    default = fakes.FakeChampion(fakes.loaded_model())
    return ServedModels(default, follow, max_models, int(max_mb * MB), 5.0, **values)


def get(models: ServedModels, *names: str) -> list[str]:
    """Ask for each model in turn: the names of the models served."""

    async def ask() -> list[str]:
        return [(await models.get(name)).current.name for name in names]

    return asyncio.run(ask())


def evictions() -> float:
    return metrics.CACHE_EVICTIONS._value.get()


def test_a_model_is_loaded_on_first_use_and_kept() -> None:
    follow = Follow()
    models = served(follow)
    assert get(models, "churn", "churn", "fake") == ["churn", "churn", "fake"]
    assert follow.made == ["churn"]  # once; the configured model is never made again
    assert models.names() == ["fake", "churn"]


def test_the_least_recently_used_model_is_dropped_past_the_count() -> None:
    follow, before = Follow(), evictions()
    models = served(follow, max_models=2)
    get(models, "a", "b", "a", "c")  # b is the least recently used when c comes
    assert models.names() == ["fake", "a", "c"]
    assert evictions() == before + 1
    assert follow.champions[1].stopped  # b's poller
    get(models, "b")  # loaded again; a goes now
    assert follow.made == ["a", "b", "c", "b"]
    assert models.names() == ["fake", "c", "b"]


def test_the_least_recently_used_model_is_dropped_past_the_size() -> None:
    models = served(Follow(size_mb=40), max_models=10, max_mb=100)
    get(models, "a", "b", "c")
    assert models.names() == ["fake", "b", "c"]
    assert models.cached_bytes() == 80 * MB


def test_a_model_larger_than_the_cache_is_still_served_alone() -> None:
    models = served(Follow(size_mb=300), max_mb=100)
    assert get(models, "a", "big") == ["a", "big"]
    assert models.names() == ["fake", "big"]


def test_a_model_without_a_champion_is_a_404_saying_how_to_train_one() -> None:
    models = served(fakes.unregistered)
    with pytest.raises(NotServed) as refused:
        get(models, "nothing-here")
    assert refused.value.status == 404
    assert "no model named nothing-here is registered yet" in refused.value.reason
    assert models.names() == ["fake"]


def test_a_model_that_fails_to_load_is_a_503_with_the_reason() -> None:
    def failing(name: str, wake_file=None) -> fakes.FakeChampion:
        return fakes.FakeChampion(None, f"loading {name} v2 failed: no space left")

    with pytest.raises(NotServed) as refused:
        get(served(failing), "broken")
    assert refused.value.status == 503
    assert refused.value.reason == "loading broken v2 failed: no space left"


def test_concurrent_first_requests_load_a_model_once() -> None:
    follow = Follow()
    models = served(follow)

    async def together() -> None:
        await asyncio.gather(*(models.get("churn") for _ in range(5)))

    asyncio.run(together())
    assert follow.made == ["churn"]


def test_a_move_reaches_the_workers_following_the_model(tmp_path) -> None:
    wake_file = tmp_path / "alias-moved"
    follow = Follow()
    models = served(follow, wake_file=wake_file)
    get(models, "churn")
    models.wake("churn", "7")
    assert follow.champions[0].moved_to == ["7"]
    assert follow.champions[0].wake_file == tmp_path / "alias-moved@churn"
    models.wake("fake", None)
    assert models.default.moved_to == [None]
    models.wake("not followed here", "3")  # perhaps by the host's other workers
    assert (tmp_path / "alias-moved@not%20followed%20here").read_text() == "3"


def test_a_version_is_prepared_ahead_for_a_model_the_host_serves() -> None:
    class Holds:
        def holds(self, name: str) -> bool:
            return name == "served-by-another-worker"

    follow = Follow()
    models = served(follow)
    models.default.loader = Holds()
    get(models, "churn")
    assert models.prepare_ahead("churn", "4")
    assert models.prepare_ahead("served-by-another-worker", "2")
    assert not models.prepare_ahead("unknown", "1")
    assert [c.prepared for c in follow.champions] == [["4"], ["2"]]
