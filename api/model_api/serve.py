"""The model API's command under systemd: `python -m model_api.serve UVICORN_ARGS...`.

uvicorn's command line, run as it is; then Python's multiprocessing resource tracker is stopped
before this process exits. Spawning uvicorn's workers (and their loader processes) starts that
tracker, a process that ignores SIGTERM and exits only after this one: on a stop, systemd found
it still there when the main process exited, and where systemd cannot see a unit's cgroup
become empty (cgroup v1 inside the replica's containers) it then waited TimeoutStopSec, 10 s
on every restart, before starting the API again. Stopped here, this process exits last and a
restart takes a fraction of a second.
"""

from __future__ import annotations

import sys
from multiprocessing import resource_tracker

import uvicorn


def main(argv: list[str] | None = None) -> None:
    try:
        uvicorn.main.main(args=argv, prog_name="uvicorn", standalone_mode=False)
    finally:
        stop = getattr(resource_tracker._resource_tracker, "_stop", None)
        if stop is not None:
            stop()


if __name__ == "__main__":
    main(sys.argv[1:])
