"""The benchmarks page is written from a run's results: every benchmark keeps its section, the page
names the command that produced it, and a skipped or failed benchmark says why. Canned results;
no benchmark runs here."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from string import Template
from typing import Any

import pytest

from bench import report
from bench.__main__ import BENCHMARKS
from bench.report import TIMES

COMMAND = ".venv/bin/python -m bench --rounds 10"

RESULTS: dict[str, dict[str, Any]] = {
    "crypto": {
        "benchmark": "per-record encrypt+decrypt vs bare AESGCM",
        "record_bytes": 496,
        "record_level_cost_ratio": 1.24,
        "bytes_level_cost_ratio": 2.17,
        "wallet_record_us": 21.7,
        "bare_record_us": 17.5,
        "wallet_bytes_us": 5.9,
        "bare_bytes_us": 2.7,
        "rounds": 10,
        "calls_per_round": 10000,
    },
    "me": {
        "benchmark": "me query: GraphQL vs plain Django JSON view",
        "graphql_per_second": 444.6,
        "plain_view_per_second": 687.8,
        "ratio_graphql_to_plain": 0.646,
        "sql_queries_graphql": {"default": 3, "keys": 1},
        "sql_queries_plain_view": {"default": 3, "keys": 1},
        "rounds": 10,
        "calls_per_round": 200,
    },
    "rotation": {
        "benchmark": "rotate_kek vs re-encrypting every row",
        "citizens": 100000,
        "rows_per_citizen": 3,
        "rotate_kek_seconds": 18.5,
        "rotate_kek_rewrapped": 100000,
        "rotate_kek_data_rows_rewritten": 0,
        "reencrypt_seconds": 375.0,
        "reencrypt_rows_saved": 300000,
        "speedup": 20.3,
        "rotate_peak_kib_at_10000": 1423,
        "rotate_peak_kib_at_100000": 1475,
        "peak_memory_ratio_large_to_small": 1.04,
    },
    "sweep": {
        "benchmark": "full sweep vs bare httpx fetch",
        "citizens": 2000,
        "youth": {
            "records": 2000,
            "first_sweep_records_per_s": 36.4,
            "repeat_sweep_records_per_s": 39.0,
            "bare_fetch_records_per_s": 47.0,
            "ratio_first_sweep_to_bare": 0.77,
            "ratio_repeat_sweep_to_bare": 0.83,
            "repeat_created_updated": [0, 0],
        },
        "library": {
            "records": 1801,
            "first_sweep_records_per_s": 45.0,
            "repeat_sweep_records_per_s": 48.8,
            "bare_fetch_records_per_s": 60.6,
            "ratio_first_sweep_to_bare": 0.74,
            "ratio_repeat_sweep_to_bare": 0.81,
            "repeat_created_updated": [0, 0],
        },
    },
    "sweep-concurrency": {
        "benchmark": "concurrent vs one-call-at-a-time full sweep, upstream latency",
        "citizens": 600,
        "latency_ms": 50,
        "rounds": 3,
        "in_flight": 32,
        "sources": {
            "youth": {
                "records": 600,
                "citizens_swept": 600,
                "sequential_records_per_s": 17.5,
                "concurrent_records_per_s": 385.0,
                "ratio_concurrent_to_sequential": 22.0,
                "ratio_per_round": [21.5, 22.0, 23.1],
                "upstream_calls_per_sweep": {"sequential": 600, "concurrent": 600},
                "max_in_flight_seen_upstream": {"sequential": 1, "concurrent": 32},
                "cpu_ms_per_record": {"wallet": 1.53, "simulator": 2.38},
            },
        },
        "lowest_ratio": 22.0,
    },
    "sweep-memory": {
        "benchmark": "peak traced memory of a full youth sweep at two sizes",
        "source": "youth",
        "sizes": [{"citizens": 10000, "peak_kib": 2870}, {"citizens": 50000, "peak_kib": 2914}],
        "peak_ratio_largest_to_smallest": 1.015,
    },
    "workers": {
        "benchmark": "youth sweep on 1 vs 2 Celery workers",
        "citizens": 2000,
        "1_worker_records_per_s": 22.6,
        "1_worker_status": "succeeded",
        "2_worker_records_per_s": 34.0,
        "2_worker_status": "succeeded",
        "speedup_two_to_one": 1.5,
    },
    "consent": {
        "benchmark": "consented reads vs a JWT-authenticated JSON view, gunicorn + PostgreSQL",
        "configurations": {
            "default": {
                "consented_reads_per_second": 177.5,
                "token_echo_per_second": 604.4,
                "ratio_read_to_echo": 0.294,
                "ratio_per_round_min_max": [0.278, 0.34],
                "cpu_ms_per_request": {
                    "consented_read": {"server": 5.82, "postgres": 2.53, "client": 1.57},
                    "token_echo": {"server": 1.93, "postgres": 0.0, "client": 1.14},
                },
            },
            "DATABASE_PREPARED_STATEMENTS=1": {
                "consented_reads_per_second": 188.2,
                "token_echo_per_second": 480.7,
                "ratio_read_to_echo": 0.391,
                "ratio_per_round_min_max": [0.367, 0.47],
                "cpu_ms_per_request": {
                    "consented_read": {"server": 5.7, "postgres": 1.44, "client": 1.55},
                    "token_echo": {"server": 2.17, "postgres": 0.0, "client": 1.29},
                },
            },
        },
        "sql_queries_per_read": {
            "rows": [
                {"consents": c, "earlier_reads": e, "queries_default": 3, "queries_keys": 1}
                for c in (1, 10, 50)
                for e in (0, 100, 1000)
            ],
            "constant": True,
            "statements_of_one_read": ["default: WITH consents AS (SELECT ..."],
        },
        "server": "gunicorn --workers 2 --worker-class gthread --threads 4",
        "clients": 8,
        "citizens_read": 64,
        "rounds": 10,
        "seconds_per_round": 2.5,
    },
    "graphql": {
        "benchmark": "GraphQL document preparation: validation growth and cache memory",
        "bomb_20_vs_10_levels_time_ratio": 1.75,
        "bomb_40_vs_10_levels_time_ratio": 2.93,
        "bomb_text_40_vs_10_ratio": 3.9,
        "plain_20kb_prepare_vs_parse_time_ratio": 6.1,
        "plain_20kb_prepare_ms": 145.0,
        "distinct_documents": 100,
        "cache_distinct_20kb_mib": 8.8,
        "keeping_every_document_mib": 157.0,
        "cache_vs_keeping_every_document": 0.056,
        "rounds": 10,
    },
}

TITLES = {
    "me": "## `me` over GraphQL vs a plain Django JSON view",
    "crypto": "## Per-record encryption against bare AESGCM",
    "rotation": "## `rotate_kek` against re-encrypting every row",
    "sweep": "## Full sweeps against a bare httpx fetch",
    "sweep-concurrency": "## Concurrent sweeps against one call at a time, upstream 50 ms away",
    "sweep-memory": "## Peak memory of a sweep",
    "workers": "## One Celery worker against two",
    "consent": "## Consented reads",
    "graphql": "## GraphQL document preparation: linear validation, bounded cache",
}


def a_run(**overrides: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "command": COMMAND,
        "make_command": "make bench",
        "quick": False,
        "started": "2026-12-02T09:00:00+00:00",
        "finished": "2026-12-02T09:40:00+00:00",
        "machine": {
            "python": "3.11.7",
            "arch": "x86_64",
            "cores": 2,
            "system": "Linux-6.1",
            "postgresql": "15.20",
            "redis": "7.0.15",
            "load_average_at_start": 0.5,
            "load_average_at_end": 1.5,
        },
        "sizes": {"rounds": 10, "calls": 200},
        "benchmarks": {
            name: {"status": "ok", "seconds": 60.0, "result": copy.deepcopy(result)}
            for name, result in RESULTS.items()
        },
    }
    run.update(overrides)
    return run


def section(page: str, name: str) -> str:
    """The text of a benchmark's section, up to the next one."""
    start = page.index(TITLES[name])
    end = page.find("\n## ", start + 1)
    return page[start : end if end != -1 else len(page)]


