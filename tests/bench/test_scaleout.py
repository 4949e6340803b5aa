"""bench/scaleout.py: what the scaled-out replica's drills read and send, without a replica."""

import pytest

from bench import drills, scaleout
from local.config import Replica, parse_scale

# `show stat` of HAProxy 2.6 (the first columns: pxname, svname, qcur, qmax, scur, ...).
SHOW_STAT = """# pxname,svname,qcur,qmax,scur,smax,slim,stot
https,FRONTEND,,,3,9,4096,120
api,10.89.60.13,0,0,2,4,,50
api,10.89.60.32,0,0,0,3,,48
api,BACKEND,0,0,2,6,410,98
"""


def test_the_load_goes_through_the_load_balancer_with_the_api_host_name():
    assert scaleout.through_lb(Replica()) == {
        "url": "https://127.0.0.1:443/predict",
        "headers": {"Host": "api.mlops.test"},
    }


def test_open_sessions_of_an_app_host_are_read_from_the_runtime_api(monkeypatch):
    monkeypatch.setattr(scaleout, "lb_command", lambda replica, command: SHOW_STAT)
    assert scaleout.sessions(Replica(), "10.89.60.13") == 2
    assert scaleout.sessions(Replica(), "10.89.60.32") == 0
    with pytest.raises(RuntimeError, match=r"no api backend 10\.89\.60\.99"):
        scaleout.sessions(Replica(), "10.89.60.99")


def test_an_app_host_is_drained_in_every_service_it_serves(monkeypatch):
    sent = []
    monkeypatch.setattr(scaleout, "lb_command", lambda replica, command: sent.append(command))
    scaleout.set_app_host(Replica(), "10.89.60.32", "drain")
    assert sent == [
        "set server api/10.89.60.32 state drain",
        "set server dashboard/10.89.60.32 state drain",
    ]


def test_scaled_out_drills_run_only_on_a_replica_that_has_the_hosts():
    scaled = [d for d in drills.DRILLS if d.needs]
    assert {d.name for d in scaled} == {
        "app host drained and stopped behind the load balancer",
        "app host killed behind the load balancer",
        "Celery worker host killed during a training task",
    }
    small, large = Replica(), Replica(scale=parse_scale("app=2 airflow_worker=2"))
    for drill in scaled:
        assert not drills.fits(small, drill)
        assert drills.fits(large, drill)
        # the host a drill breaks exists at the scale it needs
        assert drill.host in {h.name for h in large.hosts}
