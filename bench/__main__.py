"""`python -m bench`: measure the running local replica (`make up` first); write
bench/results/bench-<UTC time>.json and the tables of bench/README.md.

Parts, in this order (--only picks some): pipeline (trigger → served: on a new replica it
trains the first champion), serving (our model API vs `mlflow models serve`), promotion
(alias moved under load), provisioning (idempotent re-run; --warm also removes the hosts and
makes them anew, caches kept; --cold makes them as on a new machine: no image, no wheelhouse,
no data, so the replica's models and runs are gone after it: run the pipeline part next).

--smoke runs each part in seconds, to prove the bench still runs (make test does it on its own
replica): serving cells of 1 s at 16 connections, the promotion's two moves told by the
webhook (to a new version registered 5 s before it, and back), 30 s each (a late delivery
still leaves the 10 s poll and a load under load time to move every worker). Its figures are
not the bench's: give them --results elsewhere.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from bench import pipeline, promotion, provisioning, report, serving
from bench.platform import Platform
from bench.provenance import commit, machine
from local import config, podman

# pipeline first: on a new replica it trains the champion that the others measure
PARTS = ("pipeline", "serving", "promotion", "provisioning")


def parts(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(chosen) - set(PARTS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(PARTS)}; got {text!r}")
    return [part for part in PARTS if part in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", type=parts, default=list(PARTS), help="comma-separated parts")
    parser.add_argument("--seconds", type=int, default=10, help="wrk seconds per serving cell")
    parser.add_argument("--warm", action="store_true", help="also a warm provisioning run")
    parser.add_argument(
        "--cold", action="store_true", help="also a cold provisioning run (removes the data)"
    )
    parser.add_argument("--smoke", action="store_true", help="each part in seconds (make test)")
    report.add_results_argument(parser)
    args = parser.parse_args(argv)
    replica = config.from_env()
    app = next(host for host in replica.hosts if host.name == "app")
    if not podman.exists("container", replica.container(app)):
        raise SystemExit(f"no replica {replica.name} is running: run `make up` first")
    target = Platform(replica)
    taken_at = datetime.now(UTC)
    result: dict = {
        "taken_at": taken_at.isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "replica": replica.name,
    }
    smoke = {"connections_grid": (16,), "warmup": 1} if args.smoke else {}
    seconds = 1 if args.smoke else args.seconds
    measures = {
        "serving": lambda: serving.measure(replica, target.api_key, seconds, **smoke),
        "promotion": lambda: (
            promotion.measure(target, seconds=20, cases=promotion.SMOKE_CASES, registered_ahead=5)
            if args.smoke
            else promotion.measure(target)
        ),
        "pipeline": lambda: pipeline.measure(target),
        "provisioning": lambda: provisioning.measure(replica, args.warm, args.cold),
    }
    if args.smoke:
        result["smoke"] = True
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"bench-{taken_at:%Y%m%dT%H%M%SZ}.json"
    for part in args.only:
        result[part] = measures[part]()
        report.keep(path, result)  # each part kept as it ends
    print(f"bench: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