def test_every_benchmark_has_a_section_and_a_summary_row() -> None:
    assert set(RESULTS) == set(BENCHMARKS) == set(TITLES) == set(report.SECTIONS)
    page = report.render(a_run())
    for name in BENCHMARKS:
        assert TITLES[name] in page
        assert f"| `{name}` |" in page
    assert "Not run in this run" not in page
    assert "$" not in page  # no placeholder left unfilled


def test_the_page_names_the_command_that_produced_it_and_the_machine() -> None:
    page = report.render(a_run())
    assert f"`make bench`, that is `{COMMAND}`" in page
    assert "2026-12-02T09:00:00+00:00" in page
    assert "Python 3.11.7 on x86_64, 2 cores" in page
    assert "PostgreSQL 15.20" in page


def test_figures_come_from_the_results() -> None:
    page = report.render(a_run())
    assert "**0.65**" in section(page, "me")  # 0.646
    assert "| SQL statements per request, data + key store | 3 + 1 | 3 + 1 |" in page
    assert f"**1.24{TIMES}**" in section(page, "crypto")
    assert "A youth card (496 bytes of JSON)" in page
    assert "(3.2 µs per round trip in this run)" in page
    rotation = section(page, "rotation")
    assert f"**20.3{TIMES}**" in rotation and "1,423 KiB / 1,475 KiB" in rotation
    assert "100,000 citizens" in rotation and "(300,000 data rows)" in rotation
    assert "| library | 2,000 | 1,801 | 45.0 | 48.8 | 60.6 | **0.74** | **0.81** |" in page
    assert "| 50,000 | 2,914 KiB | **1.015** |" in page
    assert (
        f"| youth | 600 / 600 | 600 | 17.5 | 385.0 | **22.0{TIMES}** | "
        f"21.5{TIMES}, 22.0{TIMES}, 23.1{TIMES} | 1 / 32 | 1.53 + 2.38 ms |"
    ) in section(page, "sweep-concurrency")
    assert f"**1.50{TIMES}**" in section(page, "workers")
    consent = section(page, "consent")
    assert "**0.294**" in consent and "**0.391**" in consent
    assert "5.82 + 2.53 + 1.57 = 9.9 ms" in consent
    assert "| 50 | 3 + 1 | 3 + 1 | 3 + 1 |" in consent
    graphql = section(page, "graphql")
    assert "**2.93**" in graphql and "| 100 distinct valid 20 KB documents" in graphql
    assert "8.8 MiB held" in graphql


