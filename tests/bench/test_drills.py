"""The drills' logic with stand-ins for the hosts and the platform (no replica)."""

from __future__ import annotations

import pytest

from bench import drills


class FakeHost:
    """Answers systemctl show like a host whose unit systemd restarts with a new PID."""

    def __init__(self, states: list[str]) -> None:
        self.commands: list[str] = []
        self.states = states
        self.host = type("H", (), {"name": "app"})()

    def sh(self, script: str) -> str:
        self.commands.append(script)
        if script == "systemctl show -P MainPID model-api":
            return "111\n"
        if script == "systemctl show -p ActiveState -p MainPID model-api":
            return self.states.pop(0)
        return ""


def test_kill_unit_kills_the_main_pid_and_waits_for_a_new_one() -> None:
    host = FakeHost(
        [
            "MainPID=0\nActiveState=deactivating\n",
            "MainPID=111\nActiveState=active\n",
            "MainPID=222\nActiveState=active\n",
        ]
    )
    restarted = drills.kill_unit("model-api")(host)
    assert host.commands[-1] == "kill -9 111"
    assert [restarted(), restarted(), restarted()] == [False, False, True]


def test_a_unit_that_is_not_running_is_an_error() -> None:
    host = FakeHost([])
    host.sh = lambda script: "0\n"
    with pytest.raises(RuntimeError, match="not running"):
        drills.kill_unit("model-api")(host)


class FakePlatform:
    def __init__(self, counts: list[dict]) -> None:
        self._counts = counts

    def counts(self) -> dict:
        return self._counts.pop(0)


def test_recovery_waits_for_the_condition_and_every_service(monkeypatch) -> None:
    answers = [["mlflow"], ["mlflow"], []]
    monkeypatch.setattr(drills, "unhealthy", lambda platform: answers.pop(0))
    monkeypatch.setattr(drills.time, "sleep", lambda seconds: None)
    conditions = iter([False, True, True, True])
    assert drills.recovery(None, drills.time.monotonic(), lambda: next(conditions)) is not None
    assert answers == []


def test_no_recovery_within_the_timeout_is_none(monkeypatch) -> None:
    monkeypatch.setattr(drills, "RECOVERY_TIMEOUT", 0.05)
    monkeypatch.setattr(drills, "unhealthy", lambda platform: ["postgresql"])

    def down() -> bool:
        raise ConnectionError("refused")

    assert drills.recovery(None, drills.time.monotonic(), down) is None


def test_a_drill_reports_what_was_lost(monkeypatch) -> None:
    monkeypatch.setattr(drills, "unhealthy", lambda platform: [])
    monkeypatch.setattr(drills.OnHost, "named", classmethod(lambda cls, replica, name: name))
    before = {"experiments": 3, "runs": 10, "model_versions": 4, "dag_runs": 7}
    after = {"experiments": 3, "runs": 9, "model_versions": 4, "dag_runs": 8}
    platform = FakePlatform([before, after])
    platform.replica = None
    drill = drills.Drill("restart host app", "app", lambda host: lambda: True, load=False)
    result = drills.run(platform, drill)
    assert result["lost"] == {"runs": -1}
    assert result["load"] is None
    assert result["recovered_s"] is not None


def test_every_drill_the_issue_names_is_there() -> None:
    names = [drill.name for drill in drills.DRILLS]
    assert sum(name.startswith("kill -9 ") for name in names) == len(drills.UNITS)
    assert {f"restart host {h}" for h in ("mlflow", "airflow", "app", "rds", "s3")} <= set(names)
    assert any("PostgreSQL under load" in name for name in names)
    assert any(name.startswith("stop the S3 host") for name in names)
    assert any(name.startswith("flood") for name in names)
    # the app host's restart would stop the load generator running on it
    assert [d.load for d in drills.DRILLS if d.name == "restart host app"] == [False]
