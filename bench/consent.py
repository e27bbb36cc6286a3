"""Consented reads over HTTP under gunicorn and PostgreSQL, against a minimal JWT-authenticated
JSON view served by the same server in the same run; and SQL queries per consented read as the
citizen's consents and access log grow.

- throughput: a service's GraphQL `citizenData` read of a citizen who granted it two fields
  (token check, service lookup, consents, data key, profile, records, decryption, access-log
  append) against `bench.urls.token_echo` (the same token checked by the same validator, then a
  small JSON body). Both are served by one gunicorn from `bench.settings` and loaded by a few
  keep-alive httpx clients (8) over loopback, in alternating fixed-duration rounds.
- queries: one read through Django's test client in this process, counted with
  CaptureQueriesContext on both databases ("default" and "keys"), for citizens with 1, 10 and
  50 consents to the service, after 0, 100 and 1,000 earlier reads (access-log entries).

Needs PostgreSQL (`BENCH_DATABASE_URL`, default postgres://postgres@127.0.0.1:5432; see
`bench/services.py`). The two databases named below are created afresh and dropped at the end.
Served twice: as a deployment gets it, and with the two opt-outs a deployment behind a pooler
may need (`DATABASE_PREPARED_STATEMENTS=false`, `DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE=0`).
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DATABASE, KEYSTORE_DATABASE = "bench_consent", "bench_consent_keys"
# Server configurations, each loaded in turn: name -> environment on top of the wallet's.
CONFIGURATIONS: dict[str, dict[str, str]] = {
    "default": {},
    # a deployment that turns off both: behind a pooler without prepared statements, with a
    # connection check before every request (Django's own behaviour)
    "DATABASE_PREPARED_STATEMENTS=false DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE=0": {
        "DATABASE_PREPARED_STATEMENTS": "false",
        "DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE": "0",
    },
}

SERVICE, SERVICE_SECRET = "demo-service", "demo-service-secret"
PURPOSE, REDIRECT_URI = "membership-check", "http://127.0.0.1:8200/consent/callback"
GRANTED = ["profile.email", "youth.membership.status"]

LOAD_CITIZENS = 64  # read in turn, so no two clients wait on the same citizen's log lock
CLIENTS = 8  # concurrent keep-alive connections, one per server thread
# Both sides are served by this one server: 2 processes (2 cores), threads to overlap waits on
# PostgreSQL.
GUNICORN_OPTIONS = ["--workers", "2", "--worker-class", "gthread", "--threads", "4"]
CONSENT_COUNTS = (1, 10, 50)
EARLIER_READS = (0, 100, 1000)

CITIZEN_DATA = """
query($id: ID!) {
  citizenData(citizenId: $id) {
    citizenId requestId grantedFields withheldFields
    records { kind values { fieldId value } }
  }
}"""


def _databases_recreate(
    postgres_url: str,
    *,
    create: bool = True,
    names: tuple[str, ...] = (DATABASE, KEYSTORE_DATABASE),
) -> None:
    import psycopg

    with psycopg.connect(f"{postgres_url}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                admin.execute(f'CREATE DATABASE "{name}"')


def _citizen_with_consents(
    *, service: Any, issuer: str, index: int, consents: int, subject: str | None = None
) -> uuid.UUID:
    """A citizen with a profile and a youth card who gave the service `consents` consents to the
    same two fields, each from a request of its own. Returns the service's pairwise id. The
    `subject` defaults to one made from `index`."""
    from consent.services import consent_request_create, consent_request_decide
    from wallet.services import (
        UpstreamRecord,
        citizen_get_or_create,
        profile_update_from_claims,
        records_upsert,
    )

    subject = subject or str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-consent-{index}"))
    citizen, _ = citizen_get_or_create(issuer=issuer, subject=subject)
    profile_update_from_claims(
        citizen=citizen,
        claims={
            "given_name": "Bench",
            "family_name": f"Citizen {index}",
            "email": f"bench.{index}@example.org",
        },
    )
    card = {
        "membership_number": f"BENCH-{index:05d}",
        "status": "ACTIVE",
        "expiration": "2030-08-31",
        "birth_date": "2010-01-01",
        "school_name": "Bench School",
        "school_class": "7B",
        "language_at_home": "FINNISH",
        "photo_usage_approved": False,
        "additional_contact_persons": [],
    }
    records_upsert(
        citizen=citizen,
        source="youth",
        records=[UpstreamRecord(kind="membership", external_id=f"bench-{index}", payload=card)],
        complete_kinds=["membership"],
    )
    pairwise = None
    for _ in range(consents):
        request = consent_request_create(
            service=service, field_ids=GRANTED, purpose_code=PURPOSE, redirect_uri=REDIRECT_URI
        )
        decision = consent_request_decide(
            citizen=citizen, loa="substantial", request_id=request.pk, approve=True
        )
        assert decision.consent is not None
        pairwise = decision.consent.subject.pairwise_id
    assert pairwise is not None
    return pairwise


def _read_in_process(client: Any, token: str, pairwise: uuid.UUID) -> None:
    response = client.post(
        "/graphql/",
        {"query": CITIZEN_DATA, "variables": {"id": str(pairwise)}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    assert body["data"]["citizenData"]["grantedFields"] == GRANTED, body


@contextmanager
def _queries_on_both_databases() -> Iterator[tuple[Any, Any]]:
    from django.core.signals import request_started
    from django.db import connections, reset_queries
    from django.test.utils import CaptureQueriesContext

    # The test client empties the query log as each request starts: keep it for the count.
    request_started.disconnect(reset_queries)
    try:
        with (
            CaptureQueriesContext(connections["default"]) as default,
            CaptureQueriesContext(connections["keys"]) as keys,
        ):
            yield default, keys
    finally:
        request_started.connect(reset_queries)


def _query_table(*, service: Any, issuer: str, token: str) -> dict[str, Any]:
    """SQL queries of one whole `citizenData` request (token check to response), per number of
    consents and of earlier reads."""
    from django.test import Client

    from consent.models import ServiceSubject
    from consent.selectors import service_by_client_id
    from wallet.access_log import access_log_append

    client = Client()
    rows: list[dict[str, int]] = []
    statements: list[str] = []
    for consents in CONSENT_COUNTS:
        pairwise = _citizen_with_consents(
            service=service, issuer=issuer, index=10_000 + consents, consents=consents
        )
        citizen = ServiceSubject.objects.get(pairwise_id=pairwise).citizen
        done = 0  # reads so far: each left an access-log entry
        for earlier in EARLIER_READS:
            while done < earlier:  # the entry a read writes, without the read (faster)
                access_log_append(
                    citizen=citizen,
                    service_id=service.pk,
                    consent_id=None,
                    details={"service": {"slug": SERVICE}, "fields": GRANTED, "withheld": []},
                )
                done += 1
            # The registry lookup is cached per process (WALLET_SERVICE_CACHE_SECONDS): count
            # the steady state, where it is warm.
            service_by_client_id(SERVICE)
            with _queries_on_both_databases() as (default, keys):
                _read_in_process(client, token, pairwise)
            done += 1
            rows.append(
                {
                    "consents": consents,
                    "earlier_reads": earlier,
                    "queries_default": len(default.captured_queries),
                    "queries_keys": len(keys.captured_queries),
                }
            )
            if consents == 1 and earlier == 100:  # a read in the steady state
                statements = [
                    f"{alias}: {' '.join(q['sql'].split())[:90]}"
                    for alias, captured in (("default", default), ("keys", keys))
                    for q in captured.captured_queries
                ]
    totals = {row["queries_default"] + row["queries_keys"] for row in rows}
    return {"rows": rows, "constant": len(totals) == 1, "statements_of_one_read": statements}


@contextmanager
def _gunicorn(
    env: dict[str, str],
    log_path: Path,
    *,
    options: list[str] = GUNICORN_OPTIONS,
    ready: tuple[str, int] = ("/bench/token-echo/", 401),
) -> Iterator[tuple[str, int]]:
    """A gunicorn serving the wallet on a free loopback port: (base URL, master pid), once
    GET `ready[0]` answers `ready[1]`."""
    import httpx

    from sandbox.harness import free_port

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "wallet.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                *options,
                "--keep-alive",
                "60",
                "--timeout",
                "120",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not come up:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base_url}{ready[0]}", timeout=1).status_code == ready[1]:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        yield base_url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _process_cpu_seconds(predicate: Callable[[int, str, int], bool]) -> float:
    """User + system CPU seconds of the processes `predicate(pid, comm, ppid)` picks, together."""
    return sum(_process_cpu_by_pid(predicate).values())


def _process_cpu_by_pid(predicate: Callable[[int, str, int], bool]) -> dict[int, float]:
    """User + system CPU seconds of each process `predicate(pid, comm, ppid)` picks, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    spent: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if predicate(int(entry), comm, int(fields[1])):
            spent[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return spent


def _bench_backends(postgres_url: str) -> set[int]:
    """The PostgreSQL backends serving the bench's two databases. Only theirs count: the
    server may be shared, and other clients' work is not the wallet's."""
    import psycopg

    with psycopg.connect(f"{postgres_url}/postgres", autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)",
            [[DATABASE, KEYSTORE_DATABASE]],
        ).fetchall()
    return {pid for (pid,) in rows}


