"""The README tables are made from a results file, between markers, and nothing else moves."""

from __future__ import annotations

import json

import pytest

from bench import report

RESULT = {
    "taken_at": "2026-12-03T12:00:00+00:00",
    "commit": "abc1234",
    "machine": {"cores": 2, "memory_gib": 23.5, "cpu": "Some CPU", "kernel": "6.1"},
    "serving": {
        "model": "wine-cultivar v3",
        "workers": 2,
        "duration_s": 10.0,
        "load_generator": "wrk 4.1.0",
        "runs": [
            {
                "target": t,
                "rows": 1,
                "connections": 16,
                "requests_per_s": rps,
                "p50_ms": 1.0,
                "p99_ms": 9.0,
                "failed": f,
            }
            for t, rps, f in [("model_api", 420.0, 0), ("mlflow_serve", 60.0, 2)]
        ],
        "ratios": [{"rows": 1, "connections": 16, "requests_per_s": 7.0, "p99": 1.0}],
    },
}


def test_the_table_is_written_between_the_markers(tmp_path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.BEGIN}\nold\n{report.END}\nafter\n")
    results = tmp_path / "bench-20261203T120000Z.json"
    results.write_text(json.dumps(RESULT))
    report.update_readme(results, readme)
    text = readme.read_text()
    assert text.startswith("intro\n")
    assert text.endswith(f"{report.END}\nafter\n")
    assert "old" not in text
    assert "commit `abc1234`" in text
    assert "| 1 | 16 | 420.0 | 1.0 / 9.0 | 60.0 | 1.0 / 9.0 | 7.00 | 0 / 2 |" in text


def test_a_readme_without_markers_is_refused(tmp_path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers")
    results = tmp_path / "bench-1.json"
    results.write_text(json.dumps(RESULT))
    with pytest.raises(ValueError, match="markers"):
        report.update_readme(results, readme)


def test_latest_is_the_newest_file(tmp_path) -> None:
    for name in ("bench-20261201T000000Z.json", "bench-20261203T000000Z.json"):
        (tmp_path / name).write_text("{}")
    assert report.latest(tmp_path).name == "bench-20261203T000000Z.json"
    with pytest.raises(FileNotFoundError, match="make bench"):
        report.latest(tmp_path / "empty")


def test_the_committed_readme_has_the_markers() -> None:
    text = report.README.read_text()
    assert report.BEGIN in text
    assert report.END in text
