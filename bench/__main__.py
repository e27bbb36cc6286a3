"""Run the benchmarks: `make bench` (or `python -m bench --only me --rounds 10 --calls 200`).

Every figure is a ratio against a baseline run side by side in the same process, because these
machines are noisy; absolute rates are printed for context only. Each benchmark runs in a
process of its own, with throw-away databases.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

BENCHMARKS = ("crypto", "me", "rotation", "sweep", "workers", "consent", "graphql")


def _run_one(name: str, args: argparse.Namespace) -> dict[str, object]:
    from bench import bench_crypto, bench_graphql, bench_me, bench_rotation, bench_sweep, consent

    if name == "consent":
        return consent.run(rounds=args.rounds, seconds=args.seconds)
    if name == "graphql":
        return bench_graphql.run(rounds=args.rounds, calls=args.calls)
    if name == "crypto":
        return bench_crypto.run(rounds=args.rounds, calls=args.calls)
    if name == "me":
        return bench_me.run(rounds=args.rounds, calls=args.calls)
    if name == "sweep":
        return bench_sweep.run(
            citizens=args.sweep_citizens, memory=args.memory, sources=tuple(args.sources.split(","))
        )
    if name == "workers":
        return bench_sweep.run_workers(citizens=args.sweep_citizens, broker=args.broker)
    return bench_rotation.run(citizens=args.citizens, records=args.records)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--citizens", type=int, default=100_000, help="for the rotation benchmark")
    parser.add_argument("--records", type=int, default=2, help="data records per citizen")
    parser.add_argument("--sweep-citizens", type=int, default=10_000, help="for sweep and workers")
    parser.add_argument("--memory", action="store_true", help="sweep: peak memory instead of speed")
    parser.add_argument("--sources", default="youth,berths,library", help="sweep: which sources")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14", help="for workers")
    parser.add_argument("--seconds", type=float, default=2.5, help="consent: seconds per round")
    parser.add_argument("--only", choices=BENCHMARKS, action="append")
    args = parser.parse_args()
    # `workers` needs a Redis broker and `consent` PostgreSQL: run them by name.
    selected = args.only or [name for name in BENCHMARKS if name not in ("workers", "consent")]
    print(
        f"# python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores",
        file=sys.stderr,
    )

    if len(selected) == 1:
        print(json.dumps(_run_one(selected[0], args), indent=2))
        return 0
    failed = 0
    for name in selected:
        command = [
            sys.executable,
            "-m",
            "bench",
            "--only",
            name,
            "--rounds",
            str(args.rounds),
            "--calls",
            str(args.calls),
            "--citizens",
            str(args.citizens),
            "--records",
            str(args.records),
            "--seconds",
            str(args.seconds),
        ]
        failed += subprocess.run(command, check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