def _cpu_by_party(server_pid: int, postgres_url: str) -> dict[str, dict[int, float]]:
    """CPU seconds so far, by process, of the wallet's gunicorn (master and workers), of the
    PostgreSQL backends serving the bench's databases and of this process (the load
    generator)."""
    backends = _bench_backends(postgres_url)
    return {
        "server": _process_cpu_by_pid(lambda pid, comm, ppid: server_pid in (pid, ppid)),
        "postgres": _process_cpu_by_pid(lambda pid, comm, ppid: pid in backends),
        "client": {os.getpid(): sum(os.times()[:2])},
    }


def _cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings: a process that started in between counts from
    zero (a backend replacing one past DATABASE_CONN_MAX_AGE)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _alternating_rounds(
    sides: dict[str, Callable[[int, int], None]],
    *,
    rounds: int,
    seconds: float,
    server_pid: int,
    postgres_url: str,
) -> tuple[dict[str, list[float]], dict[str, dict[str, float]]]:
    """Requests per second of each side: every client drives one side until the round's end; the
    sides take turns, the order flipping each round (the machine is noisy). Also the CPU each
    party spent per request of each side, over all rounds."""
    rates: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, dict[str, float]] = {name: {} for name in sides}
    requests: dict[str, int] = dict.fromkeys(sides, 0)

    def drive(request: Callable[[int, int], None], client: int, deadline: float) -> int:
        done = 0
        while time.perf_counter() < deadline:
            request(client, done)
            done += 1
        return done

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:

        def one_round(request: Callable[[int, int], None], duration: float) -> tuple[float, int]:
            started = time.perf_counter()
            futures = [
                pool.submit(drive, request, client, started + duration) for client in range(CLIENTS)
            ]
            done = sum(future.result() for future in futures)
            return done / (time.perf_counter() - started), done

        for request in sides.values():  # warm up: connections, JWKS, parsed queries per worker
            one_round(request, 1.0)
        names = list(sides)
        for round_number in range(rounds):
            for name in names if round_number % 2 == 0 else reversed(names):
                before = _cpu_by_party(server_pid, postgres_url)
                rate, done = one_round(sides[name], seconds)
                after = _cpu_by_party(server_pid, postgres_url)
                rates[name].append(rate)
                requests[name] += done
                for party in after:
                    spent = _cpu_spent(before[party], after[party])
                    cpu[name][party] = cpu[name].get(party, 0.0) + spent
    cpu_ms = {
        name: {party: round(1000 * spent / requests[name], 2) for party, spent in parties.items()}
        for name, parties in cpu.items()
    }
    return rates, cpu_ms


