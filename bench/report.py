"""docs/benchmarks.md from the results of one run: `python -m bench.report RESULTS --out PATH`.

`python -m bench` calls `write` at the end of a run; this module also writes the page again
from kept results (var/bench/results.all.json) after the template changed, without running
anything. The load section is the exception: `make load` (bench/load.py) writes it from a run of
its own with `write_load`, and `write` keeps the one already on the page. The prose lives in
bench/benchmarks.md.in (`${name}` placeholders); every figure comes from the results. A
benchmark that was skipped or failed keeps its section, which says so and why.

The goals are ratios against a baseline measured in the same run, never absolute times.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from string import Template
from typing import Any

TEMPLATE = Path(__file__).resolve().parent / "benchmarks.md.in"
MISSING = "—"
TIMES, DASH = "\N{MULTIPLICATION SIGN}", "\N{EN DASH}"

# name in the results -> (title in the summary, headline figure, goal, does the figure meet it)
Headline = tuple[str, str, Callable[[dict[str, Any]], float | None], Callable[[float], bool] | None]


def _number(value: Any, digits: int = 2) -> str:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return MISSING
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _get(result: dict[str, Any], *path: str) -> Any:
    value: Any = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _verdict(value: float | None, meets: Callable[[float], bool] | None) -> str:
    if value is None:
        return MISSING
    if meets is None:
        return "no goal"
    return "meets the goal" if meets(value) else "**below the goal**"


# --- one function per benchmark: its placeholders from its result --------------------------


def _me(r: dict[str, Any]) -> dict[str, str]:
    graphql, plain = r.get("sql_queries_graphql") or {}, r.get("sql_queries_plain_view") or {}

    def statements(counts: dict[str, int]) -> str:
        return f"{_number(counts.get('default'))} + {_number(counts.get('keys'))}"

    table = _table(
        ["measure", "GraphQL `me`", "plain view"],
        [
            [
                f"requests per second (median of {_number(r.get('rounds'))} rounds of "
                f"{_number(r.get('calls_per_round'))})",
                _number(r.get("graphql_per_second"), 1),
                _number(r.get("plain_view_per_second"), 1),
            ],
            ["ratio to the plain view", f"**{_number(r.get('ratio_graphql_to_plain'))}**", "1.00"],
            [
                "SQL statements per request, data + key store",
                statements(graphql),
                statements(plain),
            ],
        ],
    )
    return {"me_table": table}


def _crypto(r: dict[str, Any]) -> dict[str, str]:
    record, raw = r.get("record_level_cost_ratio"), r.get("bytes_level_cost_ratio")
    overhead = None
    if isinstance(r.get("wallet_bytes_us"), int | float) and isinstance(
        r.get("bare_bytes_us"), int | float
    ):
        overhead = r["wallet_bytes_us"] - r["bare_bytes_us"]
    table = _table(
        ["measure", "wallet", "bare AESGCM", f"ratio (goal ≤ 1.3{TIMES})"],
        [
            [
                "record: `seal_json` + `open_json` vs json.dumps + nonce + encrypt, "
                "decrypt + json.loads",
                f"{_number(r.get('wallet_record_us'), 1)} µs",
                f"{_number(r.get('bare_record_us'), 1)} µs",
                f"**{_number(record)}{TIMES}**",
            ],
            [
                "bytes only: `seal` + `open` vs nonce + encrypt + decrypt, same associated data",
                f"{_number(r.get('wallet_bytes_us'), 1)} µs",
                f"{_number(r.get('bare_bytes_us'), 1)} µs",
                f"{_number(raw)}{TIMES} (no goal: the wrapper's own cost)",
            ],
        ],
    )
    return {
        "crypto_table": table,
        "crypto_record_bytes": _number(r.get("record_bytes")),
        "crypto_calls": _number(r.get("calls_per_round")),
        "crypto_rounds": _number(r.get("rounds")),
        "crypto_overhead_us": _number(overhead, 1),
    }


def _rotation_peaks(r: dict[str, Any]) -> list[tuple[int, int]]:
    prefix = "rotate_peak_kib_at_"
    return sorted(
        (int(key[len(prefix) :]), value)
        for key, value in r.items()
        if key.startswith(prefix) and key[len(prefix) :].isdigit()
    )


def _rotation(r: dict[str, Any]) -> dict[str, str]:
    peaks = _rotation_peaks(r)
    peak_text = " / ".join(f"{_number(kib)} KiB" for _, kib in peaks) or MISSING
    sizes_text = " / ".join(_number(n) for n, _ in peaks) or MISSING
    table = _table(
        ["measure", "figure"],
        [
            [
                f"`rotate_kek`, {_number(r.get('rotate_kek_rewrapped'))} keys",
                f"{_number(r.get('rotate_kek_seconds'), 1)} s (`data_rows_rewritten`: "
                f"{_number(r.get('rotate_kek_data_rows_rewritten'))}, measured)",
            ],
            [
                f"re-encrypting and re-saving {_number(r.get('reencrypt_rows_saved'))} rows",
                f"{_number(r.get('reencrypt_seconds'), 1)} s",
            ],
            [f"speed-up (goal ≥ 20{TIMES})", f"**{_number(r.get('speedup'), 1)}{TIMES}**"],
            [
                f"rotation's peak traced memory at {sizes_text} citizens",
                f"{peak_text} (**{_number(r.get('peak_memory_ratio_large_to_small'))}{TIMES}**; "
                "goal: flat, bounded by the batch)",
            ],
        ],
    )
    citizens, rows_each = r.get("citizens"), r.get("rows_per_citizen")
    records = rows_each - 1 if isinstance(rows_each, int) else None
    rows = (
        citizens * rows_each if isinstance(citizens, int) and isinstance(rows_each, int) else None
    )
    return {
        "rotation_table": table,
        "rotation_citizens": _number(citizens),
        "rotation_records": _number(records),
        "rotation_rows": _number(rows),
    }


def _sweep(r: dict[str, Any]) -> dict[str, str]:
    rows = []
    notes = []
    for source, figures in r.items():
        if not isinstance(figures, dict) or "records" not in figures:
            continue
        rows.append(
            [
                source,
                _number(r.get("citizens")),
                _number(figures.get("records")),
                _number(figures.get("first_sweep_records_per_s"), 1),
                _number(figures.get("repeat_sweep_records_per_s"), 1),
                _number(figures.get("bare_fetch_records_per_s"), 1),
                f"**{_number(figures.get('ratio_first_sweep_to_bare'))}**",
                f"**{_number(figures.get('ratio_repeat_sweep_to_bare'))}**",
            ]
        )
        created_updated = figures.get("repeat_created_updated")
        if isinstance(created_updated, list) and len(created_updated) == 2:
            notes.append(
                f"{source}: created {_number(created_updated[0])}, "
                f"updated {_number(created_updated[1])}"
            )
    table = _table(
        [
            "source",
            "citizens",
            "records",
            "first sweep rec/s",
            "repeat sweep rec/s",
            "bare fetch rec/s",
            "first / bare",
            "repeat / bare",
        ],
        rows,
    )
    if notes:
        table += "\n\nWhat the repeat sweep wrote (it finds everything unchanged): " + "; ".join(
            notes
        )
    return {"sweep_table": table}


def _concurrency(r: dict[str, Any]) -> dict[str, str]:
    rows = []
    sources = r.get("sources") if isinstance(r.get("sources"), dict) else {}
    in_flight = r.get("in_flight")
    for source, figures in sources.items():
        if not isinstance(figures, dict):
            continue
        calls = figures.get("upstream_calls_per_sweep") or {}
        seen = figures.get("max_in_flight_seen_upstream") or {}
        per_round = figures.get("ratio_per_round") or []
        cpu = figures.get("cpu_ms_per_record") or {}
        rows.append(
            [
                source,
                f"{_number(figures.get('citizens_swept'))} / {_number(figures.get('records'))}",
                _number(calls.get("concurrent")),
                _number(figures.get("sequential_records_per_s"), 1),
                _number(figures.get("concurrent_records_per_s"), 1),
                f"**{_number(figures.get('ratio_concurrent_to_sequential'), 1)}{TIMES}**",
                ", ".join(f"{_number(x, 1)}{TIMES}" for x in per_round) or MISSING,
                f"{_number(seen.get('sequential'))} / {_number(seen.get('concurrent'))}",
                f"{_number(cpu.get('wallet'))} + {_number(cpu.get('simulator'))} ms",
            ]
        )
    table = _table(
        [
            "source",
            "citizens / records",
            "upstream calls a sweep",
            "one call at a time, rec/s",
            f"{_number(in_flight)} in flight, rec/s",
            f"ratio (goal ≥ 20{TIMES})",
            "ratio per round",
            "most in flight seen upstream",
            "CPU a record, concurrent: wallet + simulator",
        ],
        rows,
    )
    return {
        "concurrency_table": table,
        "concurrency_latency": _number(r.get("latency_ms")),
        "concurrency_rounds": _number(r.get("rounds")),
        "concurrency_in_flight": _number(in_flight),
    }


def _memory(r: dict[str, Any]) -> dict[str, str]:
    sizes = [s for s in r.get("sizes") or [] if isinstance(s, dict)]
    smallest = sizes[0].get("peak_kib") if sizes else None
    rows = []
    for size in sizes:
        peak = size.get("peak_kib")
        ratio = peak / smallest if isinstance(peak, int | float) and smallest else None
        rows.append(
            [_number(size.get("citizens")), f"{_number(peak)} KiB", f"**{_number(ratio, 3)}**"]
        )
    first = _number(sizes[0].get("citizens")) if sizes else MISSING
    table = _table(["citizens", "peak", f"ratio to {first} (goal: within 10%)"], rows)
    return {"memory_table": table}


def _workers(r: dict[str, Any]) -> dict[str, str]:
    table = _table(
        ["workers", "records per second", "sweep status"],
        [
            ["1", _number(r.get("1_worker_records_per_s"), 1), str(r.get("1_worker_status"))],
            ["2", _number(r.get("2_worker_records_per_s"), 1), str(r.get("2_worker_status"))],
            ["speed-up", f"**{_number(r.get('speedup_two_to_one'))}{TIMES}**", ""],
        ],
    )
    return {"workers_table": table, "workers_citizens": _number(r.get("citizens"))}


def _configurations(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = r.get("configurations")
    if isinstance(found, dict):
        return found
    # results of the bench before it served several configurations
    return {k: v for k, v in r.items() if isinstance(v, dict) and "ratio_read_to_echo" in v}


def _cpu(parties: Any) -> str:
    if not isinstance(parties, dict):
        return MISSING
    spent = [parties.get(p) for p in ("server", "postgres", "client")]
    numbers = [float(x) for x in spent if isinstance(x, int | float)]
    if len(numbers) != len(spent):
        return MISSING
    server, postgres, client = numbers
    return f"{server:.2f} + {postgres:.2f} + {client:.2f} = {server + postgres + client:.1f} ms"


def _consent(r: dict[str, Any]) -> dict[str, str]:
    rows = []
    for name, figures in _configurations(r).items():
        span = figures.get("ratio_per_round_min_max") or [None, None]
        cpu = figures.get("cpu_ms_per_request") or {}
        rows.append(
            [
                "default" if name in ("default", "wallet") else f"`{name}`",
                _number(figures.get("consented_reads_per_second"), 1),
                _number(figures.get("token_echo_per_second"), 1),
                f"**{_number(figures.get('ratio_read_to_echo'), 3)}**",
                f"{_number(span[0], 3)}{DASH}{_number(span[-1], 3)}",
                _cpu(cpu.get("consented_read")),
                _cpu(cpu.get("token_echo")),
            ]
        )
    table = _table(
        [
            "configuration",
            "reads/s",
            "baseline req/s",
            "ratio (goal ≥ 0.5)",
            "range over rounds",
            "CPU per read: wallet + PostgreSQL + client",
            "CPU per baseline request",
        ],
        rows,
    )
    queries = r.get("sql_queries_per_read") or {}
    cells: dict[tuple[int, int], str] = {}
    for row in queries.get("rows") or []:
        cells[(row.get("consents"), row.get("earlier_reads"))] = (
            f"{_number(row.get('queries_default'))} + {_number(row.get('queries_keys'))}"
        )
    consents = sorted({c for c, _ in cells})
    earlier = sorted({e for _, e in cells})
    queries_table = _table(
        [
            "consents of the citizen to the service",
            *(f"{_number(e)} earlier reads" for e in earlier),
        ],
        [[_number(c), *(cells.get((c, e), MISSING) for e in earlier)] for c in consents],
    )
    constant = queries.get("constant")
    if constant is True:
        queries_table += "\n\nConstant in both the consents and the access-log entries."
    elif constant is False:
        queries_table += "\n\n**Not constant**: the count grows with the consents or the log."
    statements = queries.get("statements_of_one_read") or []
    if statements:
        queries_table += "\n\nThe statements of one read (1 consent, 100 earlier reads):\n\n"
        queries_table += "\n".join(f"- `{s}`" for s in statements)
    return {
        "consent_table": table,
        "consent_queries_table": queries_table,
        "consent_server": str(r.get("server") or MISSING),
        "consent_clients": _number(r.get("clients")),
        "consent_citizens": _number(r.get("citizens_read")),
        "consent_rounds": _number(r.get("rounds")),
        "consent_seconds": _number(r.get("seconds_per_round"), 1),
    }


def _bomb_text_ratio(levels: int) -> float:
    from bench.bench_graphql import fragment_bomb

    return len(fragment_bomb(levels)) / len(fragment_bomb(10))


def _graphql(r: dict[str, Any]) -> dict[str, str]:
    # named for its 100 documents before the number became a setting
    documents = r.get("distinct_documents", 100 if "cache_100_distinct_20kb_mib" in r else None)
    held = r.get("cache_distinct_20kb_mib", r.get("cache_100_distinct_20kb_mib"))
    table = _table(
        ["figure", "value"],
        [
            [
                "fragment bomb (each fragment spreads the next twice), 20 vs 10 levels: time ratio",
                f"**{_number(r.get('bomb_20_vs_10_levels_time_ratio'))}** (text "
                f"{_bomb_text_ratio(20):.1f}{TIMES} longer; expanded 1,024{TIMES} larger)",
            ],
            [
                "fragment bomb, 40 vs 10 levels: time ratio",
                f"**{_number(r.get('bomb_40_vs_10_levels_time_ratio'))}** (text "
                f"{_number(r.get('bomb_text_40_vs_10_ratio'), 1)}{TIMES} longer; "
                f"expanded 2^30{TIMES} larger)",
            ],
            [
                "plain valid 20 KB document: preparation vs graphql-core's parse alone",
                f"{_number(r.get('plain_20kb_prepare_vs_parse_time_ratio'), 1)}{TIMES} "
                f"({_number(r.get('plain_20kb_prepare_ms'), 1)} ms in this run)",
            ],
            [
                f"{_number(documents)} distinct valid 20 KB documents through the wallet's cache "
                "(default 32 MiB, estimate 150 bytes a character)",
                f"{_number(held, 1)} MiB held",
            ],
            [
                f"the same {_number(documents)} documents all kept (what an unbounded cache does)",
                f"{_number(r.get('keeping_every_document_mib'), 1)} MiB (cache / all kept: "
                f"**{_number(r.get('cache_vs_keeping_every_document'), 3)}**)",
            ],
        ],
    )
    return {"graphql_table": table}


def _scale(r: dict[str, Any]) -> dict[str, str]:
    sizes = [int(n) for n in r.get("sizes") or [] if isinstance(n, int)]
    seeds, rotations = r.get("seed") or {}, r.get("rotation") or {}
    seed_table = _table(
        ["citizens", "data rows", "seconds: keys + data = all", "a citizen", "load average after"],
        [
            [
                _number(n),
                _number((seeds.get(str(n)) or {}).get("data_rows")),
                f"{_number((seeds.get(str(n)) or {}).get('keys_seconds'), 1)} + "
                f"{_number((seeds.get(str(n)) or {}).get('data_seconds'), 1)} = "
                f"**{_number((seeds.get(str(n)) or {}).get('seconds'), 1)}**",
                f"{_number((seeds.get(str(n)) or {}).get('us_per_citizen'), 0)} µs",
                _number((seeds.get(str(n)) or {}).get("load_average_after")),
            ]
            for n in sizes
        ],
    )
    me = r.get("me") or {}
    load = me.get("load_average") or [None, None]
    me_table = _table(
        ["citizens", "ms a request (median of the rounds)", "to the smaller population"],
        [
            [_number(me.get("citizens_small")), _number(me.get("ms_per_request_small"), 2), "1.00"],
            [
                _number(me.get("citizens_large")),
                _number(me.get("ms_per_request_large"), 2),
                f"**{_number(me.get('ratio_large_to_small'), 3)}** (goal ≤ 1.10)",
            ],
        ],
    )
    rotation_rows = []
    for n in sizes:
        rotation = rotations.get(str(n)) or {}
        cpu = rotation.get("cpu_ms_per_citizen") or {}
        each = rotation.get("per_citizen_ms_each_round") or []
        rounds = f" ({', '.join(_number(v, 4) for v in each)})" if len(each) > 1 else ""
        rotation_rows.append(
            [
                f"{_number(n)} ({_number(rotation.get('key_table_mb'), 1)} MB)",
                f"**{_number(rotation.get('per_citizen_ms'), 4)} ms**{rounds}",
                f"**{_number(rotation.get('ratio_peer_to_wallet'), 0)}{TIMES}**",
                f"{_number(cpu.get('rotate_kek'), 4)} + {_number(cpu.get('postgres'), 4)} ms",
                f"{_number(rotation.get('rotate_kek_seconds'), 1)} s, "
                f"{_number(rotation.get('rotate_kek_batches'))} batches, "
                f"{_number(rotation.get('rotate_kek_statements'))} statements",
                f"{_number(rotation.get('batch_ms_first_tenth'), 1)} / "
                f"{_number(rotation.get('batch_ms_last_tenth'), 1)} ms",
                _number(rotation.get("rotate_kek_data_rows_rewritten")),
                _number(rotation.get("load_average_after")),
            ]
        )
    rotation_table = _table(
        [
            "keys (their table with its index)",
            "`rotate_kek` a citizen, median round (each round) (goal ≤ 0.027 ms)",
            f"the peer's 2.72 ms / the wallet's (goal ≥ 100{TIMES})",
            "CPU a citizen: `rotate_kek` + its PostgreSQL backend",
            "whole rotation",
            "a batch: first tenth / last tenth (medians)",
            "data rows written",
            "load average after",
        ],
        rotation_rows,
    )
    return {
        "scale_seed_table": seed_table,
        "scale_me_table": me_table,
        "scale_rotation_table": rotation_table,
        "scale_me_rounds": _number(me.get("rounds")),
        "scale_rotation_rounds": _number(
            max(
                (
                    len((x or {}).get("per_citizen_ms_each_round") or [None])
                    for x in rotations.values()
                ),
                default=None,
            )
        ),
        "scale_me_calls": _number(me.get("calls_per_round")),
        "scale_me_load": f"{_number(load[0])} before, {_number(load[-1])} after",
        "scale_rotation_flatness": f"{_number(r.get('rotation_largest_to_smallest'), 2)}{TIMES}",
        "scale_largest": _number(max(sizes) if sizes else None),
        "scale_smallest": _number(min(sizes) if sizes else None),
    }


SECTIONS: dict[str, Callable[[dict[str, Any]], dict[str, str]]] = {
    "me": _me,
    "crypto": _crypto,
    "rotation": _rotation,
    "sweep": _sweep,
    "sweep-concurrency": _concurrency,
    "sweep-memory": _memory,
    "workers": _workers,
    "consent": _consent,
    "graphql": _graphql,
    "scale": _scale,
}
# Benchmarks run only when asked for (`python -m bench --only NAME`, each by a make target of its
# own): a run of the others keeps their sections and summary rows as the page has them.
ON_DEMAND = ("scale",)
# the placeholder that carries a benchmark's table, and so its "not run" note
TABLES = {
    "me": "me_table",
    "crypto": "crypto_table",
    "rotation": "rotation_table",
    "sweep": "sweep_table",
    "sweep-concurrency": "concurrency_table",
    "sweep-memory": "memory_table",
    "workers": "workers_table",
    "consent": "consent_table",
    "graphql": "graphql_table",
    "scale": "scale_seed_table",
}


def _worst(values: list[Any]) -> float | None:
    numbers = [v for v in values if isinstance(v, int | float)]
    return min(numbers) if numbers else None


HEADLINES: dict[str, Headline] = {
    "me": (
        "`me`: GraphQL / plain view, requests per second",
        "none (what GraphQL costs)",
        lambda r: r.get("ratio_graphql_to_plain"),
        None,
    ),
    "crypto": (
        "encryption: wallet / bare AESGCM, time per record",
        f"≤ 1.3{TIMES}",
        lambda r: r.get("record_level_cost_ratio"),
        lambda v: v <= 1.3,
    ),
    "rotation": (
        "`rotate_kek` speed-up over re-encrypting every row",
        f"≥ 20{TIMES}",
        lambda r: r.get("speedup"),
        lambda v: v >= 20,
    ),
    "sweep": (
        "sweep / bare fetch, records per second (lowest source and pass)",
        "≥ 0.7",
        lambda r: _worst(
            [
                f.get(key)
                for f in r.values()
                if isinstance(f, dict)
                for key in ("ratio_first_sweep_to_bare", "ratio_repeat_sweep_to_bare")
            ]
        ),
        lambda v: v >= 0.7,
    ),
    "sweep-concurrency": (
        "concurrent / one-call-at-a-time sweep at 50 ms upstream latency, records per second "
        "(lowest source)",
        f"≥ 20{TIMES}",
        lambda r: r.get("lowest_ratio"),
        lambda v: v >= 20,
    ),
    "sweep-memory": (
        "sweep peak memory, largest / smallest population",
        "≤ 1.1",
        lambda r: r.get("peak_ratio_largest_to_smallest"),
        lambda v: v <= 1.1,
    ),
    "workers": (
        "two Celery workers / one, records per second",
        "none (the simulator is the limit)",
        lambda r: r.get("speedup_two_to_one"),
        None,
    ),
    "consent": (
        "consented read / token-checked JSON view, default configuration",
        "≥ 0.5",
        lambda r: next(iter(_configurations(r).values()), {}).get("ratio_read_to_echo"),
        lambda v: v >= 0.5,
    ),
    "graphql": (
        "GraphQL validation time, 40-level / 10-level fragment bomb",
        "linear: about the text's growth",
        lambda r: r.get("bomb_40_vs_10_levels_time_ratio"),
        None,
    ),
    # "name:figure": a further row of the benchmark `name`
    "scale": (
        "`me` latency, the largest population / the smallest",
        "≤ 1.10",
        lambda r: (r.get("me") or {}).get("ratio_large_to_small"),
        lambda v: v <= 1.1,
    ),
    "scale:rotation": (
        "`rotate_kek`: the peer's 2.72 ms a citizen / the wallet's, worst population size",
        f"≥ 100{TIMES} (≤ 0.027 ms)",
        lambda r: r.get("rotation_worst_ratio_peer_to_wallet"),
        lambda v: v >= 100,
    ),
    "scale:flat": (
        "`rotate_kek` a citizen, the largest population / the smallest",
        "flat (≤ 1.10)",
        lambda r: r.get("rotation_largest_to_smallest"),
        lambda v: v <= 1.1,
    ),
}


def _run_summary(run: dict[str, Any]) -> str:
    machine = run.get("machine") or {}
    urls = run.get("services") or {}
    services = [
        f"{label} {machine[key]}" + (f" at `{urls[key]}`" if urls.get(key) else "")
        for key, label in (("postgresql", "PostgreSQL"), ("redis", "Redis"))
        if machine.get(key)
    ]
    make = run.get("make_command")
    command = f"`{make}`, that is `{run.get('command')}`" if make else f"`{run.get('command')}`"
    lines = [
        f"**Produced by** {command}, from {run.get('started', MISSING)} to "
        f"{run.get('finished', MISSING)} (UTC).",
        "",
        f"**Machine**: Python {machine.get('python', MISSING)} on {machine.get('arch', MISSING)}, "
        f"{machine.get('cores', MISSING)} cores, {machine.get('system', MISSING)}"
        + (f"; {', '.join(services)}" if services else "")
        + f"; load average {machine.get('load_average_at_start', MISSING)} at the start, "
        f"{machine.get('load_average_at_end', MISSING)} at the end (other work may share it).",
    ]
    sizes = run.get("sizes") or {}
    if sizes:
        lines += [
            "",
            "**Sizes**: " + ", ".join(f"`--{k.replace('_', '-')} {v}`" for k, v in sizes.items()),
        ]
    if run.get("quick"):
        lines += [
            "",
            "**Quick mode** (`--quick`): small sizes to check that every benchmark and this page "
            "still work. The figures below are not measurements to compare or quote.",
        ]
    not_run = [
        f"- `{name}` {outcome.get('status')}: {outcome.get('reason', 'no reason given')}"
        for name, outcome in (run.get("benchmarks") or {}).items()
        if outcome.get("status") != "ok"
    ]
    if not_run:
        lines += ["", "**Not run in this run**:", "", *not_run]
    return "\n".join(lines)


def _summary_table(run: dict[str, Any]) -> str:
    rows = []
    for row_name, (title, goal, headline, meets) in HEADLINES.items():
        name = row_name.split(":")[0]
        outcome = (run.get("benchmarks") or {}).get(name) or {"status": "not selected"}
        if outcome.get("status") == "ok":
            value = headline(outcome.get("result") or {})
            figure = _number(value, 1 if isinstance(value, int | float) and value >= 10 else 3)
            verdict = _verdict(value, meets)
            status = f"ran in {_number(outcome.get('seconds'), 0)} s"
        else:
            figure, verdict = MISSING, MISSING
            status = f"**{outcome.get('status')}**"
        rows.append([f"`{name}`", title, figure, goal, verdict, status])
    return _table(["benchmark", "headline ratio", "figure", "goal", "verdict", "run"], rows)


def render(run: dict[str, Any], template: str | None = None) -> str:
    """The page for one run's results (the dict `python -m bench` keeps as JSON). The load
    section, which `make load` writes from a run of its own, says it was not measured: `write`
    keeps the one already on the page."""
    text = TEMPLATE.read_text() if template is None else template
    values: dict[str, str] = {
        "run_summary": _run_summary(run),
        "summary_table": _summary_table(run),
        **load_section(None),
    }
    benchmarks = run.get("benchmarks") or {}
    for name, section in SECTIONS.items():
        outcome = benchmarks.get(name) or {"status": "not selected", "reason": "not in --only"}
        filled = section(outcome.get("result") or {}) if outcome.get("status") == "ok" else {}
        if not filled:
            filled = {key: MISSING for key in section({})}
            filled[TABLES[name]] = (
                f"**Not run in this run** ({outcome.get('status')}): "
                f"{outcome.get('reason', 'no reason given')}."
            )
        values.update(filled)
    return Template(text).substitute(values)


def write(run: dict[str, Any], path: Path) -> None:
    """The page for a run of `python -m bench`. The load section and the sections of on-demand
    benchmarks the run did not include stay as the page at `path` has them."""
    text = render(run)
    if path.exists():
        page = path.read_text()
        kept = _load_block(page)
        if kept is not None:
            text = text.replace(_load_block(text) or "", kept)
        for name in ON_DEMAND:
            if ((run.get("benchmarks") or {}).get(name) or {}).get("status") != "ok":
                text = _with_section_of(text, page, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n")


def update(run: dict[str, Any], path: Path) -> None:
    """Put the sections and summary rows of the benchmarks of a run of some (`python -m bench
    --only NAME`) into the page at `path`, each saying which command and run it comes from;
    the rest of the page stays as it is. No page yet: the whole page, from this run."""
    if not path.exists():
        write(run, path)
        return
    rendered, page = render(run), path.read_text()
    for name, outcome in (run.get("benchmarks") or {}).items():
        if name in SECTIONS and outcome.get("status") == "ok":
            page = _with_section_of(page, rendered, name, note=_run_note(run))
    path.write_text(page.rstrip("\n") + "\n")


def _run_note(run: dict[str, Any]) -> str:
    machine = run.get("machine") or {}
    make = run.get("make_command")
    command = f"`{make}`, that is `{run.get('command')}`" if make else f"`{run.get('command')}`"
    return (
        f"**From a run of its own**: {command}, from {run.get('started', MISSING)} to "
        f"{run.get('finished', MISSING)} (UTC); load average "
        f"{machine.get('load_average_at_start', MISSING)} at the start, "
        f"{machine.get('load_average_at_end', MISSING)} at the end."
    )


def _section_title(name: str) -> str:
    """The heading line of a benchmark's section: the last one above its table's placeholder."""
    template = TEMPLATE.read_text()
    placeholder = template.index("${" + TABLES[name] + "}")
    start = template.rindex("\n## ", 0, placeholder) + 1
    return template[start : template.index("\n", start)]


def _section_span(text: str, name: str) -> tuple[int, int] | None:
    """Where a benchmark's section is in a page: from its heading to the next heading (or the
    next marked block, or the end)."""
    title = _section_title(name)
    start = text.find(f"\n{title}\n")
    if start == -1:
        return None
    ends = [i for i in (text.find("\n## ", start + 1), text.find("\n<!-- ", start + 1)) if i != -1]
    return start + 1, (min(ends) + 1 if ends else len(text))


def _summary_rows(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"| `{name}` |")]


def _with_section_of(target: str, source: str, name: str, *, note: str = "") -> str:
    """`target` with the section and summary rows of `name` as `source` has them (and `note`
    under the section's heading); unchanged where `source` has none."""
    span = _section_span(source, name)
    if span is None:
        return target
    section = source[span[0] : span[1]]
    if note:
        heading, _, body = section.partition("\n")
        section = f"{heading}\n\n{note}\n{body}"
    old = _section_span(target, name)
    if old is not None:
        target = target[: old[0]] + section + target[old[1] :]
    elif LOAD_BEGIN in target:  # a page from before this section: it goes before the load's
        at = target.index(LOAD_BEGIN)
        target = target[:at] + section.rstrip("\n") + "\n\n" + target[at:]
    else:
        target = target.rstrip("\n") + "\n\n" + section
    rows, old_rows = _summary_rows(source, name), _summary_rows(target, name)
    lines = target.split("\n")
    if rows and old_rows:
        first = lines.index(old_rows[0])
        lines[first : first + len(old_rows)] = rows
    elif rows:  # after the summary table's last row
        header = next(i for i, line in enumerate(lines) if line.startswith("| benchmark |"))
        end = header + 2
        while end < len(lines) and lines[end].startswith("| `"):
            end += 1
        lines[end:end] = rows
    return "\n".join(lines)


# --- the load section: written by `make load` (bench/load.py), kept by `make bench` ---------

LOAD_BEGIN, LOAD_END = "<!-- load section: begin -->", "<!-- load section: end -->"
LOAD_OPERATIONS = ("me", "syncMyData", "citizenData")


def _load_block(text: str) -> str | None:
    """The load section of a page or of the template, markers included; None if it has none."""
    begin = text.find(LOAD_BEGIN)
    end = text.find(LOAD_END, begin)
    if begin == -1 or end == -1:
        return None
    return text[begin : end + len(LOAD_END)]


def _ms(value: Any) -> str:
    return f"{_number(value, 0)} ms" if isinstance(value, int | float) else MISSING


def _pause(seconds: Any) -> str:
    low, high = (seconds or [None, None])[0], (seconds or [None, None])[-1]
    if low == high == 0:
        return "no pause"
    return f"a pause of {_number(low, 1)}{DASH}{_number(high, 1)} s"


def load_section(record: dict[str, Any] | None) -> dict[str, str]:
    """The load section's placeholders from a run of bench/load.py (None: not measured)."""
    if not record:
        keys = ("load_produced", "load_setup", "load_verdict", "load_table", "load_checks")
        values = dict.fromkeys(keys, MISSING)
        values["load_table"] = "**Not measured in this copy of the page**: run `make load`."
        return values
    r, machine = record.get("result") or {}, record.get("machine") or {}
    phases: dict[str, dict[str, Any]] = {
        name: p for name, p in (r.get("phases") or {}).items() if isinstance(p, dict)
    }
    make = record.get("make_command")
    command = (
        f"`{make}`, that is `{record.get('command')}`" if make else f"`{record.get('command')}`"
    )
    produced = (
        f"**Produced by** {command}, from {record.get('started', MISSING)} to "
        f"{record.get('finished', MISSING)} (UTC), on Python {machine.get('python', MISSING)}, "
        f"{machine.get('cores', MISSING)} cores, PostgreSQL {machine.get('postgresql', MISSING)}; "
        f"load average {_number(machine.get('load_average_at_start'))} at the start and "
        f"{_number(machine.get('load_average_at_end'))} at the end (one minute; the wallet, "
        "PostgreSQL, the sandbox and locust share the cores, and other work may too)."
    )
    if not record.get("full"):
        produced += (
            "\n\n**A smaller run than the issue's** (50 clients, 60 s, both phases): a smoke "
            "test, not figures to quote."
        )
    setup = (
        f"{_number(r.get('users'))} clients, started at {_number(r.get('spawn_rate'), 0)} a "
        f"second, for {_number(r.get('seconds'))} s in each phase, against "
        f"`{r.get('server', MISSING)}`; {_number(r.get('citizens'))} citizens. Clients that sync: "
        f"{_number(r.get('sync_users'))}, each starting a `syncMyData` at most every "
        f"{_number(r.get('sync_pacing_seconds'), 1)} s; of the others, 7 in 10 read `me` and "
        "3 in 10 are the service reading `citizenData`, with, between requests, "
        + (
            "; ".join(f"{name}: {_pause(p.get('think_seconds'))}" for name, p in phases.items())
            or MISSING
        )
        + "."
    )
    rows = []
    for phase, p in phases.items():
        operations = p.get("operations") or {}
        for name in (*LOAD_OPERATIONS, "all"):
            o = operations.get(name) or {}
            rows.append(
                [
                    phase,
                    f"`{name}`" if name != "all" else "all",
                    _number(o.get("requests")),
                    _number(o.get("requests_per_second"), 1),
                    _ms(o.get("p50_ms")),
                    _ms(o.get("p95_ms")),
                    _ms(o.get("p99_ms")),
                    _ms(o.get("mean_ms")),
                    _ms(o.get("max_ms")),
                    _number(o.get("failures")),
                ]
            )
    table = _table(
        [
            "phase",
            "operation",
            "requests",
            "per second",
            "p50",
            "p95",
            "p99",
            "mean",
            "max",
            "errors",
        ],
        rows,
    )
    errors, problems = r.get("errors"), r.get("problems") or []
    total = sum(
        ((p.get("operations") or {}).get("all") or {}).get("requests") or 0 for p in phases.values()
    )
    if errors == 0 and not problems and phases:
        verdict = f"**0 errors** in {_number(total)} requests: meets the goal (0 errors)."
    else:
        listed = "; ".join(str(p) for p in problems) or "see the table"
        verdict = f"**{_number(errors)} errors**: below the goal (0 errors). {listed}."
    cores, seconds = machine.get("cores"), r.get("seconds")
    available = (
        f"{_number(cores * seconds)} ({_number(cores)} cores {TIMES} {_number(seconds)} s)"
        if isinstance(cores, int) and isinstance(seconds, int)
        else MISSING
    )
    checks = []
    for phase, p in phases.items():
        runs = p.get("sync_runs") or {}
        cpu = p.get("cpu_seconds") or {}
        load = p.get("load_average_1min") or [None, None]
        requests = ((p.get("operations") or {}).get("all") or {}).get("requests")
        wallet = cpu.get("wallet")
        per_request = (
            1000 * wallet / requests
            if isinstance(wallet, int | float) and isinstance(requests, int) and requests
            else None
        )
        checks.append(
            f"- {phase}: {_number(p.get('access_log_entries_written'))} access-log entries "
            "written, one for each successful `citizenData` read; `syncMyData` source runs: "
            + (", ".join(f"{_number(n)} {status}" for status, n in sorted(runs.items())) or "none")
            + f"; CPU seconds: the wallet's gunicorn {_number(wallet, 1)} "
            f"({_number(per_request, 1)} ms a request), the sandbox "
            f"{_number(cpu.get('sandbox'), 1)}, locust {_number(cpu.get('locust'), 1)}, the "
            f"whole machine (all work) {_number(cpu.get('machine'), 1)} of {available}; "
            f"load average {_number(load[0])} as it started, {_number(load[-1])} as it ended."
        )
    return {
        "load_produced": produced,
        "load_setup": setup,
        "load_verdict": verdict,
        "load_table": table,
        "load_checks": "Checked in the database after each phase, and measured:\n\n"
        + ("\n".join(checks) or MISSING),
    }


def render_load(record: dict[str, Any], template: str | None = None) -> str:
    """The load section alone (markers included), from a run of bench/load.py."""
    block = _load_block(TEMPLATE.read_text() if template is None else template)
    if block is None:
        raise ValueError(f"the template has no load section ({LOAD_BEGIN} ... {LOAD_END})")
    return Template(block).substitute(load_section(record))


def write_load(record: dict[str, Any], path: Path) -> None:
    """Put the load section of a run of bench/load.py into the page at `path`, keeping the rest
    of the page as it is (a page without one gets it at the end; no page: the section alone)."""
    section = render_load(record)
    text = path.read_text() if path.exists() else ""
    old = _load_block(text)
    if old is not None:
        text = text.replace(old, section)
    else:
        text = f"{text.rstrip()}\n\n{section}" if text.strip() else section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n")


# --- Splicing a partial run into a page -------------------------------------------------------


def _sections(text: str) -> list[str]:
    """The page cut before each `## ` heading: the head, then one piece per section."""
    pieces, current = [], []
    for line in text.splitlines(keepends=True):
        if line.startswith("## ") and current:
            pieces.append("".join(current))
            current = []
        current.append(line)
    pieces.append("".join(current))
    return pieces


def _heading(piece: str) -> str:
    return piece.splitlines()[0] if piece.startswith("## ") else ""


def _summary_row(page: str, name: str) -> str | None:
    return next((ln for ln in page.splitlines() if ln.startswith(f"| `{name}` |")), None)


def splice(run: dict[str, Any], page: str) -> str:
    """`page` (a whole run's) with the sections and summary rows of the benchmarks that ran in
    `run` (`--only` some) as `run` renders them, the others kept as they were; a paragraph after
    the page's own provenance says which came from where."""
    names = [n for n, o in (run.get("benchmarks") or {}).items() if o.get("status") == "ok"]
    template = TEMPLATE.read_text()
    rendered = render(run, template)
    new_pieces = {_heading(piece): piece for piece in _sections(rendered)[1:]}
    headings = {
        name: _heading(piece)
        for piece in _sections(template)[1:]
        for name in names
        if f"${{{TABLES[name]}}}" in piece
    }
    pieces = _sections(page)
    order = [_heading(piece) for piece in _sections(template)]
    for name in names:
        heading = headings[name]
        present = [i for i, piece in enumerate(pieces) if _heading(piece) == heading]
        if present:
            pieces[present[0]] = new_pieces[heading]
            continue
        # a new section: after the last one the template puts before it
        before = set(order[: order.index(heading)])
        at = max((i for i, piece in enumerate(pieces) if _heading(piece) in before), default=0)
        pieces.insert(at + 1, new_pieces[heading])
    text = "".join(pieces)
    for name in names:
        row = _summary_row(rendered, name)
        old = _summary_row(text, name)
        if row is None:
            continue
        if old is not None:
            text = text.replace(old, row)
            continue
        earlier = [n for n in SECTIONS if n != name][: list(SECTIONS).index(name)]
        anchor = next(
            (r for n in reversed(earlier) if (r := _summary_row(text, n)) is not None), None
        )
        if anchor is not None:
            text = text.replace(anchor, f"{anchor}\n{row}")
    machine = run.get("machine") or {}
    note = (
        f"**Spliced in**: {', '.join(f'`{n}`' for n in names)} (sections and summary rows) from "
        f"`{run.get('command')}`, {run.get('started', MISSING)} to {run.get('finished', MISSING)} "
        f"(UTC), same machine, load average {machine.get('load_average_at_start', MISSING)} at "
        f"the start, {machine.get('load_average_at_end', MISSING)} at the end."
    )
    kept = [
        ln
        for ln in text.split("\n\n")
        if not (ln.startswith("**Spliced in**: ") and ln.split(" (sections")[0] in note)
    ]
    at = next((i for i, ln in enumerate(kept) if ln.startswith("**Machine**")), len(kept))
    kept.insert(at, note)
    return "\n\n".join(kept)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument(
        "results",
        type=Path,
        help="a run's results: var/bench/results.all.json, or var/bench/results.load.json for "
        "the load section alone",
    )
    parser.add_argument("--out", type=Path, required=True, help="the page to write")
    parser.add_argument(
        "--update",
        action="store_true",
        help="a run of some (--only), as `python -m bench --only NAME --doc PAGE` does: their "
        "sections and summary rows into the page, each section saying where it comes from",
    )
    parser.add_argument(
        "--splice",
        action="store_true",
        help="a run of some benchmarks (--only): replace their sections and summary rows in "
        "the page at --out, keep the rest",
    )
    args = parser.parse_args()
    results = json.loads(args.results.read_text())
    if "benchmarks" not in results:  # a run of bench/load.py
        write_load(results, args.out)
    elif args.splice:
        args.out.write_text(splice(results, args.out.read_text()).rstrip("\n") + "\n")
    elif args.update:
        update(results, args.out)
    else:
        write(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
