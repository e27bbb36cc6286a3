"""Run the benchmarks: `make bench` (`python -m bench`), then `docs/benchmarks.md` is written from
the results. `python -m bench --only me --rounds 10 --calls 200` runs one and prints its JSON.

Every figure is a ratio against a baseline run side by side in the same process, because these
machines are noisy; absolute rates are printed for context only. Each benchmark runs in a
process of its own, with throw-away databases.

- every benchmark runs by default; `consent` needs PostgreSQL (`BENCH_DATABASE_URL`) and
  `workers` a Redis broker (`BENCH_BROKER_URL`), see `bench/services.py`. One whose service does
  not answer is skipped with the reason, on the terminal and in the report (with
  REQUIRE_SERVICES=1 that is a failure instead).
- `--quick`: small sizes, the whole pipeline in a few minutes; a smoke test, not figures. Its
  report goes to var/bench/benchmarks.quick.md unless `--doc` says otherwise.
- the results of a run are kept in var/bench/results.all.json (`--results`); `python -m
  bench.report var/bench/results.all.json --out docs/benchmarks.md` writes the page from them.
  A run of some (`--only NAME`) keeps var/bench/results.NAME.json; `python -m bench.report
  var/bench/results.NAME.json --out docs/benchmarks.md --splice` puts its sections and summary
  rows into the page, keeps the rest, and says so at the top.
- on demand only (`--only NAME`, not in a run of them all): `scale` (`make bench-scale`), the
  wallet seeded with a million citizens on PostgreSQL. `--only NAME --doc PAGE` puts the
  sections of what ran into the page and keeps the rest; a run of them all keeps the on-demand
  sections the page has.
- `--only rotation --postgres --citizens N`: `rotate_kek` per citizen on PostgreSQL, as one JSON
  line (`per_citizen_ms`, against the peer's `rotate_keys`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.report import ON_DEMAND

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = (
    "crypto",
    "me",
    "rotation",
    "sweep",
    "sweep-concurrency",
    "sweep-memory",
    "workers",
    "consent",
    "graphql",
)
DOC = REPO_ROOT / "docs" / "benchmarks.md"
VAR = REPO_ROOT / "var" / "bench"

# Sizes: the full run (what docs/benchmarks.md reports) and --quick (a smoke test).
FULL = {
    "rounds": 10,
    "calls": 200,
    "citizens": 100_000,
    "records": 2,
    "sweep_citizens": 2_000,
    "concurrency_citizens": 600,
    "concurrency_rounds": 3,
    "memory_citizens": "10000,50000",
    "seconds": 2.5,
    "documents": 100,
    "scale_sizes": "10000,100000,1000000",
}
QUICK = {
    "rounds": 2,
    "calls": 20,
    "citizens": 2_000,
    "records": 2,
    "sweep_citizens": 60,
    "concurrency_citizens": 60,
    "concurrency_rounds": 2,
    "memory_citizens": "60,120",
    "seconds": 0.5,
    "documents": 10,
    "scale_sizes": "1000,5000",
}


def _run_one(name: str, args: argparse.Namespace) -> dict[str, Any]:
    from bench import bench_crypto, bench_graphql, bench_me, bench_rotation, bench_sweep, consent

    if name == "scale":
        from bench import bench_scale

        return bench_scale.run(
            sizes=[int(n) for n in args.scale_sizes.split(",")],
            rounds=args.rounds,
            calls=args.calls,
            server_url=args.database,
        )
    if name == "rotation" and args.postgres:
        return bench_rotation.run_postgres(citizens=args.citizens, server_url=args.database)
    if name == "consent":
        return consent.run(rounds=args.rounds, seconds=args.seconds, postgres_url=args.database)
    if name == "graphql":
        return bench_graphql.run(rounds=args.rounds, calls=args.calls, documents=args.documents)
    if name == "crypto":
        return bench_crypto.run(rounds=args.rounds, calls=args.calls)
    if name == "me":
        return bench_me.run(rounds=args.rounds, calls=args.calls)
    if name == "sweep":
        return bench_sweep.run(
            citizens=args.sweep_citizens,
            memory=args.memory,
            sources=tuple(args.sources.split(",")),
            latency_ms=args.latency_ms if args.memory else 0,
        )
    if name == "sweep-concurrency":
        return bench_sweep.run_concurrency(
            citizens=args.concurrency_citizens,
            rounds=args.concurrency_rounds,
            latency_ms=args.latency_ms,
            sources=tuple(args.sources.split(",")),
        )
    if name == "sweep-memory":
        return _sweep_memory(args)
    if name == "workers":
        return bench_sweep.run_workers(citizens=args.sweep_citizens, broker=args.broker)
    return bench_rotation.run(citizens=args.citizens, records=args.records)


def _sweep_memory(args: argparse.Namespace) -> dict[str, Any]:
    """The youth sweep's peak traced memory at each of `--memory-citizens`, each size in a fresh
    process (fresh databases and simulator), concurrent and against the same latency as
    `sweep-concurrency`, and the largest against the smallest."""
    sizes = sorted(int(n) for n in args.memory_citizens.split(","))
    peaks: list[dict[str, int]] = []
    for citizens in sizes:
        with tempfile.TemporaryDirectory(prefix="wallet-bench-memory-") as workdir:
            result_file = Path(workdir) / "result.json"
            command = [
                *_python_m_bench(),
                "--only",
                "sweep",
                "--memory",
                "--sources",
                "youth",
                "--sweep-citizens",
                str(citizens),
                "--latency-ms",
                str(args.latency_ms),
                "--result-file",
                str(result_file),
            ]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            result = json.loads(result_file.read_text())
        peaks.append({"citizens": citizens, "peak_kib": result["youth_sweep_peak_kib"]})
    return {
        "benchmark": "peak traced memory of a full youth sweep at two sizes",
        "source": "youth",
        "latency_ms": args.latency_ms,
        "in_flight": bench_sweep_in_flight(),
        "sizes": peaks,
        "peak_ratio_largest_to_smallest": round(peaks[-1]["peak_kib"] / peaks[0]["peak_kib"], 3),
    }


def bench_sweep_in_flight() -> int:
    from bench.bench_sweep import CONCURRENT_IN_FLIGHT

    return CONCURRENT_IN_FLIGHT


def _python_m_bench() -> list[str]:
    return [sys.executable, "-m", "bench"]


def _child_options(args: argparse.Namespace) -> list[str]:
    """Every size and service option, resolved, for a benchmark's own process."""
    options = [
        "--rounds",
        str(args.rounds),
        "--calls",
        str(args.calls),
        "--citizens",
        str(args.citizens),
        "--records",
        str(args.records),
        "--sweep-citizens",
        str(args.sweep_citizens),
        "--concurrency-citizens",
        str(args.concurrency_citizens),
        "--concurrency-rounds",
        str(args.concurrency_rounds),
        "--latency-ms",
        str(args.latency_ms),
        "--memory-citizens",
        args.memory_citizens,
        "--sources",
        args.sources,
        "--seconds",
        str(args.seconds),
        "--documents",
        str(args.documents),
        "--broker",
        args.broker,
        "--database-url",
        args.database,
        "--scale-sizes",
        args.scale_sizes,
    ]
    return (
        options + (["--memory"] if args.memory else []) + (["--postgres"] if args.postgres else [])
    )


