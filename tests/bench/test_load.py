from bench import load
from bench.wrk import Summary


def test_what_failed_is_split_by_kind() -> None:
    summary = Summary(
        requests=1000,
        seconds=10.0,
        failed=40,
        refused=7,
        p50_ms=1.0,
        p90_ms=2.0,
        p99_ms=3.0,
        max_ms=4.0,
        statuses={200: 960, 503: 25, 500: 2, 422: 1},
        dropped=12,
    )
    figures = load.figures(summary)
    assert figures["unavailable"] == 25
    assert figures["error_answers"] == 3  # the 500s and the 422: everything but 503
    assert figures["dropped_connections"] == 12
    assert figures["refused_connections"] == 7
