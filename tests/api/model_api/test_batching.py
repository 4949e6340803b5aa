"""Adaptive batching: concurrent requests share model calls, and each keeps its own answer."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from model_api.batching import Batcher
from tests.api.model_api import fakes
from tests.api.model_api.fakes import API_KEY, record


class Model:
    """Predicts each record's "x" doubled; remembers every call; can be held in a call, and
    fails a call that carries a record with "bad"."""

    def __init__(self) -> None:
        self.calls: list[list[dict]] = []
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()

    def __call__(self, records: list[dict]) -> list:
        self.calls.append(records)
        self.entered.set()
        self.release.wait(5)
        if any("bad" in record for record in records):
            raise ValueError("a bad record")
        return [record["x"] * 2 for record in records]


def rows(*values: int) -> list[dict]:
    return [{"x": value} for value in values]


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_lone_request_goes_at_once() -> None:
    model = Model()

    async def scenario():
        batcher = Batcher(model, "pyfunc", max_rows=8, in_thread=True)
        return await asyncio.wait_for(batcher.predict(rows(1, 2)), 1)

    assert run(scenario()) == [2, 4]
    assert model.calls == [rows(1, 2)]


def test_requests_that_arrive_while_the_model_is_busy_share_its_next_call() -> None:
    model = Model()

    async def scenario():
        batcher = Batcher(model, "pyfunc", max_rows=100, in_thread=True)
        model.release.clear()
        first = asyncio.create_task(batcher.predict(rows(1)))
        await asyncio.to_thread(model.entered.wait, 5)  # the first call is running
        others = [asyncio.create_task(batcher.predict(rows(i, i + 1))) for i in (10, 20, 30)]
        await asyncio.sleep(0.05)
        model.release.set()
        return await first, await asyncio.gather(*others)

    first, others = run(scenario())
    assert first == [2]
    assert others == [[20, 22], [40, 42], [60, 62]]  # each its own, in its order
    assert model.calls == [rows(1), rows(10, 11, 20, 21, 30, 31)]


def test_a_call_takes_whole_requests_up_to_max_rows() -> None:
    model = Model()

    async def scenario():
        batcher = Batcher(model, "onnx", max_rows=4)
        sizes = [2, 2, 3, 6, 1]
        waits = [batcher.predict(rows(*range(10 * i, 10 * i + n))) for i, n in enumerate(sizes)]
        return await asyncio.gather(*waits)

    answers = run(scenario())
    assert [len(answer) for answer in answers] == [2, 2, 3, 6, 1]
    # 2+2 fill a call; 3 does not fit beside them; 6 is larger than max_rows and goes alone
    assert [len(call) for call in model.calls] == [4, 3, 6, 1]


def test_max_wait_holds_a_batch_for_more_records_until_it_is_full() -> None:
    model = Model()

    async def scenario():
        batcher = Batcher(model, "onnx", max_rows=3, max_wait=5.0)
        first = asyncio.create_task(batcher.predict(rows(1)))
        await asyncio.sleep(0.1)
        assert model.calls == []  # waiting for company
        second = asyncio.create_task(batcher.predict(rows(2, 3)))  # now full: goes at once
        return await asyncio.wait_for(asyncio.gather(first, second), 1)

    assert run(scenario()) == [[2], [4, 6]]
    assert model.calls == [rows(1, 2, 3)]


def test_max_wait_lets_a_batch_that_is_not_full_go_when_it_runs_out() -> None:
    model = Model()

    async def scenario():
        batcher = Batcher(model, "onnx", max_rows=100, max_wait=0.05)
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer = await batcher.predict(rows(4))
        return answer, loop.time() - started

    answer, waited = run(scenario())
    assert answer == [8]
    assert 0.04 <= waited < 1


def test_an_error_reaches_only_the_request_that_caused_it() -> None:
    model = Model()

    async def scenario():
        batcher = Batcher(model, "pyfunc", max_rows=100, in_thread=True)
        bad = [{"x": 2, "bad": 1}]
        waits = [batcher.predict(rows(1)), batcher.predict(bad), batcher.predict(rows(3))]
        return await asyncio.gather(*waits, return_exceptions=True)

    good, bad, other = run(scenario())
    assert (good, other) == ([2], [6])
    assert isinstance(bad, ValueError)
    assert [len(call) for call in model.calls] == [3, 1, 1, 1]  # together, then each alone


def test_a_model_that_returns_too_few_predictions_is_an_error() -> None:
    async def scenario():
        batcher = Batcher(lambda records: records[1:], "pyfunc", max_rows=10)
        return await batcher.predict(rows(1, 2))

    with pytest.raises(ValueError, match="1 predictions for 2"):
        run(scenario())


def test_a_request_whose_client_went_away_is_left_out() -> None:
    model = Model()

    async def scenario():
        batcher = Batcher(model, "pyfunc", max_rows=100, in_thread=True)
        model.release.clear()
        first = asyncio.create_task(batcher.predict(rows(1)))
        await asyncio.to_thread(model.entered.wait, 5)
        gone = asyncio.create_task(batcher.predict(rows(5)))
        kept = asyncio.create_task(batcher.predict(rows(7)))
        await asyncio.sleep(0)
        gone.cancel()
        model.release.set()
        return await first, await kept

    assert run(scenario()) == ([2], [14])
    assert model.calls == [rows(1), rows(7)]


def test_concurrent_http_requests_share_pyfunc_calls_and_are_counted() -> None:
    """Through the app: 20 requests at once reach the model in fewer calls, each answered
    with its own predictions."""
    model = fakes.loaded_model()
    app = fakes.app(model)

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api", headers={"X-API-Key": API_KEY}
        ) as client:
            bodies = [{"records": [record(count=i)] * (1 + i % 3)} for i in range(20)]
            responses = await asyncio.gather(*(client.post("/predict", json=b) for b in bodies))
            return bodies, responses, (await client.get("/metrics")).text

    bodies, responses, metrics = run(scenario())
    for body, response in zip(bodies, responses, strict=True):
        assert response.status_code == 200, response.text
        assert response.json()["predictions"] == ["class_1"] * len(body["records"])
    frames = model.pyfunc.frames
    assert len(frames) < len(bodies)
    assert sum(len(frame) for frame in frames) == sum(len(b["records"]) for b in bodies)
    assert 'model_api_batch_rows_count{path="pyfunc"}' in metrics