def _parser() -> argparse.ArgumentParser:
    from bench import services

    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--rounds", type=int, help=f"default {FULL['rounds']}")
    parser.add_argument("--calls", type=int, help=f"default {FULL['calls']}")
    parser.add_argument("--citizens", type=int, help=f"rotation (default {FULL['citizens']:,})")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="rotation: rotate_kek per citizen on PostgreSQL (BENCH_DATABASE_URL) against the "
        "peer's rotate_keys, instead of against re-encrypting every row on SQLite",
    )
    parser.add_argument("--scale-sizes", help=f"scale: populations (default {FULL['scale_sizes']})")
    parser.add_argument("--records", type=int, help="rotation: data records per citizen")
    parser.add_argument(
        "--sweep-citizens", type=int, help=f"sweep and workers (default {FULL['sweep_citizens']:,})"
    )
    parser.add_argument(
        "--concurrency-citizens",
        type=int,
        help=f"sweep-concurrency (default {FULL['concurrency_citizens']:,})",
    )
    parser.add_argument(
        "--concurrency-rounds",
        type=int,
        help=f"sweep-concurrency: rounds of each (default {FULL['concurrency_rounds']})",
    )
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=50,
        help="sweep-concurrency, sweep-memory: the upstreams' latency (default %(default)s)",
    )
    parser.add_argument(
        "--memory-citizens", help=f"sweep-memory: sizes (default {FULL['memory_citizens']})"
    )
    parser.add_argument("--memory", action="store_true", help="sweep: peak memory, not speed")
    parser.add_argument("--sources", default="youth,berths,library", help="sweep: which sources")
    parser.add_argument("--seconds", type=float, help="consent: seconds per round")
    parser.add_argument("--documents", type=int, help="graphql: distinct documents for memory")
    parser.add_argument(
        "--broker",
        default=services.broker_url(),
        help="workers: Redis (BENCH_BROKER_URL, default %(default)s)",
    )
    parser.add_argument(
        "--database-url",
        dest="database",
        default=services.database_url(),
        help="consent: PostgreSQL server (BENCH_DATABASE_URL, default %(default)s)",
    )
    parser.add_argument("--only", choices=BENCHMARKS + ON_DEMAND, action="append")
    parser.add_argument("--doc", type=Path, help="write the report here")
    parser.add_argument("--no-doc", action="store_true", help="write no report")
    parser.add_argument("--results", type=Path, help="keep the results here (JSON)")
    parser.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)  # a child's answer
    return parser


