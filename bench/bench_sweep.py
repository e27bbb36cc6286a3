"""Full sweeps of N citizens per source: concurrent against one call at a time, against an
upstream that answers late; against a bare httpx fetch of the same pages; the sweep's peak
memory; and one Celery worker against two.

- concurrency (`run_concurrency`): with the simulators holding every answer back
  (`SANDBOX_LATENCY_MS`, 50 ms), the same full sweep with `MAX_IN_FLIGHT` 1 (one upstream call
  at a time) and with many calls in flight, in alternating rounds; records per second.
- throughput: the wallet's sweep (fetch, validate, seal, store, record the run), one call at a
  time, against a loop that only fetches the same answers with httpx and decodes the JSON.
- memory: peak traced memory of a concurrent sweep (`--memory`), to compare runs at two sizes.
- workers (`--workers`): the same sweep fanned out over a Redis broker to one worker process,
  then to two.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

SOURCES = ("youth", "berths", "library")
# The concurrent sweeps' budget: many calls in flight, and a rate high enough never to bind,
# so the figure is what one worker can do (the defaults are a policy toward the city's
# systems: README, "Configuration").
CONCURRENT_IN_FLIGHT = 32
UNBOUND_RATE = 100_000.0


def _budget(source: str, *, in_flight: int, rate: float = UNBOUND_RATE) -> None:
    from django.conf import settings

    settings.CONNECTORS[source] = {
        **settings.CONNECTORS[source],
        "MAX_IN_FLIGHT": in_flight,
        "MAX_CALLS_PER_SECOND": rate,
    }


def _bare_fetch(source: str, sandbox: Any, subjects: list[str], patron_ids: list[str]) -> int:
    """The same requests the connector makes, with nothing done to the answers but decoding."""
    import httpx

    from connectors.berths.connector import BERTH_PROFILE_QUERY
    from connectors.relay import to_global_id
    from connectors.youth.connector import YOUTH_PROFILE_QUERY

    records = 0
    with httpx.Client(timeout=30) as client:
        if source == "library":
            token = sandbox.library_token()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            base = sandbox.library_base_url.rstrip("/")
            for patron_id in patron_ids:
                patron = client.get(f"{base}/patrons/{patron_id}", headers=headers).json()
                records += 1 if patron.get("id") else 0
                for kind in ("checkouts", "holds", "fines"):
                    body = client.get(
                        f"{base}/patrons/{patron_id}/{kind}", headers=headers, params={"limit": 100}
                    ).json()
                    records += len(body.get("entries", []))
            return records
        scope = "youth" if source == "youth" else "berths"
        token = sandbox.service_token(scope=scope)["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        url = sandbox.youth_graphql_url if source == "youth" else sandbox.berths_graphql_url
        query = YOUTH_PROFILE_QUERY if source == "youth" else BERTH_PROFILE_QUERY
        node_type = "YouthProfileNode" if source == "youth" else "ProfileNode"
        for subject in subjects:
            data = client.post(
                url,
                json={"query": query, "variables": {"id": to_global_id(node_type, subject)}},
                headers=headers,
            ).json()["data"]
            node = data.get("youthProfile") if source == "youth" else data.get("berthProfile")
            if node and source == "youth":
                records += 1
            elif node:
                records += len(node["boats"]["edges"]) + len(node["berthLeases"]["edges"])
    return records


def _setup(workdir: Path, citizens: int, *, latency_ms: int = 0) -> Any:
    from bench.setup import django_setup

    os.environ.pop("CELERY_BROKER_URL", None)
    django_setup(workdir)
    from django.conf import settings

    from sandbox.harness import start_sandbox

    sandbox = start_sandbox(
        wallet_client_secret=settings.OIDC_RP_CLIENT_SECRET,
        connector_client_secret=settings.CONNECTOR_CLIENT_SECRET,
        library_client_key=settings.CONNECTORS["library"]["CLIENT_KEY"],
        library_client_secret=settings.CONNECTORS["library"]["CLIENT_SECRET"],
        citizens=citizens,
        latency_ms=latency_ms,
        startup_timeout=600,
    )
    settings.OIDC_ISSUER = sandbox.issuer
    settings.CONNECTOR_TOKEN_ENDPOINT = sandbox.token_url
    for source, url in (
        ("youth", sandbox.youth_graphql_url),
        ("berths", sandbox.berths_graphql_url),
        ("library", sandbox.library_base_url),
    ):
        settings.CONNECTORS[source] = {**settings.CONNECTORS[source], "BASE_URL": url}
    from bench.seed_wallets import seed_wallets

    seed_wallets(count=citizens, citizen_seed=1, issuer=sandbox.issuer)
    return sandbox


def run(
    *,
    citizens: int,
    memory: bool = False,
    sources: tuple[str, ...] = SOURCES,
    latency_ms: int = 0,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wallet-bench-sweep-") as workdir:
        sandbox = _setup(Path(workdir), citizens, latency_ms=latency_ms)
        try:
            from connectors.library.connector import linked_patron_id
            from connectors.services import sweep_start
            from wallet.models import Citizen

            subjects = list(Citizen.objects.values_list("subject", flat=True))
            linked = Citizen.objects.filter(library_link__isnull=False)
            patron_ids = [pid for c in linked if (pid := linked_patron_id(c))]
            result: dict[str, Any] = {
                "benchmark": "full sweep vs bare httpx fetch",
                "citizens": citizens,
            }
            for source in sources:
                # One call at a time, as the bare loop makes them; memory: as concurrent
                # sweeps run.
                _budget(source, in_flight=CONCURRENT_IN_FLIGHT if memory else 1)
                if memory:
                    tracemalloc.start()
                started = time.perf_counter()
                sweep = sweep_start(source=source, incremental=False, trigger="bench")
                sweep_seconds = time.perf_counter() - started
                if memory:
                    _, peak = tracemalloc.get_traced_memory()
                    tracemalloc.stop()
                    result[f"{source}_sweep_peak_kib"] = round(peak / 1024)
                    continue
                started = time.perf_counter()
                again = sweep_start(source=source, incremental=False, trigger="bench")
                again_seconds = time.perf_counter() - started
                started = time.perf_counter()
                bare_records = _bare_fetch(source, sandbox, subjects, patron_ids)
                bare_seconds = time.perf_counter() - started
                assert sweep.status == "succeeded", (source, sweep.errors)
                assert bare_records == sweep.fetched, (source, bare_records, sweep.fetched)
                result[source] = {
                    "records": sweep.fetched,
                    "first_sweep_records_per_s": round(sweep.fetched / sweep_seconds, 1),
                    "repeat_sweep_records_per_s": round(again.fetched / again_seconds, 1),
                    "bare_fetch_records_per_s": round(bare_records / bare_seconds, 1),
                    "ratio_first_sweep_to_bare": round(bare_seconds / sweep_seconds, 2),
                    "ratio_repeat_sweep_to_bare": round(bare_seconds / again_seconds, 2),
                    "repeat_created_updated": [again.created, again.updated],
                }
            return result
        finally:
            sandbox.stop()


def _process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process and its children's threads so far (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _simulator_pids(sandbox: Any) -> list[int]:
    """The sandbox's gunicorn workers (its master only forks and watches them)."""
    master = sandbox.process.pid
    try:
        with open(f"/proc/{master}/task/{master}/children") as children:
            return [int(pid) for pid in children.read().split()]
    except OSError:
        return []