def _load(
    *,
    base_url: str,
    server_pid: int,
    postgres_url: str,
    token: str,
    pairwise_ids: list[uuid.UUID],
    rounds: int,
    seconds: float,
) -> dict[str, Any]:
    import json

    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    clients = [httpx.Client(base_url=base_url, headers=headers, timeout=30) for _ in range(CLIENTS)]
    bodies = [
        json.dumps({"query": CITIZEN_DATA, "variables": {"id": str(p)}}).encode()
        for p in pairwise_ids
    ]
    json_type = {"Content-Type": "application/json"}

    def consented_read(client: int, n: int) -> None:
        # client k reads citizens k, k + CLIENTS, ...: never one another's
        body = bodies[(client + n * CLIENTS) % len(bodies)]
        response = clients[client].post("/graphql/", content=body, headers=json_type)
        assert response.status_code == 200 and b'"errors"' not in response.content, response.text
        assert b'"youth.membership.status","value":"ACTIVE"' in response.content, response.text

    def token_echo(client: int, n: int) -> None:
        response = clients[client].get("/bench/token-echo/")
        assert response.status_code == 200, response.text

    try:
        rates, cpu_ms = _alternating_rounds(
            {"consented_read": consented_read, "token_echo": token_echo},
            rounds=rounds,
            seconds=seconds,
            server_pid=server_pid,
            postgres_url=postgres_url,
        )
    finally:
        for client in clients:
            client.close()
    read, echo = statistics.median(rates["consented_read"]), statistics.median(rates["token_echo"])
    pairs = [r / e for r, e in zip(rates["consented_read"], rates["token_echo"], strict=True)]
    return {
        "consented_reads_per_second": round(read, 1),
        "token_echo_per_second": round(echo, 1),
        "ratio_read_to_echo": round(read / echo, 3),
        "ratio_per_round_min_max": [round(min(pairs), 3), round(max(pairs), 3)],
        "reads_per_second_each_round": [round(r, 1) for r in rates["consented_read"]],
        "echo_per_second_each_round": [round(e, 1) for e in rates["token_echo"]],
        "cpu_ms_per_request": cpu_ms,
    }


