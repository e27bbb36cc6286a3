"""Full sweeps of N citizens per source against a bare httpx fetch of the same pages from the
same simulator, side by side; the sweep's peak memory; and one Celery worker against two.

- throughput: the wallet's sweep (fetch, validate, seal, store, record the run) against a loop
  that only fetches the same answers with httpx and decodes the JSON; records per second.
- memory: peak traced memory of a sweep (`--memory`), to compare runs at two sizes.
- workers (`--workers`): the same sweep fanned out over a Redis broker to one worker process,
  then to two.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

SOURCES = ("youth", "berths", "library")


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


def _setup(workdir: Path, citizens: int) -> Any:
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
        startup_timeout=300,
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
    *, citizens: int, memory: bool = False, sources: tuple[str, ...] = SOURCES
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wallet-bench-sweep-") as workdir:
        sandbox = _setup(Path(workdir), citizens)
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
