"""The README tables are made from the newest results, between markers, nothing else moves."""

from __future__ import annotations

import json

import pytest

from bench import report

MACHINE = {"cores": 2, "memory_gib": 23.5, "cpu": "Some CPU", "kernel": "6.1"}
SERVING = {
    "model": "wine-cultivar v3",
    "workers": 2,
    "duration_s": 10,
    "load_generator": "wrk 4.1.0",
    "runs": [
        {
            "target": target,
            "rows": 1,
            "connections": 16,
            "requests_per_s": rps,
            "p50_ms": 1.0,
            "p99_ms": 9.0,
            "failed": failed,
        }
        for target, rps, failed in [("model_api", 420.0, 0), ("mlflow_serve", 60.0, 2)]
    ],
    "ratios": [{"rows": 1, "connections": 16, "requests_per_s": 7.0, "p99": 1.0}],
}
PROMOTION = {
    "moves": [
        {
            "to_version": "4",
            "first_worker_s": 1.2,
            "every_worker_s": 9.8,
            "workers": 2,
            "load": {"requests": 900, "failed": 0},
        },
        {
            "to_version": "3",
            "webhook": "disabled",
            "first_worker_s": 4.5,
            "every_worker_s": 10.2,
            "workers": 2,
            "load": {"requests": 800, "failed": 0},
        },
    ]
}


def write(directory, name: str, commit: str, **parts) -> None:
    data = {"taken_at": "2026-12-03T12:00:00+00:00", "commit": commit, "machine": MACHINE}
    (directory / name).write_text(json.dumps(data | parts))


def test_each_part_comes_from_the_newest_file_that_has_it(tmp_path) -> None:
    write(tmp_path, "bench-20261201T000000Z.json", "old", serving=SERVING, promotion=PROMOTION)
    write(tmp_path, "bench-20261203T000000Z.json", "new", serving=SERVING)
    (tmp_path / "converge-profile.json").write_text("{}")
    found = report.newest_by_part(tmp_path)
    assert {part: found[part][0] for part in found} == {
        "serving": "bench-20261203T000000Z.json",
        "promotion": "bench-20261201T000000Z.json",
    }


def test_the_tables_are_written_between_the_markers(tmp_path) -> None:
    write(tmp_path, "bench-20261203T120000Z.json", "abc1234", serving=SERVING, promotion=PROMOTION)
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.BEGIN}\nold\n{report.END}\nafter\n")
    report.update_readme(tmp_path, readme)
    text = readme.read_text()
    assert text.startswith("intro\n")
    assert text.endswith(f"{report.END}\nafter\n")
    assert "\nold\n" not in text
    assert "commit `abc1234`" in text
    # a result from before the pyfunc-only target: our API and theirs
    assert "| 1 | 16 | 420.0 | 1.0 / 9.0 | 7.00 | 60.0 | 1.0 / 9.0 | 0 / 2 |" in text
    # from before webhooks
    assert "| v4 | n/a | none | n/a | n/a | n/a | n/a | n/a | 1.2 | 9.8 | 2 | 900 | 0 |" in text
    unmeasured = "| n/a | n/a | n/a | n/a | n/a |"
    assert f"| v3 | n/a | disabled {unmeasured} 4.5 | 10.2 | 2 | 800 | 0 |" in text
    assert text.count("Not measured yet.") == 3  # pipeline, provisioning, drills


def test_provisioning_runs_are_shown_cold_warm_then_idempotent() -> None:
    playbook = {"seconds": 200.0, "changed_total": 140, "task_seconds_by_role": {"common": 90.5}}
    idempotent = {"seconds": 54.1, "changed_total": 0, "task_seconds_by_role": {"common": 89.0}}
    lines = report.provisioning_table(
        {
            "idempotent": idempotent,
            "warm": {"hosts_s": 30.2, "playbook": playbook, "total_s": 230.2},
            "cold": {"hosts_s": 150.0, "playbook": playbook, "total_s": 350.0},
        }
    )
    assert lines[2:] == [
        "| cold | 350.0 | 150.0 | 200.0 | 140 | common 90.5 | n/a |",
        "| warm | 230.2 | 30.2 | 200.0 | 140 | common 90.5 | n/a |",
        "| idempotent | 54.1 | 0 | 54.1 | 0 | common 89 | n/a |",
    ]


