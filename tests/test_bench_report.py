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
from bench.__main__ import BENCHMARKS, ON_DEMAND
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
    "scale": {
        "benchmark": "the wallet at scale on PostgreSQL: seed, me latency, rotate_kek",
        "sizes": [10000, 1000000],
        "seed": {
            "10000": {
                "citizens": 10000,
                "data_rows": 20000,
                "seconds": 1.6,
                "keys_seconds": 0.2,
                "data_seconds": 1.3,
                "us_per_citizen": 160.0,
                "load_average_after": 1.1,
            },
            "1000000": {
                "citizens": 1000000,
                "data_rows": 2000000,
                "seconds": 151.2,
                "keys_seconds": 12.0,
                "data_seconds": 130.5,
                "us_per_citizen": 151.2,
                "load_average_after": 2.3,
            },
        },
        "me": {
            "citizens_small": 10000,
            "citizens_large": 1000000,
            "ms_per_request_small": 3.21,
            "ms_per_request_large": 3.34,
            "ratio_large_to_small": 1.04,
            "rounds": 10,
            "calls_per_round": 200,
            "load_average": [1.2, 1.4],
        },
        "rotation": {
            str(n): {
                "per_citizen_ms": ms,
                "cpu_ms_per_citizen": {"rotate_kek": 0.0071, "postgres": 0.0068},
                "rotate_kek_seconds": ms * n / 1000,
                "rotate_kek_rewrapped": n + 1,
                "rotate_kek_batches": n // 1000 + 1,
                "rotate_kek_batch_size": 1000,
                "rotate_kek_statements": 2 * (n // 1000 + 1) + 3,
                "rotate_kek_data_rows_rewritten": 0,
                "key_table_mb": n / 6000,
                "batch_ms_first_tenth": ms * 1000 * 0.98,
                "batch_ms_last_tenth": ms * 1000,
                "peer_rotate_keys_ms_per_citizen": 2.72,
                "ratio_peer_to_wallet": round(2.72 / ms, 1),
                "load_average_after": 1.5,
                "rounds": 3,
                "per_citizen_ms_each_round": [ms, ms * 1.1, ms * 0.95],
            }
            for n, ms in ((10000, 0.0162), (1000000, 0.0231))
        },
        "rotation_largest_to_smallest": 1.426,
        "rotation_worst_ratio_peer_to_wallet": 117.7,
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
    "scale": "## The wallet at a million citizens (`make bench-scale`)",
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
    assert set(RESULTS) == {*BENCHMARKS, *ON_DEMAND} == set(TITLES) == set(report.SECTIONS)
    page = report.render(a_run())
    for name in (*BENCHMARKS, *ON_DEMAND):
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


def test_the_scale_section_gives_the_seed_me_at_both_sizes_and_rotation_against_the_peer() -> None:
    scale = section(report.render(a_run()), "scale")
    assert "| 1,000,000 | 2,000,000 | 12.0 + 130.5 = **151.2** | 151 µs | 2.30 |" in scale
    assert "| 1,000,000 | 3.34 | **1.040** (goal ≤ 1.10) |" in scale
    assert (
        f"| 10,000 (1.7 MB) | **0.0162 ms** (0.0162, 0.0178, 0.0154) | **168{TIMES}** | "
        "0.0071 + 0.0068 ms |" in scale
    )
    assert (
        f"| 1,000,000 (166.7 MB) | **0.0231 ms** (0.0231, 0.0254, 0.0219) | **118{TIMES}** |"
        in scale
    )
    assert "1,001 batches, 2,005 statements | 22.6 / 23.1 ms | 0 |" in scale
    assert "in\n3 rounds that each rotate every population" in scale
    assert f"the largest against the smallest: 1.43{TIMES}" in scale
    assert "10,000 to 1,000,000 citizens" in scale


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
    me, rotation, flat = [line for line in page.splitlines() if line.startswith("| `scale` |")]
    assert "meets the goal" in me and "meets the goal" in rotation  # 1.04 <= 1.1, 117.7 >= 100
    assert "**below the goal**" in flat  # 1.426 > 1.1


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


def test_a_run_of_some_updates_their_sections_and_keeps_the_rest(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    report.write(a_run(), page)
    before = page.read_text()
    rerun = copy.deepcopy(RESULTS["rotation"]) | {"speedup": 31.7}
    some = a_run(
        command=".venv/bin/python -m bench --only rotation",
        make_command="",
        started="2026-12-03T08:00:00+00:00",
        benchmarks={"rotation": {"status": "ok", "seconds": 300.0, "result": rerun}},
    )

    report.update(some, page)

    after = page.read_text()
    rotation = section(after, "rotation")
    assert f"**31.7{TIMES}**" in rotation
    assert "**From a run of its own**: `.venv/bin/python -m bench --only rotation`" in rotation
    assert "2026-12-03T08:00:00+00:00" in rotation
    row = next(line for line in after.splitlines() if line.startswith("| `rotation` |"))
    assert "31.7" in row and "ran in 300 s" in row
    for name in set(TITLES) - {"rotation"}:  # every other section as it was
        assert section(after, name) == section(before, name)
    assert after.replace(rotation, "").count("From a run of its own") == 0
    assert report._load_block(after) == report._load_block(before)


def test_make_bench_scale_puts_its_section_before_the_load_section_and_keeps_both(
    tmp_path: Path,
) -> None:
    page = tmp_path / "benchmarks.md"
    without_scale = a_run()
    del without_scale["benchmarks"]["scale"]
    report.write(without_scale, page)
    before = page.read_text()
    assert "**Not run in this run** (not selected)" in section(before, "scale")
    scale_only = a_run(
        command=".venv/bin/python -m bench --only scale --doc docs/benchmarks.md",
        make_command="make bench-scale",
        benchmarks={"scale": {"status": "ok", "seconds": 420.0, "result": RESULTS["scale"]}},
    )

    report.update(scale_only, page)

    after = page.read_text()
    start, end = report._section_span(after, "scale") or (0, 0)
    scale = after[start:end]
    assert "**From a run of its own**: `make bench-scale`" in scale
    assert "| 1,000,000 | 3.34 | **1.040** (goal ≤ 1.10) |" in scale
    assert report.LOAD_BEGIN not in scale and report._load_block(after) == report._load_block(
        before
    )
    assert after.index(scale) < after.index(report.LOAD_BEGIN)
    rows = [line for line in after.splitlines() if line.startswith("| `scale` |")]
    assert len(rows) == 3 and all("ran in 420 s" in line for line in rows)
    for name in set(TITLES) - {"scale"}:
        assert section(after, name) == section(before, name)


def test_a_run_of_them_all_keeps_the_sections_of_on_demand_benchmarks(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    report.write(a_run(), page)
    kept = section(page.read_text(), "scale")
    without_scale = a_run()
    del without_scale["benchmarks"]["scale"]
    without_scale["benchmarks"]["crypto"]["result"]["record_level_cost_ratio"] = 1.19

    report.write(without_scale, page)

    after = page.read_text()
    assert section(after, "scale") == kept and "Not run in this run" not in after
    assert f"**1.19{TIMES}**" in section(after, "crypto")
    assert len([line for line in after.splitlines() if "| `scale` |" in line]) == 3
    assert "not selected" not in after


def test_the_command_line_tool_updates_a_page_from_a_run_of_some(tmp_path: Path) -> None:
    import subprocess
    import sys

    page = tmp_path / "benchmarks.md"
    report.write(a_run(), page)
    before = page.read_text()
    results = tmp_path / "results.scale.json"
    scale = copy.deepcopy(RESULTS["scale"])
    scale["me"]["ratio_large_to_small"] = 1.07
    results.write_text(
        json.dumps(a_run(benchmarks={"scale": {"status": "ok", "seconds": 1.0, "result": scale}}))
    )
    subprocess.run(
        [sys.executable, "-m", "bench.report", str(results), "--update", "--out", str(page)],
        check=True,
        cwd=Path(report.__file__).resolve().parents[1],
    )
    after = page.read_text()
    assert "**1.070** (goal ≤ 1.10)" in after and "**1.040**" not in after
    assert section(after, "crypto") == section(before, "crypto")


def test_a_page_from_before_the_scale_section_gets_it_before_the_load_section(
    tmp_path: Path,
) -> None:
    page = tmp_path / "benchmarks.md"
    report.write(a_run(), page)
    text = page.read_text()
    start, end = report._section_span(text, "scale") or (0, 0)
    older = "\n".join(
        line for line in (text[:start] + text[end:]).split("\n") if "| `scale` |" not in line
    )
    page.write_text(older)
    scale_only = a_run(
        benchmarks={"scale": {"status": "ok", "seconds": 9.0, "result": RESULTS["scale"]}}
    )

    report.update(scale_only, page)

    after = page.read_text()
    assert TITLES["scale"] in after
    assert after.index(TITLES["scale"]) < after.index(report.LOAD_BEGIN)
    summary = after[after.index("| benchmark |") :].split("\n\n")[0].splitlines()
    assert [row.split(" | ")[0] for row in summary[-4:]] == ["| `graphql`"] + ["| `scale`"] * 3
    assert after.count(TITLES["scale"]) == 1
