"""The serving bench's pure parts: records, worker count, ratios."""

from __future__ import annotations

import pytest

from bench import serving


def test_records_are_the_datasets_features() -> None:
    rows = serving.records(100)
    assert len(rows) == 100
    assert "cultivar" not in rows[0]
    assert rows[0]["alcohol"] == 14.23
    assert all(isinstance(value, float) for value in rows[0].values())
    with pytest.raises(ValueError, match="rows"):
        serving.records(10**6)


@pytest.mark.parametrize(
    ("exec_start", "workers"),
    [
        ("{ path=/opt/model-api/venv/bin/uvicorn ; argv[]=uvicorn --workers 2 --port 8000 }", 2),
        ("uvicorn --workers=4", 4),
        ("uvicorn --port 8000", 1),
    ],
)
def test_workers_are_read_from_the_units_command(exec_start, workers) -> None:
    assert serving.workers_of(exec_start) == workers


def run(target, rows, connections, rps, p99):
    return {
        "target": target,
        "rows": rows,
        "connections": connections,
        "requests_per_s": rps,
        "p99_ms": p99,
    }


def test_ratios_pair_each_of_our_cells_with_mlflow_serve() -> None:
    runs = [
        run("model_api", 1, 16, 500.0, 20.0),
        run("model_api_pyfunc", 1, 16, 100.0, 200.0),
        run("mlflow_serve", 1, 16, 50.0, 400.0),
        run("model_api", 100, 1, 10.0, 5.0),
        run("mlflow_serve", 100, 1, 0.0, 0.0),
        run("model_api", 100, 64, 1.0, 1.0),  # no mlflow_serve cell: no ratio
    ]
    assert serving.ratios(runs) == [
        {"target": "model_api", "rows": 1, "connections": 16, "requests_per_s": 10.0, "p99": 0.05},
        {"target": "model_api", "rows": 100, "connections": 1, "requests_per_s": None, "p99": None},
        {
            "target": "model_api_pyfunc",
            "rows": 1,
            "connections": 16,
            "requests_per_s": 2.0,
            "p99": 0.5,
        },
    ]
