"""A load on the model API while something else happens: wrk on the app host, calling
/predict with one demo record over loopback, in a thread, for a fixed time (as fast as the API
answers, or paced: `pause_ms` between a connection's requests)."""

from __future__ import annotations

import json
import threading

from bench import serving, wrk
from bench.hosts import OnHost


class Load:
    """`with Load(app, key, connections, seconds) as load: ...`; then `load.summary`."""

    def __init__(
        self, app: OnHost, api_key: str, connections: int, seconds: int, pause_ms: int = 0
    ) -> None:
        self.app = app
        self.script = f"/tmp/bench-load-{connections}.lua"  # noqa: S108 - on the app host
        self.argv = wrk.command(f"{serving.OURS}/predict", self.script, connections, seconds)
        body = json.dumps({"records": serving.records(1)})
        self._content = wrk.post_script(
            body, {"X-API-Key": api_key}, statuses=True, pause_ms=pause_ms
        )
        self._output: dict[str, str | BaseException] = {}
        self._thread = threading.Thread(target=self._run, name="bench-load")
        self.summary: wrk.Summary | None = None

    def _run(self) -> None:
        try:
            self._output["text"] = self.app.sh(" ".join(self.argv))
        except BaseException as error:  # reported by __exit__
            self._output["error"] = error

    def __enter__(self) -> Load:
        self.app.sh(wrk.INSTALL)
        self.app.write(self.script, self._content)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._thread.join()
        self.app.sh(f"rm -f {self.script}")
        if "error" in self._output:
            raise RuntimeError(f"the load generator failed: {self._output['error']}")
        self.summary = wrk.parse(self._output["text"])

    def figures(self) -> dict:
        """The summary, and the failures split: 503 (no model loaded) and the others."""
        figures = self.summary.as_dict()
        unavailable = self.summary.statuses.get(503, 0)
        figures["unavailable"] = unavailable
        figures["failed_other"] = self.summary.failed - unavailable
        return figures
