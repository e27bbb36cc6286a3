"""Run the benchmarks: `make bench` (or `python -m bench --rounds 10 --calls 200`).

Every figure is a ratio against a baseline run side by side in the same process, because these
machines are noisy; absolute rates are printed for context only.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()

    from bench import bench_me

    results = [bench_me.run(rounds=args.rounds, calls=args.calls)]
    print(f"# python {platform.python_version()} on {platform.machine()}", file=sys.stderr)
    for result in results:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