def test_results_of_the_earlier_graphql_bench_still_read() -> None:
    run = a_run()
    result = run["benchmarks"]["graphql"]["result"]
    del result["distinct_documents"]
    result["cache_100_distinct_20kb_mib"] = result.pop("cache_distinct_20kb_mib")
    graphql = section(report.render(run), "graphql")
    assert "| 100 distinct valid 20 KB documents" in graphql and "8.8 MiB held" in graphql


def test_goals_are_judged_on_ratios() -> None:
    page = report.render(a_run())
    rows = {line.split(" | ")[0]: line for line in page.splitlines() if line.startswith("| `")}
    assert "meets the goal" in rows["| `crypto`"]  # 1.24 <= 1.3
    assert "**below the goal**" in rows["| `consent`"]  # 0.294 < 0.5
    assert "meets the goal" in rows["| `sweep`"]  # the lowest, 0.74 >= 0.7


@pytest.mark.parametrize("name", ["consent", "workers"])
def test_a_skipped_benchmark_says_why_in_its_section_and_at_the_top(name: str) -> None:
    run = a_run()
    reason = f"needs a service: {name} does not answer"
    run["benchmarks"][name] = {"status": "skipped", "reason": reason}
    page = report.render(run)
    assert f"- `{name}` skipped: {reason}" in page
    assert f"**Not run in this run** (skipped): {reason}." in section(page, name)
    assert TITLES[name] in page
    assert "$" not in page


