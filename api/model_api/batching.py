"""Adaptive batching: concurrent requests for one model coalesced into one model call.

As Seldon MLServer and NVIDIA Triton do, requests wait in a queue and go to the model
together, up to `max_rows` records a call. The batch is adaptive: with `max_wait` 0 (the
default) nothing waits for company. A request that finds the model idle goes at the next
turn of the event loop, with whatever arrived in the same turn; while a call is running
(pyfunc runs in a thread), the requests that arrive queue and go together in the next call.
So a single client pays no delay, and under load one call serves many requests: a pipeline's
predict costs about the same for 1 row as for 100. `max_wait` > 0 holds a batch that is not
full up to that long for more records.

Each request keeps its own answer: the outputs are split back by the number of records each
request sent, and when a call of several requests fails, each request is tried alone, so an
error reaches only the request that caused it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from model_api import metrics


@dataclass
class _Waiting:
    records: list[dict]
    answer: asyncio.Future


class Batcher:
    """One model path of one worker: `await predict(records)` returns their predictions."""

    def __init__(
        self,
        call: Callable[[list[dict]], list],
        path: str,
        max_rows: int,
        max_wait: float = 0.0,
        in_thread: bool = False,
    ) -> None:
        self._call = call
        self.path = path
        self.max_rows = max_rows
        self.max_wait = max_wait
        self.in_thread = in_thread
        self._queue: list[_Waiting] = []
        self._rows = 0
        self._full = asyncio.Event()
        self._draining: asyncio.Task | None = None

    async def predict(self, records: list[dict]) -> list:
        answer = asyncio.get_running_loop().create_future()
        self._queue.append(_Waiting(records, answer))
        self._rows += len(records)
        if self._rows >= self.max_rows:
            self._full.set()
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())
        return await answer

    async def _drain(self) -> None:
        try:
            while self._queue:
                await self._gather()
                batch = self._take()
                await self._run(batch)
        finally:
            self._draining = None

    async def _gather(self) -> None:
        """Let the requests that are ready join the batch: one loop turn, or up to max_wait
        while the batch is not full."""
        if self.max_wait <= 0 or self._rows >= self.max_rows:
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._full.wait(), self.max_wait)

    def _take(self) -> list[_Waiting]:
        """Whole requests from the head of the queue, up to max_rows records (a request
        larger than that goes alone)."""
        batch, rows = [], 0
        while self._queue and (not batch or rows + len(self._queue[0].records) <= self.max_rows):
            waiting = self._queue.pop(0)
            batch.append(waiting)
            rows += len(waiting.records)
        self._rows -= rows
        if self._rows < self.max_rows:
            self._full.clear()
        return batch

    async def _run(self, batch: list[_Waiting]) -> None:
        batch = [waiting for waiting in batch if not waiting.answer.done()]  # gone clients
        if not batch:
            return
        records = [record for waiting in batch for record in waiting.records]
        try:
            outputs = await self._predict(records)
        except Exception as error:
            if len(batch) == 1:
                _settle(batch[0].answer, error=error)
                return
            for waiting in batch:  # alone, so that the error stays with its own request
                await self._run([waiting])
            return
        start = 0
        for waiting in batch:
            end = start + len(waiting.records)
            _settle(waiting.answer, result=outputs[start:end])
            start = end

    async def _predict(self, records: list[dict]) -> list:
        if self.in_thread:
            outputs = await run_in_threadpool(self._call, records)
        else:
            outputs = self._call(records)
        if len(outputs) != len(records):
            raise ValueError(f"the model returned {len(outputs)} predictions for {len(records)}")
        metrics.BATCH_ROWS.labels(self.path).observe(len(records))
        return outputs


def _settle(answer: asyncio.Future, result=None, error: BaseException | None = None) -> None:
    if answer.done():
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(result)
