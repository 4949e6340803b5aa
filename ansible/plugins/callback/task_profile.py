"""Record how long each task ran on each host, into the JSON file MLOPS_TASK_PROFILE names.

Does nothing unless that variable is set. Unlike profile_tasks, it times each host's run of
a task on its own (v2_runner_on_start to its result), so the figures hold under the free
strategy too. `python -m local profile` uses it to measure a cold converge; the AWS
connection's command time-out is checked against that measurement (tests/aws).
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: task_profile
    type: aggregate
    short_description: each task's run time on each host, as JSON
    description:
      - Writes [{host, task, role, seconds}] to the file named by MLOPS_TASK_PROFILE.
    requirements:
      - MLOPS_TASK_PROFILE set to a writable path
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_profile"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self):
        super().__init__()
        self._path = os.environ.get("MLOPS_TASK_PROFILE")
        self._started: dict[tuple[str, str], float] = {}
        self._records: list[dict] = []
        self._origin = time.monotonic()
        self._play = None

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def v2_runner_on_start(self, host, task):
        if self._path:
            self._started[(host.get_name(), task._uuid)] = time.monotonic()

    def _done(self, result, *_args, **_kwargs):
        started = self._started.pop((result._host.get_name(), result._task._uuid), None)
        if started is None:
            return
        task = result._task
        self._records.append(
            {
                "host": result._host.get_name(),
                "task": task.get_name(),
                "role": task._role.get_name() if task._role else None,
                "play": self._play,
                "started": round(started - self._origin, 1),
                "seconds": round(time.monotonic() - started, 1),
            }
        )

    v2_runner_on_ok = v2_runner_on_failed = v2_runner_on_skipped = _done
    v2_runner_on_unreachable = _done

    def v2_playbook_on_stats(self, stats):
        if self._path:
            with open(self._path, "w", encoding="utf-8") as fh:
                json.dump(self._records, fh, indent=1)