def _simulator_cpu(pids: list[int]) -> float | None:
    seconds = [_process_cpu_seconds(pid) for pid in pids]
    return sum(s for s in seconds if s is not None) if pids and None not in seconds else None


def run_concurrency(
    *,
    citizens: int,
    rounds: int,
    latency_ms: int = 50,
    in_flight: int = CONCURRENT_IN_FLIGHT,
    sources: tuple[str, ...] = SOURCES,
) -> dict[str, Any]:
    """Per source: an untimed sweep that creates the records, then the same full sweep one
    call at a time and with `in_flight` calls, in alternating rounds (each finds everything
    unchanged, so both do the same work); medians of records per second."""
    with tempfile.TemporaryDirectory(prefix="wallet-bench-concurrency-") as workdir:
        sandbox = _setup(Path(workdir), citizens, latency_ms=latency_ms)
        try:
            from connectors.services import sweep_start

            result: dict[str, Any] = {
                "benchmark": "concurrent vs one-call-at-a-time full sweep, upstream latency",
                "citizens": citizens,
                "latency_ms": latency_ms,
                "rounds": rounds,
                "in_flight": in_flight,
                "sources": {},
            }
            simulator = _simulator_pids(sandbox)
            for source in sources:
                _budget(source, in_flight=in_flight)
                created = sweep_start(source=source, incremental=False, trigger="bench")
                assert created.status == "succeeded", (source, created.errors)
                rates: dict[int, list[float]] = {1: [], in_flight: []}
                cpu: dict[str, list[float]] = {"wallet": [], "simulator": []}
                calls: dict[int, int] = {}
                seen_in_flight: dict[int, int] = {}
                for round_number in range(rounds):
                    order = (1, in_flight) if round_number % 2 == 0 else (in_flight, 1)
                    for budget in order:
                        _budget(source, in_flight=budget)
                        sandbox.reset_traffic()
                        wallet_cpu, simulator_cpu = time.process_time(), _simulator_cpu(simulator)
                        started = time.perf_counter()
                        sweep = sweep_start(source=source, incremental=False, trigger="bench")
                        seconds = time.perf_counter() - started
                        if budget == in_flight:
                            cpu["wallet"].append(time.process_time() - wallet_cpu)
                            now = _simulator_cpu(simulator)
                            if now is not None and simulator_cpu is not None:
                                cpu["simulator"].append(now - simulator_cpu)
                        assert sweep.status == "succeeded", (source, sweep.errors)
                        assert (sweep.created, sweep.updated, sweep.ended) == (0, 0, 0)
                        assert sweep.fetched == created.fetched
                        rates[budget].append(sweep.fetched / seconds)
                        traffic = sandbox.traffic().get(source, {})
                        calls[budget] = traffic.get("requests", 0)
                        seen_in_flight[budget] = max(
                            seen_in_flight.get(budget, 0), traffic.get("max_in_flight", 0)
                        )
                sequential = statistics.median(rates[1])
                concurrent = statistics.median(rates[in_flight])
                result["sources"][source] = {
                    "records": created.fetched,
                    "citizens_swept": created.citizens,
                    "sequential_records_per_s": round(sequential, 1),
                    "concurrent_records_per_s": round(concurrent, 1),
                    "ratio_concurrent_to_sequential": round(concurrent / sequential, 1),
                    "ratio_per_round": [
                        round(c / s, 1) for s, c in zip(rates[1], rates[in_flight], strict=True)
                    ],
                    "upstream_calls_per_sweep": {
                        "sequential": calls[1],
                        "concurrent": calls[in_flight],
                    },
                    "max_in_flight_seen_upstream": {
                        "sequential": seen_in_flight[1],
                        "concurrent": seen_in_flight[in_flight],
                    },
                    # where the concurrent sweep's time goes: CPU a record, median of rounds
                    "cpu_ms_per_record": {
                        party: round(1000 * statistics.median(spent) / created.fetched, 2)
                        for party, spent in cpu.items()
                        if spent and created.fetched
                    },
                }
            ratios = [f["ratio_concurrent_to_sequential"] for f in result["sources"].values()]
            result["lowest_ratio"] = min(ratios) if ratios else None
            return result
        finally:
            sandbox.stop()