def test_a_failed_or_missing_benchmark_keeps_its_section() -> None:
    run = a_run()
    run["benchmarks"]["rotation"] = {"status": "failed", "reason": "exit status 1"}
    del run["benchmarks"]["graphql"]
    page = report.render(run)
    assert "**Not run in this run** (failed): exit status 1." in section(page, "rotation")
    assert "**Not run in this run** (not selected)" in section(page, "graphql")


def test_missing_figures_show_as_dashes_not_errors() -> None:
    run = a_run()
    for outcome in run["benchmarks"].values():
        outcome["result"] = {"benchmark": "figures renamed since"}
    page = report.render(run)
    for name in BENCHMARKS:
        assert TITLES[name] in page
    assert "$" not in page


def test_quick_mode_is_marked() -> None:
    assert "**Quick mode**" in report.render(a_run(quick=True))
    assert "**Quick mode**" not in report.render(a_run())


def test_the_template_has_a_value_for_every_placeholder() -> None:
    text = report.TEMPLATE.read_text()
    names = {m.group("braced") for m in Template.pattern.finditer(text) if m.group("braced")}
    filled = {"run_summary", "summary_table", *report.load_section(None)}
    for section_of in report.SECTIONS.values():
        filled |= set(section_of({}))
    assert names == filled


def test_the_command_line_tool_writes_the_page(tmp_path: Path) -> None:
    import subprocess
    import sys

    results = tmp_path / "results.json"
    results.write_text(json.dumps(a_run()))
    out = tmp_path / "benchmarks.md"
    subprocess.run(
        [sys.executable, "-m", "bench.report", str(results), "--out", str(out)],
        check=True,
        cwd=Path(report.__file__).resolve().parents[1],
    )
    assert out.read_text() == report.render(a_run()).rstrip("\n") + "\n"


def test_a_partial_run_is_spliced_into_a_page_keeping_the_other_sections() -> None:
    # given: a whole run's page, then a run of two benchmarks only, with other figures
    page = report.render(a_run())
    partial = a_run(command=".venv/bin/python -m bench --only sweep-concurrency --only workers")
    partial["benchmarks"] = {
        "sweep-concurrency": copy.deepcopy(partial["benchmarks"]["sweep-concurrency"]),
        "workers": copy.deepcopy(partial["benchmarks"]["workers"]),
    }
    partial["benchmarks"]["sweep-concurrency"]["result"]["lowest_ratio"] = 7.5
    partial["benchmarks"]["workers"]["result"]["speedup_two_to_one"] = 1.9

    spliced = report.splice(partial, page)

    assert f"**1.90{TIMES}**" in section(spliced, "workers")
    assert "| `sweep-concurrency` |" in spliced and f"| 7.500 | ≥ 20{TIMES} |" in spliced
    for name in set(BENCHMARKS) - {"sweep-concurrency", "workers"}:
        assert section(spliced, name) == section(page, name)
    assert spliced.count("**Spliced in**: `sweep-concurrency`, `workers`") == 1
    assert report.splice(partial, spliced) == spliced  # again: the same page


def test_a_section_missing_from_the_page_is_spliced_in_where_the_template_puts_it() -> None:
    page = report.render(a_run())
    start = page.index(TITLES["sweep-concurrency"])
    without = page[:start] + page[page.index("\n## ", start) + 1 :]
    without = "\n".join(ln for ln in without.split("\n") if "| `sweep-concurrency` |" not in ln)
    partial = a_run()
    partial["benchmarks"] = {"sweep-concurrency": partial["benchmarks"]["sweep-concurrency"]}

    spliced = report.splice(partial, without)

    assert section(spliced, "sweep-concurrency") == section(page, "sweep-concurrency")
    headings = [ln for ln in spliced.split("\n") if ln.startswith("## ")]
    assert headings == [ln for ln in page.split("\n") if ln.startswith("## ")]
    rows = [ln.split("|")[1].strip() for ln in spliced.split("\n") if ln.startswith("| `")]
    assert rows.index("`sweep-concurrency`") == rows.index("`sweep`") + 1
