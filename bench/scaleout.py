"""The scaled-out replica's drills (`make up SCALE="app=2 airflow_worker=2"`): a Celery
worker host lost in the middle of a training task, an app host taken out from behind the load
balancer (drained and stopped, or killed) while a load runs through it, and the throughput
through the load balancer with one and with two app hosts.

The load runs on the lb host against its own HAProxy (https://127.0.0.1:443 with the API's
Host header; the port in digits: the hosts have no /etc/services), so it crosses the load
balancer, TLS included, as users' requests do.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench.hosts import OnHost
from bench.load import Load
from bench.platform import Platform
from local import config, podman
from local.clients import wait

LB_SOCKET = "/run/haproxy/admin.sock"  # roles/load_balancer: HAProxy's runtime API
# The backends (HAProxy's server names are their addresses) the app hosts serve in.
APP_SERVICES = ("api", "dashboard")
TRAINING_DAG, TRAINING_TASK = "train_model", "train"


def through_lb(replica: config.Replica) -> dict:
    """Load arguments that send the requests through the load balancer."""
    return {
        "url": "https://127.0.0.1:443/predict",
        "headers": {"Host": replica.service_name("api")},
    }


def lb_command(replica: config.Replica, command: str) -> str:
    """One command to HAProxy's runtime API on the lb host, e.g. `show servers state`."""
    lb = OnHost.named(replica, "lb")
    return lb.sh(f"echo '{command}' | socat stdio {LB_SOCKET}")


def set_app_host(replica: config.Replica, address: str, state: str) -> None:
    """ready, drain or maint for an app host's backends (the API and the dashboard)."""
    for service in APP_SERVICES:
        lb_command(replica, f"set server {service}/{address} state {state}")


def sessions(replica: config.Replica, address: str) -> int:
    """Connections HAProxy has open to an app host's API backend now (scur)."""
    for line in lb_command(replica, "show stat").splitlines():
        fields = line.split(",")
        if len(fields) > 4 and fields[0] == "api" and fields[1] == address:
            return int(fields[4] or 0)
    raise RuntimeError(f"the load balancer has no api backend {address}")


def app_host_out(graceful: bool, seconds: int = 10) -> Callable[[OnHost], Callable[[], bool]]:
    """Take an app host out from behind the load balancer under load: drained first and stopped
    (graceful), or killed outright; it comes back after `seconds` and is let in again."""

    def fail(host: OnHost) -> Callable[[], bool]:
        replica = host.replica
        if graceful:
            set_app_host(replica, host.ip, "drain")
            deadline = time.monotonic() + 10
            while sessions(replica, host.ip) and time.monotonic() < deadline:
                time.sleep(0.2)
            podman.run("stop", "--time", "30", host.container)
        else:
            podman.run("kill", host.container)
        time.sleep(seconds)
        podman.run("start", host.container)

        def back() -> bool:
            if host.status("http://127.0.0.1:8000/ready") != 200:
                return False
            set_app_host(replica, host.ip, "ready")
            return True

        return back

    return fail


def worker_lost_in_training(host: OnHost) -> Callable[[], bool]:
    """Start a training run, kill (SIGKILL, the whole host) the worker that runs its training
    task, and wait for the run: the scheduler must see the task lost (no heartbeat), retry it,
    and another worker must finish it. The killed host is started again at the end."""
    platform = Platform(host.replica)
    api = platform.airflow
    run_id = api.trigger(TRAINING_DAG)
    path = f"/api/v2/dags/{TRAINING_DAG}/dagRuns/{run_id}/taskInstances/{TRAINING_TASK}"

    def running() -> dict:
        task = api("GET", path)
        if task["state"] != "running" or not task.get("hostname"):
            raise RuntimeError(f"{TRAINING_TASK} of {run_id} is not running: {task['state']}")
        return task

    task = wait(running, timeout=300, interval=0.5)
    victim = _host_at(host.replica, task["hostname"])
    podman.run("kill", host.replica.container(victim))
    killed = {"host": victim.name, "address": task["hostname"]}

    def finished_elsewhere() -> bool:
        run = api("GET", f"/api/v2/dags/{TRAINING_DAG}/dagRuns/{run_id}")
        if run["state"] == "failed":
            raise RuntimeError(f"{run_id} failed after the worker was killed")
        if run["state"] != "success":
            return False
        task = api("GET", path)
        if task["hostname"] == killed["address"] or task["try_number"] < 2:
            raise RuntimeError(f"{TRAINING_TASK} was not retried elsewhere: {task}")
        podman.run("start", host.replica.container(victim))
        return True

    return finished_elsewhere


def _host_at(replica: config.Replica, address: str) -> config.Host:
    (found,) = [h for h in replica.hosts if replica.ip(h) == address]
    return found


def throughput(replica: config.Replica, api_key: str, seconds: int = 15) -> dict:
    """Requests a second through the load balancer with the first app host alone (the others
    in maintenance) and with every app host, unpaced, 8 connections; and their ratio."""
    lb = OnHost.named(replica, "lb")
    apps = [h for h in replica.hosts if "app" in h.groups]
    if len(apps) < 2:
        raise SystemExit("throughput: needs 2 app hosts (make up SCALE=app=2)")
    rates = {}
    for count in (1, len(apps)):
        for n, app in enumerate(apps):
            set_app_host(replica, replica.ip(app), "ready" if n < count else "maint")
        time.sleep(1)
        with Load(lb, api_key, 8, seconds, **through_lb(replica)) as load:
            pass
        figures = load.figures()
        rates[count] = {
            "requests_per_s": figures["requests_per_s"],
            "p99_ms": figures["p99_ms"],
            "failed": figures["failed"],
        }
    for app in apps:
        set_app_host(replica, replica.ip(app), "ready")
    return {
        "app_hosts": {str(k): v for k, v in rates.items()},
        "ratio": round(rates[len(apps)]["requests_per_s"] / rates[1]["requests_per_s"], 2),
    }