def run(*, rounds: int, seconds: float, postgres_url: str | None = None) -> dict[str, Any]:
    from bench.services import database_url as default_postgres_url
    from bench.setup import django_setup

    postgres_url = postgres_url or default_postgres_url()
    _databases_recreate(postgres_url)
    database_url = f"{postgres_url}/{DATABASE}"
    keystore_url = f"{postgres_url}/{KEYSTORE_DATABASE}"
    os.environ["DATABASE_URL"], os.environ["KEYSTORE_DATABASE_URL"] = database_url, keystore_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    with ExitStack() as cleanup:
        workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="wallet-bench-")))
        cleanup.callback(_databases_recreate, postgres_url, create=False)
        started = time.perf_counter()
        django_setup(workdir)
        from django.conf import settings
        from django.db import connections

        cleanup.callback(connections.close_all)  # before the databases are dropped
        logging.getLogger("consent").setLevel(logging.WARNING)  # a line per seeded consent
        from consent.demo import demo_services_seed
        from sandbox.harness import start_sandbox

        sandbox = cleanup.enter_context(
            start_sandbox(
                wallet_client_secret=settings.OIDC_RP_CLIENT_SECRET,
                connector_client_secret=settings.CONNECTOR_CLIENT_SECRET,
                library_client_key=settings.CONNECTORS["library"]["CLIENT_KEY"],
                library_client_secret=settings.CONNECTORS["library"]["CLIENT_SECRET"],
            )
        )
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client
        settings.OIDC_ISSUER = sandbox.issuer
        settings.OIDC_OP_JWKS_ENDPOINT = sandbox.jwks_url
        token = sandbox.client_credentials_token(SERVICE, SERVICE_SECRET)["access_token"]

        [service] = [s for s in demo_services_seed() if s.slug == SERVICE]
        pairwise_ids = [
            _citizen_with_consents(service=service, issuer=sandbox.issuer, index=i, consents=1)
            for i in range(LOAD_CITIZENS)
        ]
        queries = _query_table(service=service, issuer=sandbox.issuer, token=token)
        connections.close_all()
        prepared = time.perf_counter()

        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "OIDC_ISSUER": sandbox.issuer,
            "OIDC_OP_JWKS_ENDPOINT": sandbox.jwks_url,
            "OIDC_OP_TOKEN_ENDPOINT": sandbox.token_url,
            "CONNECTOR_TOKEN_ENDPOINT": sandbox.token_url,
            "YOUTH_API_URL": sandbox.youth_graphql_url,
        }
        # Served as configured (persistent database connections, DATABASE_CONN_MAX_AGE), then
        # with each opt-in of CONFIGURATIONS.
        servers = {name: {**env, **extra} for name, extra in CONFIGURATIONS.items()}
        configurations: dict[str, Any] = {}
        for number, (name, server_env) in enumerate(servers.items()):
            with _gunicorn(server_env, workdir / f"gunicorn-{number}.log") as (base_url, pid):
                configurations[name] = _load(
                    base_url=base_url,
                    server_pid=pid,
                    postgres_url=postgres_url,
                    token=token,
                    pairwise_ids=pairwise_ids,
                    rounds=rounds,
                    seconds=seconds,
                )
        return {
            "benchmark": "consented reads vs a JWT-authenticated JSON view, gunicorn + PostgreSQL",
            "configurations": configurations,
            "sql_queries_per_read": queries,
            "server": f"gunicorn {' '.join(GUNICORN_OPTIONS)}",
            "clients": CLIENTS,
            "citizens_read": LOAD_CITIZENS,
            "rounds": rounds,
            "seconds_per_round": seconds,
            "seconds_to_prepare": round(prepared - started, 1),
            "seconds_in_all": round(time.perf_counter() - started, 1),
        }
