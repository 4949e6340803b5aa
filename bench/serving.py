"""Serving: our model API against `mlflow models serve`, same champion, same host, same load.

Three servers run on the app host with the same number of uvicorn workers: the model API as
deployed (ONNX Runtime where proven equal, adaptive batching), the same API held to pyfunc
(MODEL_API_FAST_PATH=false: what batching alone brings), and `mlflow models serve`. wrk runs
there too and calls each over loopback, one after the other, for every (rows per request,
connections). Before the load, all are sent the same records and must answer the same
predictions.
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
PYFUNC_PORT = 8001
PYFUNC = f"http://127.0.0.1:{PYFUNC_PORT}"
PYFUNC_UNIT = "bench-model-api-pyfunc"
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


def start_pyfunc(app: OnHost, workers: int) -> float:
    """The model API as deployed but held to pyfunc, on PYFUNC_PORT, in a transient unit
    with its own metrics directory and no webhook; seconds until it serves (/ready)."""
    env_file = unit_property(app, "model-api", "EnvironmentFiles")
    overrides = {
        "MODEL_API_FAST_PATH": "false",
        "MODEL_API_WEBHOOK_SECRET": "",
        "MODEL_API_WAKE_FILE": "",
        "PROMETHEUS_MULTIPROC_DIR": f"/run/{PYFUNC_UNIT}",
    }
    _stop(app, PYFUNC_UNIT)
    # the env file's values win over systemd's Environment=: env(1) sets the overrides last
    app.sh(
        f"systemd-run --unit={PYFUNC_UNIT} --property=User=model-api "
        f"--property=EnvironmentFile={env_file.split()[0]} --property=PrivateTmp=yes "
        f"--property=RuntimeDirectory={PYFUNC_UNIT} --property=RuntimeMaxSec=1800 "
        f"/usr/bin/env {' '.join(f'{k}={v}' for k, v in overrides.items())} "
        "/opt/model-api/venv/bin/python -m model_api.serve --factory model_api.main:create_app "
        f"--host 127.0.0.1 --port {PYFUNC_PORT} "
        f"--workers {workers} --loop uvloop --http httptools --no-server-header"
    )
    return app.wait_until_ok(f"{PYFUNC}/ready", timeout=300, unit=PYFUNC_UNIT)


def _stop(app: OnHost, unit: str) -> None:
    app.sh(
        f"systemctl stop {unit} 2>/dev/null || true; systemctl reset-failed {unit} 2>/dev/null"
        " || true"
    )


def stop_servers(app: OnHost) -> None:
    for unit in (THEIRS_UNIT, PYFUNC_UNIT):
        _stop(app, unit)


def ratios(runs: list[dict]) -> list[dict]:
    """ours / theirs for each of our targets and (rows, connections) both were measured at."""
    by_key = {(run["target"], run["rows"], run["connections"]): run for run in runs}
    out = []
    for (target, rows, connections), ours in sorted(by_key.items()):
        theirs = by_key.get(("mlflow_serve", rows, connections))
        if target == "mlflow_serve" or theirs is None:
            continue
        out.append(
            {
                "target": target,
                "rows": rows,
                "connections": connections,
                "requests_per_s": _ratio(ours["requests_per_s"], theirs["requests_per_s"]),
                "p99": _ratio(ours["p99_ms"], theirs["p99_ms"]),
            }
        )
    return out


def _ratio(ours: float, theirs: float) -> float | None:
    return round(ours / theirs, 2) if theirs else None


def measure(
    replica: config.Replica,
    api_key: str,
    duration: int,
    connections_grid: tuple[int, ...] = CONNECTIONS,
    warmup: int = WARMUP_SECONDS,
) -> dict:
    app = OnHost.named(replica, "app")
    app.sh(wrk.INSTALL)
    app.wait_until_ok(f"{OURS}/ready", timeout=60)
    served = app_json(app, f"{OURS}/model", api_key)
    model = f"models:/{served['name']}/{served['version']}"
    workers = workers_of(unit_property(app, "model-api", "ExecStart"))
    startup = start_theirs(app, model, workers)
    pyfunc_startup = start_pyfunc(app, workers)
    try:
        check_same_predictions(app, api_key)
        runs = []
        for rows in ROWS:
            for target, url, body, headers in targets(rows, api_key):
                script = f"/tmp/bench-{target}-{rows}.lua"  # noqa: S108 - on the app host
                app.write(script, wrk.post_script(json.dumps(body), headers))
                app.sh(" ".join(wrk.command(url, script, 16, warmup)) + " >/dev/null")
                for connections in connections_grid:
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
        stop_servers(app)
    return {
        "model": f"{served['name']} v{served['version']}",
        "workers": workers,
        "duration_s": duration,
        "mlflow_serve_startup_s": round(startup, 1),
        "model_api_pyfunc_startup_s": round(pyfunc_startup, 1),
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
    ours = {"records": batch}, {"X-API-Key": api_key}
    return [
        ("model_api", f"{OURS}/predict", *ours),
        ("model_api_pyfunc", f"{PYFUNC}/predict", *ours),
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
    """Every server answers the same predictions for the 100 records, or the bench stops."""
    answers = {
        target: app.post_json(url, body, headers)["predictions"]
        for target, url, body, headers in targets(100, api_key)
    }
    if len({json.dumps(predictions) for predictions in answers.values()}) != 1:
        raise AssertionError(
            "the servers disagree: "
            + "; ".join(f"{target} {predictions[:5]}..." for target, predictions in answers.items())
        )
