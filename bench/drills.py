"""`make drills` (python -m bench.drills): break the running replica the ways production
breaks, and measure how it recovers, under a load on the model API.

Each drill: counts of what the platform holds (experiments, runs, model versions, DAG runs)
are taken before; a load runs on /predict (but for the app host's own restart, which would
stop the load generator with it); the failure is made; the time until every service is
healthy again is measured; the counts are taken again and must not have dropped.
Results go to bench/results/drills-<UTC time>.json and the drills table of bench/README.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import report, scaleout
from bench.hosts import OnHost
from bench.load import Load
from bench.platform import Platform
from bench.provenance import commit, machine
from local import config, podman
from local.__main__ import up as local_up

RECOVERY_TIMEOUT = 180.0
LOAD_CONNECTIONS = 4
# A steady load, not the most the API takes: each connection pauses 20 ms between requests
# (at most 200 requests a second). Unpaced, 4 connections took 2,500 a second and both cores,
# so every restart competed with the load generator for CPU (the flood drill is the
# saturated case).
LOAD_PAUSE_MS = 20
LOAD_SECONDS = 40
BEFORE_FAILURE_SECONDS = 5
S3_OUTAGE_SECONDS = 20
FLOOD = {"connections": 256, "seconds": 20}
# Measured after the drills when the replica has 2 app hosts (--only picks it by this name).
THROUGHPUT = "throughput through the load balancer, 1 and 2 app hosts"
# (host, unit): every long-running unit of the platform
UNITS = (
    ("mlflow", "mlflow"),
    ("airflow", "airflow-api-server"),
    ("airflow", "airflow-scheduler"),
    ("airflow", "airflow-dag-processor"),
    ("airflow", "airflow-triggerer"),
    ("app", "model-api"),
    ("app", "dashboard"),
    ("s3", "seaweedfs"),
    ("rds", "postgresql@17-main"),
)


def unhealthy(platform: Platform) -> list[str]:
    """The services that do not answer as healthy now (empty: all do)."""
    checks: dict[str, Callable[[], bool]] = {
        "mlflow": lambda: _get(f"http://{platform.ip('mlflow')}:5000/health") == 200,
        "airflow": lambda: _airflow_healthy(platform),
        "model-api": lambda: _get(f"http://{platform.ip('app')}:8000/ready") == 200,
        "dashboard": lambda: _get(f"http://{platform.ip('app')}:8501/_stcore/health") == 200,
        "s3": lambda: _get(f"http://{platform.ip('s3')}:8333/") == 403,
        "postgresql": lambda: _database_answers(platform),
    }
    down = []
    for name, check in checks.items():
        try:
            ok = check()
        except Exception:
            ok = False
        if not ok:
            down.append(name)
    return down


def _get(url: str) -> int:
    return httpx.get(url, timeout=5).status_code


def _airflow_healthy(platform: Platform) -> bool:
    health = httpx.get(f"http://{platform.ip('airflow')}:8080/api/v2/monitor/health", timeout=5)
    components = health.json()
    return health.status_code == 200 and all(
        part.get("status") == "healthy" for part in components.values()
    )


def _database_answers(platform: Platform) -> bool:
    connection = platform.database("mlflow")
    with connection, connection.cursor() as cursor:
        cursor.execute("select 1")
        ok = cursor.fetchone() == (1,)
    connection.close()
    return ok


def recovery(
    platform: Platform,
    started: float,
    condition: Callable[[], bool],
    timeout: float | None = None,
) -> float | None:
    """Seconds from `started` until `condition()` and every service is healthy; None if not
    within `timeout` (RECOVERY_TIMEOUT by default)."""
    timeout = RECOVERY_TIMEOUT if timeout is None else timeout
    while time.monotonic() - started < timeout:
        if _holds(condition) and not unhealthy(platform):
            return round(time.monotonic() - started, 1)
        time.sleep(0.25)
    return None


def _holds(condition: Callable[[], bool]) -> bool:
    try:
        return condition()
    except Exception:  # what it asks is down: not yet
        return False


@dataclass(frozen=True)
class Drill:
    name: str
    host: str  # where the failure is made
    # does the failure; returns a condition that tells the failure is over
    fail: Callable[[OnHost], Callable[[], bool]]
    load: bool = True
    load_connections: int = LOAD_CONNECTIONS
    load_seconds: int = LOAD_SECONDS
    load_pause_ms: int = LOAD_PAUSE_MS
    timeout: float | None = None  # RECOVERY_TIMEOUT
    # the load goes through the load balancer (from the lb host) instead of to the app host
    load_through_lb: bool = False
    # hosts of a scalable group the drill needs (make up SCALE=...); skipped otherwise
    needs: tuple[tuple[str, int], ...] = ()


def kill_unit(unit: str) -> Callable[[OnHost], Callable[[], bool]]:
    def fail(host: OnHost) -> Callable[[], bool]:
        pid = host.sh(f"systemctl show -P MainPID {unit}").strip()
        if pid in ("", "0"):
            raise RuntimeError(f"{unit} on {host.host.name} is not running")
        host.sh(f"kill -9 {pid}")

        def restarted() -> bool:
            # key=value lines: systemctl prints the properties in its own order
            shown = host.sh(f"systemctl show -p ActiveState -p MainPID {unit}").split()
            state = dict(line.split("=", 1) for line in shown)
            return state["ActiveState"] == "active" and state["MainPID"] not in (pid, "0")

        return restarted

    return fail


def restart_host(host: OnHost) -> Callable[[], bool]:
    podman.run("restart", "--time", "30", host.container)
    return lambda: True


def restart_unit(unit: str) -> Callable[[OnHost], Callable[[], bool]]:
    def fail(host: OnHost) -> Callable[[], bool]:
        host.sh(f"systemctl restart {unit}")
        return lambda: True

    return fail


def stop_host_for(seconds: int) -> Callable[[OnHost], Callable[[], bool]]:
    def fail(host: OnHost) -> Callable[[], bool]:
        podman.run("stop", "--time", "30", host.container)
        time.sleep(seconds)
        podman.run("start", host.container)
        return lambda: True

    return fail


def replace_host(host: OnHost) -> Callable[[], bool]:
    """Remove the host, with all it keeps on its disk, and make it anew as `make up` does: a
    new container from the image, then the playbooks limited to it (a cold converge from the
    wheelhouse). What the platform holds must all be there after."""
    podman.remove_container(host.container)
    local_up(host.replica)
    playbook = Path(sys.executable).with_name("ansible-playbook")
    inventory = str(host.replica.inventory_dir)
    subprocess.run(
        [str(playbook), "-i", inventory, "ansible/site.yml", "--limit", host.host.name],
        cwd=config.REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return lambda: True


def flood(host: OnHost) -> Callable[[], bool]:
    return lambda: True  # the flood is the load itself (see DRILLS)


DRILLS: tuple[Drill, ...] = (
    *(Drill(f"kill -9 {unit}", host, kill_unit(unit)) for host, unit in UNITS),
    *(
        Drill(f"restart host {name}", name, restart_host, load=name != "app")
        for name in ("mlflow", "airflow", "app", "rds", "s3")
    ),
    Drill("restart PostgreSQL under load", "rds", restart_unit("postgresql@17-main")),
    Drill(
        f"stop the S3 host {S3_OUTAGE_SECONDS} s under load", "s3", stop_host_for(S3_OUTAGE_SECONDS)
    ),
    # MLflow keeps no state on its host (users and grants in PostgreSQL): a host made anew
    # must serve every user, permission, run and model. The API serves its loaded champion
    # meanwhile, so the load runs; the converge takes minutes.
    Drill("replace the MLflow host", "mlflow", replace_host, load_seconds=60, timeout=900.0),
    # The scaled-out replica (bench/scaleout.py): make up SCALE="app=2 airflow_worker=2".
    Drill(
        "app host drained and stopped behind the load balancer",
        "app-2",
        scaleout.app_host_out(graceful=True),
        load_through_lb=True,
        needs=(("app", 2),),
    ),
    Drill(
        "app host killed behind the load balancer",
        "app-2",
        scaleout.app_host_out(graceful=False),
        load_through_lb=True,
        needs=(("app", 2),),
    ),
    Drill(
        "Celery worker host killed during a training task",
        "airflow-worker-1",
        scaleout.worker_lost_in_training,
        load=False,
        timeout=600.0,
        needs=(("airflow_worker", 2),),
    ),
    Drill(
        f"flood: {FLOOD['connections']} connections for {FLOOD['seconds']} s",
        "app",
        flood,
        load_connections=FLOOD["connections"],
        load_seconds=FLOOD["seconds"],
        load_pause_ms=0,
    ),
)


def fits(replica: config.Replica, drill: Drill) -> bool:
    return all(replica.scale.get(group, 0) >= count for group, count in drill.needs)


def run(platform: Platform, drill: Drill) -> dict:
    app = OnHost.named(platform.replica, "app")
    target = OnHost.named(platform.replica, drill.host)
    if recovery(platform, time.monotonic(), lambda: True) is None:  # the last drill's tail
        down = ", ".join(unhealthy(platform))
        raise RuntimeError(f"{drill.name}: not healthy before the drill: {down}")
    before = platform.counts()
    figures = None
    if drill.load:
        where = OnHost.named(platform.replica, "lb") if drill.load_through_lb else app
        through = scaleout.through_lb(platform.replica) if drill.load_through_lb else {}
        with Load(
            where,
            platform.api_key,
            drill.load_connections,
            drill.load_seconds,
            drill.load_pause_ms,
            **through,
        ) as load:
            time.sleep(BEFORE_FAILURE_SECONDS)
            started = time.monotonic()
            over = drill.fail(target)
            failure = time.monotonic() - started
            recovered = recovery(platform, started, over, drill.timeout)
        figures = load.figures()
    else:
        started = time.monotonic()
        over = drill.fail(target)
        failure = time.monotonic() - started
        recovered = recovery(platform, started, over, drill.timeout)
    after = platform.counts() if recovered is not None else before
    result = {
        "name": drill.name,
        # seconds from the failure's start: recovered_s; the failure itself (a kill: an
        # instant; a host stopped 20 s: those 20 s and podman's stop and start): failure_s;
        # from its end: back_after_failure_s, what the drills' target (<= 30 s) is about
        "recovered_s": recovered,
        "failure_s": round(failure, 1),
        "back_after_failure_s": round(max(recovered - failure, 0.0), 1) if recovered else None,
        "load": figures,
        "counts_before": before,
        "lost": {key: after[key] - before[key] for key in before if after[key] < before[key]},
    }
    print(
        f"drill: {drill.name}: back in {recovered} s ({result['back_after_failure_s']} s after "
        f"the failure ended); "
        + (
            f"{figures['requests']} requests, {figures['error_answers']} error answers, "
            f"{figures['unavailable']} 503, connections dropped "
            f"{figures['dropped_connections']}, refused {figures['refused_connections']}"
            if figures
            else "no load"
        )
        + (f"; LOST {result['lost']}" if result["lost"] else "")
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drills", description=__doc__)
    parser.add_argument(
        "--only", default="", help="comma-separated texts: run the drills whose name has one"
    )
    parser.add_argument(
        "--load-seconds", type=int, default=None, help="wrk's time per drill (make test: short)"
    )
    report.add_results_argument(parser)
    args = parser.parse_args(argv)
    replica = config.from_env()
    platform = Platform(replica)
    taken_at = datetime.now(UTC)
    texts = [text.strip() for text in args.only.split(",")] if args.only else [""]
    chosen = [drill for drill in DRILLS if any(text in drill.name for text in texts)]
    if args.load_seconds:
        chosen = [replace(drill, load_seconds=args.load_seconds) for drill in chosen]
    if not chosen and not any(text in THROUGHPUT for text in texts):
        raise SystemExit(f"no drill matches {args.only!r}")
    for drill in [d for d in chosen if not fits(replica, d)]:
        needs = " ".join(f"{group}={count}" for group, count in drill.needs)
        print(f'drill: {drill.name}: skipped, needs make up SCALE="{needs}"')
        chosen.remove(drill)
    results: list[dict] = []
    data = {
        "taken_at": taken_at.isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "replica": replica.name,
        "drills": {
            "recovery_timeout_s": RECOVERY_TIMEOUT,
            "load": f"wrk, {LOAD_CONNECTIONS} connections, {LOAD_PAUSE_MS} ms between a "
            "connection's requests, 1-record /predict, on the app host",
            "drills": results,
        },
    }
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"drills-{taken_at:%Y%m%dT%H%M%SZ}.json"
    for drill in chosen:
        results.append(run(platform, drill))
        report.keep(path, data)  # each drill kept as it ends
    if replica.scale["app"] >= 2 and any(text in THROUGHPUT for text in texts):
        measured = scaleout.throughput(replica, platform.api_key)
        data["drills"]["throughput_through_lb"] = measured
        print(f"drills: {THROUGHPUT}: {measured}")
        report.keep(path, data)
    print(f"drills: {path}")
    failed = [r["name"] for r in results if r["recovered_s"] is None or r["lost"]]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