def run_workers(*, citizens: int, broker: str) -> dict[str, Any]:
    """The youth sweep on one Celery worker process, then on two (Redis broker)."""
    with tempfile.TemporaryDirectory(prefix="wallet-bench-workers-") as workdir:
        os.environ["CELERY_BROKER_URL"] = broker
        sandbox = _setup(Path(workdir), citizens)
        from django.conf import settings

        from connectors.models import SyncRun
        from connectors.services import sweep_start
        from wallet.celery import app

        app.conf.task_always_eager = False
        app.conf.broker_url = broker
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{Path(workdir) / 'bench-wallet.sqlite3'}",
            "KEYSTORE_DATABASE_URL": f"sqlite:///{Path(workdir) / 'bench-keys.sqlite3'}",
            "CELERY_BROKER_URL": broker,
            "OIDC_ISSUER": sandbox.issuer,
            "CONNECTOR_TOKEN_ENDPOINT": sandbox.token_url,
            "YOUTH_API_URL": sandbox.youth_graphql_url,
            "SYNC_CHUNK_SIZE": str(settings.SYNC_CHUNK_SIZE),
            # one call at a time per worker: what scales here is the number of workers
            "YOUTH_MAX_IN_FLIGHT": "1",
            "YOUTH_MAX_CALLS_PER_SECOND": str(UNBOUND_RATE),
        }
        result: dict[str, Any] = {
            "benchmark": "youth sweep on 1 vs 2 Celery workers",
            "citizens": citizens,
        }
        try:
            for label, count in (("warm-up", 2), ("1_worker", 1), ("2_worker", 2)):
                workers = [
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "celery",
                            "-A",
                            "wallet",
                            "worker",
                            "--pool=solo",
                            "--purge",
                            "--without-gossip",
                            "--without-mingle",
                            "--without-heartbeat",
                            "-n",
                            f"w{n}@bench",
                            "--loglevel=WARNING",
                        ],
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    for n in range(count)
                ]
                time.sleep(5)  # workers connect to the broker
                started = time.perf_counter()
                run = sweep_start(source="youth", incremental=False, trigger="bench")
                deadline = time.monotonic() + 1800
                while run.status == SyncRun.Status.RUNNING and time.monotonic() < deadline:
                    time.sleep(0.2)
                    run.refresh_from_db()
                seconds = time.perf_counter() - started
                for worker in workers:
                    worker.terminate()
                    worker.wait(timeout=30)
                if (
                    label != "warm-up"
                ):  # the first sweep creates; the timed ones compare like with like
                    result[f"{label}_records_per_s"] = round(run.fetched / seconds, 1)
                    result[f"{label}_status"] = run.status
            result["speedup_two_to_one"] = round(
                result["2_worker_records_per_s"] / result["1_worker_records_per_s"], 2
            )
            return result
        finally:
            sandbox.stop()