def test_a_provisioning_run_not_redone_is_kept_from_an_older_file(tmp_path) -> None:
    run = {"seconds": 54.1, "changed_total": 0, "task_seconds_by_role": {"common": 89.0}}
    cold = {"hosts_s": 150.0, "playbook": run, "total_s": 350.0}
    write(tmp_path, "bench-20261201T000000Z.json", "a", provisioning={"cold": cold})
    write(tmp_path, "bench-20261202T000000Z.json", "b", provisioning={"idempotent": run})
    again = {**run, "seconds": 56.8}
    write(tmp_path, "bench-20261203T000000Z.json", "c", provisioning={"idempotent": again})
    name, data = report.newest_by_part(tmp_path)["provisioning"]
    assert name == "bench-20261203T000000Z.json"
    assert {kind: r["from"] for kind, r in data["provisioning"].items()} == {
        "cold": "bench-20261201T000000Z.json",
        "idempotent": "bench-20261203T000000Z.json",
    }
    assert data["provisioning"]["idempotent"]["seconds"] == 56.8


def test_a_readme_without_markers_is_refused(tmp_path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        report.update_readme(tmp_path, readme)


def test_no_results_says_so() -> None:
    assert report.render({}) == "No results yet: run `make bench`."


def test_the_committed_readme_has_the_markers() -> None:
    text = report.README.read_text()
    assert report.BEGIN in text
    assert report.END in text


def test_drills_redone_replace_their_earlier_figures_only(tmp_path) -> None:
    def drill(name, seconds):
        return {"name": name, "recovered_s": seconds, "load": None, "lost": {}}

    write(tmp_path, "drills-1.json", "a", drills={"drills": [drill("x", 40), drill("y", 5)]})
    write(tmp_path, "drills-2.json", "b", drills={"drills": [drill("x", 20)]})
    _, data = report.newest_by_part(tmp_path)["drills"]
    assert [(d["name"], d["recovered_s"]) for d in data["drills"]["drills"]] == [
        ("y", 5),
        ("x", 20),
    ]


def test_the_serving_table_shows_the_pyfunc_only_api_where_measured() -> None:
    pyfunc = {**SERVING["runs"][0], "target": "model_api_pyfunc", "requests_per_s": 180.0}
    serving = {
        **SERVING,
        "runs": [*SERVING["runs"], pyfunc],
        "ratios": [
            {"target": "model_api", "rows": 1, "connections": 16, "requests_per_s": 7.0},
            {"target": "model_api_pyfunc", "rows": 1, "connections": 16, "requests_per_s": 3.0},
        ],
    }
    header, _, row = report.serving_table(serving)
    assert "model API, pyfunc only req/s" in header
    assert row == (
        "| 1 | 16 | 420.0 | 1.0 / 9.0 | 7.00 | 180.0 | 1.0 / 9.0 | 3.00 | 60.0 | 1.0 / 9.0 "
        "| 0 / 0 / 2 |"
    )


def test_a_drill_row_shows_the_failure_and_the_recovery_after_it() -> None:
    stopped = {
        "name": "stop the S3 host 20 s under load",
        "recovered_s": 29.5,
        "failure_s": 21.3,
        "back_after_failure_s": 8.2,
        "load": {
            "requests": 900,
            "error_answers": 0,
            "unavailable": 3,
            "dropped_connections": 2,
            "refused_connections": 1,
        },
        "lost": {},
    }
    older = {"name": "kill -9 mlflow", "recovered_s": 27.5, "load": None, "lost": {}}
    _, _, new_row, old_row = report.drills_table({"drills": [stopped, older]})
    assert new_row == (
        "| stop the S3 host 20 s under load | 21.3 | 8.2 | 900 | 0 | 3 | 2 | 1 | nothing |"
    )
    assert old_row == "| kill -9 mlflow | n/a | 27.5 | n/a | n/a | n/a | n/a | n/a | nothing |"


def test_a_promotion_row_says_when_the_api_was_woken_and_had_it_prepared() -> None:
    load = {"requests": 500, "failed": 0}
    move = {"to_version": "7", "case": "new version", "webhook": "active", "first_worker_s": 0.4}
    move |= {"every_worker_s": 0.6, "workers": 2, "load": load}
    ahead = {"registered_s": -10.2, "prepared_s": -7.9, "first_woken_s": 0.1}
    ahead |= {"move_call_s": 0.2, "every_worker_swapped_s": 0.3}
    unprepared = {"registered_s": None, "prepared_s": None, "first_woken_s": None}
    unprepared |= {"move_call_s": 1.5, "every_worker_swapped_s": None}
    late = {**unprepared, "every_worker_s": 52.0, "under_load_throughout": False}
    moves = [{**move, **ahead}, {**move, **late}, move]
    rows = report.promotion_table({"moves": moves})
    assert [row.split(" | ")[3:10] for row in rows[2:]] == [
        ["-10.2", "-7.9", "0.2", "0.1", "0.3", "0.4", "0.6"],
        ["none", "none", "1.5", "none", "none", "0.4", "52.0 (after the load)"],
        ["n/a", "n/a", "n/a", "n/a", "n/a", "0.4", "0.6"],
    ]
