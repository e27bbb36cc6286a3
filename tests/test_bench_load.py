"""`make load` (bench/load.py, bench/locustfile.py): the locustfile's tasks each run once, with
locust's own client and checks, against the live wallet and the sandbox, so the load cannot rot
between the runs that measure it; a wrong answer counts as a failure there. And the load section
of docs/benchmarks.md: written by `make load`, kept by `make bench`, each keeping the other's.
No timing is asserted."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from bench import load, report
from connectors.models import SyncRun
from sandbox.demo import AINO, EERO
from tests.test_bench_report import a_run, section
from wallet.models import AccessLogEntry, Citizen

REPO_ROOT = Path(__file__).resolve().parent.parent


def _every_task_once(host: str, fixtures: Path) -> tuple[int, dict[str, Any]]:
    """`python -m bench.locustfile --once` in a process of its own (locust patches the standard
    library with gevent as it is imported): its exit status and what it reports."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.locustfile", "--once", "--host", host],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "LOAD_FIXTURES": str(fixtures)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_every_task_of_the_locustfile_succeeds_once_against_the_live_wallet(
    live_server, sandbox, tmp_path: Path
) -> None:
    # given Aino, with a profile, a youth card and a consent to the demo service, a token for
    # her as bench/load.py makes them, and the service's token from the provider
    from bench.consent import SERVICE, SERVICE_SECRET, _citizen_with_consents
    from consent.demo import demo_services_seed

    [service] = [s for s in demo_services_seed() if s.slug == SERVICE]
    pairwise = _citizen_with_consents(
        service=service, issuer=sandbox.issuer, index=0, consents=1, subject=str(AINO.sub)
    )
    fixtures = tmp_path / "fixtures.json"
    load.fixtures_write(
        fixtures,
        citizen_tokens=[
            load.citizen_token(
                sandbox, subject=str(AINO.sub), audience=settings.WALLET_API_AUDIENCE
            )
        ],
        service_token=sandbox.client_credentials_token(SERVICE, SERVICE_SECRET)["access_token"],
        service_citizen_ids=[str(pairwise)],
        users=3,
    )
    assert fixtures.stat().st_mode & 0o077 == 0  # tokens: the owner's only

    # when each task runs once
    status, outcomes = _every_task_once(live_server.url, fixtures)

    # then each operation made one request and it succeeded; the read was logged, the sync ran
    assert outcomes == {
        name: {"succeeded": 1, "failed": []} for name in ("me", "syncMyData", "citizenData")
    }
    assert status == 0
    aino = Citizen.objects.get(issuer=sandbox.issuer, subject=str(AINO.sub))
    assert AccessLogEntry.objects.filter(citizen=aino).count() == 1
    assert set(SyncRun.objects.filter(citizen=aino).values_list("status", flat=True)) == {
        "succeeded"
    }


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_locustfile_counts_refusals_and_graphql_errors_as_failures(
    live_server, sandbox, tmp_path: Path
) -> None:
    # given an expired citizen token, and a citizen id the demo service has no consent for
    from bench.consent import SERVICE, SERVICE_SECRET
    from consent.demo import demo_services_seed

    demo_services_seed()

    expired = load.citizen_token(
        sandbox,
        subject=str(EERO.sub),
        audience=settings.WALLET_API_AUDIENCE,
        now=int(time.time()) - 2 * load.TOKEN_SECONDS,
    )
    fixtures = tmp_path / "fixtures.json"
    load.fixtures_write(
        fixtures,
        citizen_tokens=[expired],
        service_token=sandbox.client_credentials_token(SERVICE, SERVICE_SECRET)["access_token"],
        service_citizen_ids=["00000000-0000-4000-8000-000000000000"],
        users=3,
    )

    # when each task runs once
    status, outcomes = _every_task_once(live_server.url, fixtures)

    # then every request is a failure, with the reason, and the exit status says so
    assert status == 1
    assert {name: o["succeeded"] for name, o in outcomes.items()} == {
        "me": 0,
        "syncMyData": 0,
        "citizenData": 0,
    }
    assert "HTTP 401" in outcomes["me"]["failed"][0]
    assert "HTTP 401" in outcomes["syncMyData"]["failed"][0]
    [refused_read] = outcomes["citizenData"]["failed"]
    assert refused_read == "GraphQL errors: NOT_FOUND"  # an answer of 200, with `errors`


@pytest.mark.parametrize(
    "host",
    ["http://127.0.0.1:8000", "http://127.8.9.10:1", "http://localhost:8000", "http://[::1]:80"],
)
def test_the_load_may_go_to_loopback(host: str) -> None:
    assert load.loopback_only(host) == host


@pytest.mark.parametrize(
    "host",
    [
        None,
        "",
        "https://127.0.0.1:8000",  # only the plain http the run serves itself
        "http://10.0.0.1:8000",
        "http://192.168.1.2",
        "http://8.8.8.8",
        "http://example.org",
        "http://localhost.example.org",
        "http://127.0.0.1.example.org",
        "http://[::ffff:10.0.0.1]",
    ],
)
def test_the_load_goes_nowhere_else(host: str | None) -> None:
    with pytest.raises(SystemExit, match="loopback only"):
        load.loopback_only(host)


# --- the load section of the page -----------------------------------------------------------


def _operations(rps: float, *, failures: int = 0) -> dict[str, dict[str, Any]]:
    figures = {
        "me": (60.0, 11, 61, 130),
        "syncMyData": (3.0, 250, 400, 490),
        "citizenData": (23.2, 22, 83, 180),
        "all": (82.7, 15, 120, 300),
    }
    return {
        name: {
            "requests": int(per_second * 60),
            "failures": failures if name in ("me", "all") else 0,
            "requests_per_second": per_second * rps,
            "p50_ms": p50,
            "p95_ms": p95,
            "p99_ms": p99,
            "mean_ms": 19.3,
            "max_ms": 534.2,
        }
        for name, (per_second, p50, p95, p99) in figures.items()
    }


