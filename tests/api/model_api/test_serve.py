"""model_api.serve: uvicorn's command line, and no resource tracker left behind it."""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing import resource_tracker

from model_api import serve


def test_runs_uvicorn_and_stops_the_resource_tracker(capsys) -> None:
    # A spawned process starts the tracker, as uvicorn's workers do.
    process = multiprocessing.get_context("spawn").Process(target=os.getpid)
    process.start()
    process.join()
    tracker = resource_tracker._resource_tracker
    assert tracker._pid is not None
    serve.main(["--version"])
    assert "uvicorn" in capsys.readouterr().out.lower()  # uvicorn's own command line ran
    assert tracker._pid is None  # stopped and waited for: the caller exits last
