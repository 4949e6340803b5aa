"""Serving: our model API against `mlflow models serve`, same champion, same host, same load.

Both run on the app host with the same number of uvicorn workers; wrk runs there too and
calls each over loopback, one after the other, for every (rows per request, connections).
Before the load, both are sent the same records and must answer the same predictions.
"""

from __future__ import annotations

import csv
import json
import re
import shlex
from pathlib import Path

from bench import wrk
from bench.hosts import OnHost
from local import config

DATASET = config.REPO / "datasets" / "wine.csv"
TARGET = "cultivar"
OURS = "http://127.0.0.1:8000"
THEIRS_PORT = 5055
THEIRS = f"http://127.0.0.1:{THEIRS_PORT}"
THEIRS_UNIT = "bench-mlflow-serve"
ROWS = (1, 100)
CONNECTIONS = (1, 16, 64)
WARMUP_SECONDS = 3


def records(count: int, path: Path = DATASET, target: str = TARGET) -> list[dict]:
    """The first `count` rows of the demo dataset, without the target, as JSON numbers."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if count > len(rows):
        raise ValueError(f"{path.name} has {len(rows)} rows, {count} were asked for")
    return [
        {name: float(value) for name, value in row.items() if name != target}
        for row in rows[:count]
    ]


def unit_property(app: OnHost, unit: str, name: str) -> str:
    return app.sh(f"systemctl show -P {name} {unit}").strip()


def workers_of(exec_start: str) -> int:
    """The --workers of the model API's uvicorn command line (1 when it has none)."""
    found = re.search(r"--workers[ =](\d+)", exec_start)
    return int(found.group(1)) if found else 1


def start_theirs(app: OnHost, model: str, workers: int) -> float:
    """`mlflow models serve` of `model` (a models:/ URI) as the model API's user, with its
    MLflow credentials and virtualenv, in a transient unit; seconds until it answers /ping."""
    env_file = unit_property(app, "model-api", "EnvironmentFiles").split()[0]
    app.sh(
        f"systemctl stop {THEIRS_UNIT} 2>/dev/null || true; "
        f"systemctl reset-failed {THEIRS_UNIT} 2>/dev/null || true"
    )
    app.sh(
        f"systemd-run --unit={THEIRS_UNIT} --property=User=model-api "
        f"--property=EnvironmentFile={env_file} --property=PrivateTmp=yes "
        "--property=RuntimeMaxSec=1800 --setenv=HOME=/tmp "
        "--setenv=PATH=/opt/model-api/venv/bin:/usr/sbin:/usr/bin:/sbin:/bin "
        "/opt/model-api/venv/bin/mlflow models serve --env-manager local "
        f"--model-uri {model} --host 127.0.0.1 --port {THEIRS_PORT} --workers {workers}"
    )
    return app.wait_until_ok(f"{THEIRS}/ping", timeout=300, unit=THEIRS_UNIT)


def stop_theirs(app: OnHost) -> None:
    app.sh(f"systemctl stop {THEIRS_UNIT} 2>/dev/null || true")


def ratios(runs: list[dict]) -> list[dict]:
    """ours / theirs for each (rows, connections) both were measured at."""
    by_key = {(run["target"], run["rows"], run["connections"]): run for run in runs}
    out = []
    for (target, rows, connections), ours in sorted(by_key.items()):
        theirs = by_key.get(("mlflow_serve", rows, connections))
        if target != "model_api" or theirs is None:
            continue
        out.append(
            {
                "rows": rows,
                "connections": connections,
                "requests_per_s": _ratio(ours["requests_per_s"], theirs["requests_per_s"]),
                "p99": _ratio(ours["p99_ms"], theirs["p99_ms"]),
            }
        )
    return out


def _ratio(ours: float, theirs: float) -> float | None:
    return round(ours / theirs, 2) if theirs else None


def measure(replica: config.Replica, api_key: str, duration: int) -> dict:
    app = OnHost.named(replica, "app")
    app.sh("command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)")
    app.wait_until_ok(f"{OURS}/ready", timeout=60)
    served = app_json(app, f"{OURS}/model", api_key)
    model = f"models:/{served['name']}/{served['version']}"
    workers = workers_of(unit_property(app, "model-api", "ExecStart"))
    startup = start_theirs(app, model, workers)
    try:
        check_same_predictions(app, api_key)
        runs = []
        for rows in ROWS:
            for target, url, body, headers in targets(rows, api_key):
                script = f"/tmp/bench-{target}-{rows}.lua"  # noqa: S108 - on the app host
                app.write(script, wrk.post_script(json.dumps(body), headers))
                app.sh(" ".join(wrk.command(url, script, 16, WARMUP_SECONDS)) + " >/dev/null")
                for connections in CONNECTIONS:
                    output = app.sh(" ".join(wrk.command(url, script, connections, duration)))
                    summary = wrk.parse(output)
                    runs.append(
                        {"target": target, "rows": rows, "connections": connections}
                        | summary.as_dict(rows)
                    )
                    print(
                        f"serving: {target:12} rows={rows:<3} c={connections:<2} "
                        f"{summary.requests_per_s:8.1f} req/s  p99 {summary.p99_ms:7.1f} ms  "
                        f"failed {summary.failed}"
                    )
                app.sh(f"rm -f {script}")
    finally:
        stop_theirs(app)
    return {
        "model": f"{served['name']} v{served['version']}",
        "workers": workers,
        "duration_s": duration,
        "mlflow_serve_startup_s": round(startup, 1),
        "versions": host_versions(app),
        "load_generator": app.sh("wrk --version 2>&1 | head -1 || true")
        .split(" Copyright")[0]
        .strip(),
        "runs": runs,
        "ratios": ratios(runs),
    }


def host_versions(app: OnHost) -> dict:
    """The versions the app host's virtualenv runs (both servers use it)."""
    names = ["mlflow-skinny", "fastapi", "uvicorn", "scikit-learn", "pandas"]
    probe = (
        "import json, sys\nfrom importlib import metadata\n"
        "print(json.dumps({n: metadata.version(n) for n in sys.argv[1:]}))"
    )
    argv = " ".join(shlex.quote(arg) for arg in ["-c", probe, *names])
    return json.loads(app.sh(f"/opt/model-api/venv/bin/python {argv}"))


def targets(rows: int, api_key: str) -> list[tuple[str, str, dict, dict]]:
    batch = records(rows)
    return [
        ("model_api", f"{OURS}/predict", {"records": batch}, {"X-API-Key": api_key}),
        ("mlflow_serve", f"{THEIRS}/invocations", {"dataframe_records": batch}, {}),
    ]


def app_json(app: OnHost, url: str, api_key: str) -> dict:
    probe = (
        "import sys, urllib.request\n"
        "request = urllib.request.Request(sys.argv[1], headers={'X-API-Key': sys.argv[2]})\n"
        "print(urllib.request.urlopen(request, timeout=30).read().decode())\n"
    )
    return json.loads(
        app.sh(f"python3 -c {shlex.quote(probe)} {shlex.quote(url)} {shlex.quote(api_key)}")
    )


def check_same_predictions(app: OnHost, api_key: str) -> None:
    """Both servers answer the same predictions for the 100 records, or the bench stops."""
    (_, ours_url, ours_body, ours_headers), (_, their_url, their_body, _) = targets(100, api_key)
    ours = app.post_json(ours_url, ours_body, ours_headers)["predictions"]
    theirs = app.post_json(their_url, their_body, {})["predictions"]
    if ours != theirs:
        raise AssertionError(
            f"the two servers disagree: ours {ours[:5]}..., theirs {theirs[:5]}..."
        )
