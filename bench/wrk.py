"""Debian's wrk as the load generator: a POST script in, one JSON summary out.

wrk runs on the host that serves, against loopback, bounded in time (`duration`) and in
connections. Its `done` hook prints the summary as one JSON line, so nothing is scraped from
wrk's human-readable report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

MARKER = "WRK_JSON "
# Run on the host before wrk: Debian's package, installed once (the hosts are made without it).
INSTALL = "command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)"
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, ' ..
    '"statuses": {%s}}\\n',
    "MARKER", summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, statuses_json()))
end
""".replace('"MARKER"', json.dumps(MARKER))
# Each thread counts the answers' statuses; `done` adds them up (wrk copies a thread's
# tables out with thread:get). A `response` hook makes wrk read every body: a little slower.
_STATUSES = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function statuses_json()
  local total, parts = {}, {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  return table.concat(parts, ", ")
end
"""
_NO_STATUSES = 'function statuses_json() return "" end\n'


def post_script(
    body: str, headers: dict[str, str], statuses: bool = False, pause_ms: int = 0
) -> str:
    """A wrk Lua script that POSTs `body` (JSON) with `headers` and reports as JSON; with
    `statuses`, the answers are counted by HTTP status too; with `pause_ms`, each connection
    waits that long between an answer and its next request (wrk's `delay` hook): a steady
    load of at most connections * 1000 / pause_ms requests a second, not as many as the
    server can take."""
    if "]==]" in body:
        raise ValueError("the body cannot be quoted in a Lua long string")
    lines = ['wrk.method = "POST"', f"wrk.body = [==[{body}]==]"]
    if pause_ms:
        lines.append(f"function delay() return {int(pause_ms)} end")
    for name, value in {"Content-Type": "application/json", **headers}.items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    return "\n".join(lines) + "\n" + (_STATUSES if statuses else _NO_STATUSES) + _DONE


def command(url: str, script: str, connections: int, duration: int) -> list[str]:
    """wrk's argument list: one thread per connection up to two (the hosts have 2 cores).

    wrk takes whole seconds only.
    """
    if connections < 1 or duration < 1 or int(duration) != duration:
        raise ValueError("connections must be >= 1 and duration a whole number of seconds")
    threads = min(connections, 2)
    return [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={int(duration)}s",
        "--timeout=10s",
        f"--script={script}",
        url,
    ]


@dataclass(frozen=True)
class Summary:
    """What one wrk run measured."""

    requests: int
    seconds: float
    failed: int  # non-2xx/3xx answers, timeouts, reads and writes that failed
    refused: int  # connections that could not be opened (wrk retries at once: many)
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int] = field(default_factory=dict)  # with post_script(statuses=True)
    # connections that failed once open: reads and writes (reset, closed) and timeouts
    dropped: int = 0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self, rows: int = 1) -> dict:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "failed": self.failed,
            "refused_connections": self.refused,
            "dropped_connections": self.dropped,
            "requests_per_s": round(self.requests_per_s, 1),
            "rows_per_s": round(self.requests_per_s * rows, 1),
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            **(
                {"statuses": {str(k): v for k, v in sorted(self.statuses.items())}}
                if self.statuses
                else {}
            ),
        }


def parse(output: str) -> Summary:
    """The summary line the script's `done` hook printed; ValueError when there is none."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            break
    else:
        raise ValueError(f"wrk printed no summary; its output was: {output[-500:]!r}")
    errors = data["errors"]
    latency = data["latency_us"]
    return Summary(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        failed=errors["status"] + errors["timeout"] + errors["read"] + errors["write"],
        refused=errors["connect"],
        dropped=errors["timeout"] + errors["read"] + errors["write"],
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        statuses={int(status): count for status, count in data.get("statuses", {}).items()},
    )
