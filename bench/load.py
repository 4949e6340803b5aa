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
        self,
        app: OnHost,
        api_key: str,
        connections: int,
        seconds: int,
        pause_ms: int = 0,
        url: str = f"{serving.OURS}/predict",
        headers: dict[str, str] | None = None,
    ) -> None:
        """`url` and `headers`: another way to the API, e.g. through the load balancer
        (https://127.0.0.1:443/predict on the lb host with the API's Host header)."""
        self.app = app
        self.script = f"/tmp/bench-load-{connections}.lua"  # noqa: S108 - on the app host
        self.argv = wrk.command(url, self.script, connections, seconds)
        body = json.dumps({"records": serving.records(1)})
        self._content = wrk.post_script(
            body, {"X-API-Key": api_key, **(headers or {})}, statuses=True, pause_ms=pause_ms
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
        return figures(self.summary)


def figures(summary: wrk.Summary) -> dict:
    """A load's summary, and what failed split: answers with an error status other than 503
    (what the drills' target forbids), 503 (no model loaded), and connections dropped or
    refused (a process killed, a host down: wrk reconnects at once, so they count tries)."""
    found = summary.as_dict()
    found["unavailable"] = summary.statuses.get(503, 0)
    found["error_answers"] = sum(
        count for status, count in summary.statuses.items() if status >= 400 and status != 503
    )
    return found