def _machine(versions: dict[str, str]) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "arch": platform.machine(),
        "cores": os.cpu_count(),
        "system": platform.platform(terse=True),
        "load_average_at_start": round(os.getloadavg()[0], 2),
        **versions,
    }


def _probe(selected: list[str], args: argparse.Namespace) -> tuple[dict[str, str], dict[str, str]]:
    """(skipped benchmark -> reason, service -> version) for the services the selection needs."""
    from bench import services

    skipped: dict[str, str] = {}
    versions: dict[str, str] = {}
    on_postgres = {"consent", "scale"} | ({"rotation"} if args.postgres else set())
    if on_postgres & set(selected):
        problem, version = services.postgres_problem(args.database)
        for name in sorted(on_postgres & set(selected)):
            if problem:
                skipped[name] = f"needs PostgreSQL: {problem}; set BENCH_DATABASE_URL"
        if version:
            versions["postgresql"] = version
    if "workers" in selected:
        problem, version = services.redis_problem(args.broker)
        if problem:
            skipped["workers"] = f"needs Redis: {problem}; set BENCH_BROKER_URL"
        elif version:
            versions["redis"] = version
    return skipped, versions


def main() -> int:
    args = _parser().parse_args()
    sizes = QUICK if args.quick else FULL
    for key, value in sizes.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    from bench import services

    args.database = services.server_url(args.database)

    if args.result_file:  # one benchmark, in the process `main` started for it
        [name] = args.only
        result = _run_one(name, args)
        print(json.dumps(result))  # one line
        args.result_file.write_text(json.dumps(result))
        return 0

    selected = args.only or list(BENCHMARKS)
    skipped, versions = _probe(selected, args)
    machine = _machine(versions)
    print(
        f"# python {machine['python']} on {machine['arch']}, {machine['cores']} cores",
        file=sys.stderr,
    )
    for name, reason in skipped.items():
        print(f"# SKIPPED {name}: {reason}", file=sys.stderr)
    require_services = os.environ.get("REQUIRE_SERVICES") == "1"

    doc = None if args.no_doc else args.doc
    if doc is None and not args.no_doc and not args.only:
        doc = VAR / "benchmarks.quick.md" if args.quick else DOC
    # A run of some (--only) keeps its results apart: it never overwrites a whole run's.
    label = "-".join(args.only) if args.only else "all"
    if args.postgres:
        label += f"-postgres-{args.citizens}"
    results_path = args.results or VAR / f"results.{label}{'.quick' if args.quick else ''}.json"

    started = datetime.now(UTC)
    benchmarks: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="wallet-bench-results-") as workdir:
        for number, name in enumerate(selected, 1):
            if name in skipped:
                benchmarks[name] = {"status": "skipped", "reason": skipped[name]}
                continue
            print(f"# [{number}/{len(selected)}] {name}", file=sys.stderr, flush=True)
            result_file = Path(workdir) / f"{name}.json"
            command = [
                *_python_m_bench(),
                "--only",
                name,
                "--result-file",
                str(result_file),
                *_child_options(args),
            ]
            begun = time.perf_counter()
            returncode = subprocess.run(command, check=False).returncode
            seconds = round(time.perf_counter() - begun, 1)
            if returncode == 0 and result_file.exists():
                result = json.loads(result_file.read_text())
                benchmarks[name] = {"status": "ok", "seconds": seconds, "result": result}
            else:
                reason = f"exit status {returncode}; its output above says why"
                print(f"# FAILED {name}: {reason}", file=sys.stderr)
                benchmarks[name] = {"status": "failed", "seconds": seconds, "reason": reason}
    finished = datetime.now(UTC)
    machine["load_average_at_end"] = round(os.getloadavg()[0], 2)

    run = {
        "command": services.command_line("bench"),
        "make_command": os.environ.get("BENCH_MAKE_COMMAND", ""),
        "quick": args.quick,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "machine": machine,
        "sizes": {key: getattr(args, key) for key in FULL},
        "services": {
            "postgresql": services.redacted(args.database),
            "redis": services.redacted(args.broker),
        },
        "benchmarks": benchmarks,
    }
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(run, indent=2) + "\n")
    print(f"# results: {results_path}", file=sys.stderr)
    if doc is not None:
        from bench.report import update, write

        # a run of some (--only) with --doc: their sections of the page, the rest kept
        (update if args.only else write)(run, doc)
        print(f"# report: {doc}", file=sys.stderr)

    print("# summary:", file=sys.stderr)
    for name, outcome in benchmarks.items():
        detail = outcome.get("reason") or f"{outcome.get('seconds')} s"
        print(f"#   {name}: {outcome['status']} ({detail})", file=sys.stderr)
    failed = [name for name, o in benchmarks.items() if o["status"] == "failed"]
    if skipped and require_services:
        print("# REQUIRE_SERVICES=1: a skipped benchmark is a failure", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
