"""Every registered model's champion, not only the configured one.

The configured model (MODEL_API_MODEL_NAME) is followed from the start and never leaves. Any
other registered model is loaded the first time a request names it (/models/{name}/...), then
followed like the configured one (its own Champion: polling, webhooks, the fast path) and kept
warm in a cache bounded by count and size. The cache drops the least recently used model when a
new one would pass either bound, counting the eviction; the next request for it loads it again.
Each uvicorn worker keeps its own cache; a version is still prepared once per host (the shared
load directory), so a second worker's load of it only reads what the first prepared.

A model's size is that of its files (the pickled model, the checked ONNX model): what its
arrays take once loaded, give or take the libraries' own overhead.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from model_api import metrics
from model_api.champion import Champion, write_wake_file

log = logging.getLogger("model_api.served")


class NotServed(Exception):
    """A model that cannot be served: (HTTP status, why)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class ServedModels:
    """The configured model's champion, and a bounded cache of the others' (least recently
    used first)."""

    def __init__(
        self,
        default: Champion,
        follow: Callable[[str, Path | None], Champion],
        max_models: int,
        max_bytes: int,
        first_load_wait: float,
        wake_file: Path | None = None,
    ) -> None:
        self.default = default
        # a new, unstarted Champion for a model's name and its wake file
        self._follow = follow
        self.wake_file = wake_file  # the configured model's; the others' are named after it
        self.max_models = max_models
        self.max_bytes = max_bytes
        self.first_load_wait = first_load_wait
        self._cached: OrderedDict[str, Champion] = OrderedDict()
        self._loading: dict[str, asyncio.Lock] = {}

    def following(self, name: str) -> Champion | None:
        """The champion this worker follows for `name`, if any (without touching the LRU)."""
        return self.default if name == self.default.name else self._cached.get(name)

    def names(self) -> list[str]:
        """The models this worker serves: the configured one, then the cache's, oldest use
        first."""
        return [self.default.name, *self._cached]

    async def get(self, name: str) -> Champion:
        """The champion of `name`, serving: loaded on first use (NotServed when it cannot be)."""
        if name == self.default.name:
            return self.default
        found = self._cached.get(name)
        if found is not None:
            self._cached.move_to_end(name)
            return found
        lock = self._loading.setdefault(name, asyncio.Lock())
        async with lock:  # concurrent first requests for a model load it once
            found = self._cached.get(name)
            if found is None:
                found = await self._load(name)
            self._cached.move_to_end(name)
        self._loading.pop(name, None)
        return found

    def wake_file_of(self, name: str) -> Path | None:
        """The file the host's workers following `name` watch (model_api.champion)."""
        if self.wake_file is None or name == self.default.name:
            return self.wake_file
        return self.wake_file.with_name(f"{self.wake_file.name}@{quote(name, safe='')}")

    def wake(self, name: str, moved_to: str | None) -> None:
        """`name`'s alias moved (to `moved_to`, when known): every worker of the host that
        follows it resolves it now, this one included."""
        champion = self.following(name)
        if champion is not None:
            champion.wake(moved_to)
        elif (wake_file := self.wake_file_of(name)) is not None:
            write_wake_file(wake_file, moved_to)  # for the host's workers that follow it

    def prepare_ahead(self, name: str, version: str) -> bool:
        """Prepare a version of `name` just registered, when this worker follows the model or
        the host holds a version of it (another worker does); False when neither."""
        champion = self.following(name)
        if champion is None and self.default.loader and self.default.loader.holds(name):
            champion = self._follow(name, None)  # not started: only to prepare
        return champion is not None and champion.prepare_ahead(version)

    async def _load(self, name: str) -> Champion:
        champion = self._follow(name, self.wake_file_of(name))
        champion.start()
        looked = await asyncio.to_thread(champion.first_look, self.first_load_wait)
        if champion.current is None:
            champion.stop(wait=False)
            if not looked:
                raise NotServed(
                    503, f"{name} is still loading after {self.first_load_wait:.0f} s: try again"
                )
            reason = champion.last_error or "it could not be loaded"
            raise NotServed(404 if champion.untrained else 503, reason)
        self._cached[name] = champion
        self._evict(keep=name)
        return champion

    def _evict(self, keep: str) -> None:
        """Drop the least recently used models until the cache is within its bounds (the one
        just loaded stays, whatever its size)."""
        while len(self._cached) > 1 and (
            len(self._cached) > self.max_models or self.cached_bytes() > self.max_bytes
        ):
            name, champion = next(iter(self._cached.items()))
            if name == keep:
                break
            del self._cached[name]
            champion.stop(wait=False)  # requests under way keep the model they hold
            metrics.CACHE_EVICTIONS.inc()
            log.info(
                "evicted %s from the cache (at most %d models and %.0f MB)",
                name,
                self.max_models,
                self.max_bytes / 2**20,
            )
        metrics.CACHED_MODELS.set(len(self._cached))
        metrics.CACHED_BYTES.set(self.cached_bytes())

    def cached_bytes(self) -> int:
        return sum(c.current.size_bytes for c in self._cached.values() if c.current is not None)

    def stop(self) -> None:
        for champion in [*self._cached.values(), self.default]:
            champion.stop()
        self._cached.clear()