def a_load_run(**overrides: Any) -> dict[str, Any]:
    phase = {
        "operations": _operations(1.0),
        "failures": [],
        "errors": 0,
        "problems": [],
        "access_log_entries_written": 1392,
        "sync_runs": {"succeeded": 540},
        "load_average_1min": [1.77, 3.02],
        "cpu_seconds": {"wallet": 27.9, "sandbox": 3.6, "locust": 2.8, "machine": 101.5},
    }
    record: dict[str, Any] = {
        "command": ".venv/bin/python -m bench.load",
        "make_command": "make load",
        "full": True,
        "started": "2026-12-02T12:00:00+00:00",
        "finished": "2026-12-02T12:04:00+00:00",
        "machine": {
            "python": "3.11.7",
            "cores": 2,
            "postgresql": "15.20",
            "load_average_at_start": 1.5,
            "load_average_at_end": 3.0,
        },
        "result": {
            "users": 50,
            "seconds": 60,
            "spawn_rate": 10,
            "citizens": 3000,
            "sync_users": 3,
            "sync_pacing_seconds": 1.0,
            "server": "gunicorn --workers 2 --worker-class gthread --threads 8",
            "phases": {
                "paced": {**copy.deepcopy(phase), "think_seconds": [0.1, 1.0]},
                "flat-out": {
                    **copy.deepcopy(phase),
                    "think_seconds": [0.0, 0.0],
                    "operations": _operations(2.0),
                },
            },
            "errors": 0,
            "problems": [],
        },
    }
    record.update(overrides)
    return record


LOAD_TITLE = "## Load: 50 clients for 60 s under gunicorn and PostgreSQL"


def load_section_of(page: str) -> str:
    start = page.index(LOAD_TITLE)
    return page[start : page.index(report.LOAD_END, start)]


def test_the_load_section_gives_each_phase_and_operation_its_figures() -> None:
    text = report.render_load(a_load_run())
    assert "| paced | `me` | 3,600 | 60.0 | 11 ms | 61 ms | 130 ms | 19 ms | 534 ms | 0 |" in text
    assert "| flat-out | all | 4,962 | 165.4 | 15 ms | 120 ms | 300 ms |" in text
    assert "**0 errors** in 9,924 requests: meets the goal (0 errors)." in text
    assert f"paced: a pause of 0.1{report.DASH}1.0 s; flat-out: no pause" in text
    assert "1,392 access-log entries written" in text and "540 succeeded" in text
    assert "the wallet's gunicorn 27.9 (5.6 ms a request)" in text  # 27.9 s / 4,962
    assert f"the whole machine (all work) 101.5 of 120 (2 cores {report.TIMES} 60 s)" in text
    assert "`make load`, that is `.venv/bin/python -m bench.load`" in text
    assert "smoke test, not figures" not in text
    assert "$" not in text


def test_errors_are_named_and_miss_the_goal() -> None:
    run = a_load_run()
    run["result"]["errors"] = 2
    run["result"]["problems"] = ["paced: me, 2 times: HTTP 502"]
    run["result"]["phases"]["paced"]["operations"] = _operations(1.0, failures=2)
    text = report.render_load(run)
    assert "**2 errors**: below the goal (0 errors). paced: me, 2 times: HTTP 502." in text
    assert "| paced | `me` | 3,600 | 60.0 | 11 ms | 61 ms | 130 ms | 19 ms | 534 ms | 2 |" in text


def test_a_smaller_run_is_marked_as_a_smoke_test() -> None:
    assert "not figures to quote" in report.render_load(a_load_run(full=False))


def test_make_load_and_make_bench_each_keep_the_others_sections(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    # a page from `make bench` alone says the load was not measured
    report.write(a_run(), page)
    assert "**Not measured in this copy of the page**" in load_section_of(page.read_text())
    benchmarks_only = page.read_text()

    # `make load` replaces the load section and nothing else
    report.write_load(a_load_run(), page)
    with_load = page.read_text()
    assert "**0 errors** in 9,924 requests" in load_section_of(with_load)
    before, after = benchmarks_only.split(LOAD_TITLE)[0], with_load.split(LOAD_TITLE)[0]
    assert before == after
    assert with_load.count(report.LOAD_BEGIN) == 1

    # a later `make bench` rewrites its sections and keeps the load section
    changed = a_run()
    changed["benchmarks"]["crypto"]["result"]["record_level_cost_ratio"] = 1.11
    report.write(changed, page)
    again = page.read_text()
    assert load_section_of(again) == load_section_of(with_load)
    assert "**1.11" in section(again, "crypto")


def test_a_load_run_alone_writes_its_section_to_a_page_of_its_own(tmp_path: Path) -> None:
    results = tmp_path / "results.load.json"
    results.write_text(json.dumps(a_load_run(full=False)))
    out = tmp_path / "load.quick.md"
    subprocess.run(
        [sys.executable, "-m", "bench.report", str(results), "--out", str(out)],
        check=True,
        cwd=REPO_ROOT,
    )
    text = out.read_text()
    assert text.startswith(report.LOAD_BEGIN) and text.rstrip().endswith(report.LOAD_END)
    assert "not figures to quote" in text


def test_the_committed_page_has_a_load_section() -> None:
    page = (REPO_ROOT / "docs" / "benchmarks.md").read_text()
    assert page.count(report.LOAD_BEGIN) == 1 and page.count(report.LOAD_END) == 1
    assert LOAD_TITLE in load_section_of(page)
