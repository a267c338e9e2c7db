"""`make bench`: build the dataset, run the scenarios, print the table, write bench/results.json.

    python -m bench [--scale small|medium|full] [--runs N] [--only api,delete,...]

Runs against its own database (crm_bench) on the server DATABASE_URL points at.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

RESULTS = Path(__file__).resolve().parent / "results.json"
DATABASE = os.environ.get("BENCH_DATABASE", "crm_bench")  # another name: benches side by side on one server


def use_bench_database() -> None:
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm"))
    os.environ["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{DATABASE}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("API_RATE_LIMIT", "1000000/min")
    # One JSON access line per request would bury the table; writing it costs about 0.1 ms a
    # request (measured apart), which these timings then leave out.
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def create_database() -> None:
    from backups import postgres

    if not postgres.database_exists(DATABASE):
        postgres.create_database(DATABASE)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=["small", "medium", "full"], default="full")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per scenario after a warm-up")
    parser.add_argument("--only", default="", help="comma-separated subset of the scenarios (default: all)")
    args = parser.parse_args(argv)

    import django
    from django.core.management import call_command

    use_bench_database()
    django.setup()
    from bench.scenarios import SCENARIOS

    chosen = [name for name in args.only.split(",") if name] or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}")
    create_database()
    call_command("migrate", verbosity=0)

    from bench.data import ensure
    from bench.scenarios import Context

    started = time.monotonic()
    print(f"dataset ({args.scale}):")
    dataset = ensure(args.scale)
    ctx = Context(dataset, runs=args.runs)
    results = []
    for name in chosen:
        print(f"running {name} ...", flush=True)
        results.extend(SCENARIOS[name](ctx))
    print_table(results)
    RESULTS.write_text(
        json.dumps({"scale": args.scale, "runs": args.runs, "results": [r.as_dict() for r in results]}, indent=2)
    )
    print(f"\nwritten to {RESULTS}; total {time.monotonic() - started:.0f}s")
    return 0


def print_table(results, header=True) -> None:
    if header:
        title = (
            f"{'scenario':<72} {'median':>9} {'min':>9} {'max':>9} {'baseline':>9} {'ratio':>7} {'target':>7}  verdict"
        )
        print("\n" + title + "\n" + "-" * len(title))
    for r in results:
        baseline = f"{r.baseline_median * 1000:8.1f}ms" if r.baseline_median else " " * 10
        ratio = f"{r.ratio:6.2f}x" if r.ratio else " " * 7
        target = f"{r.target:6.2f}x" if r.target else " " * 7
        if r.unit == "s":
            figures = f"{r.median * 1000:7.1f}ms {r.minimum * 1000:7.1f}ms {r.maximum * 1000:7.1f}ms"
        else:  # e.g. MB: shown as measured
            figures = f"{r.median:7.2f}{r.unit:<2} {r.minimum:7.2f}{r.unit:<2} {r.maximum:7.2f}{r.unit:<2}"
        print(f"{r.scenario[:72]:<72} {figures} {baseline} {ratio} {target}  {r.verdict}")
        if r.note:
            print(f"{'':<4}{r.note}")


if __name__ == "__main__":
    sys.exit(main())
