"""Load: `make load` (`python -m bench.load`). 50 locust clients for 60 s against the wallet under
gunicorn and PostgreSQL, on loopback ports this command starts and stops itself.

1. Fresh PostgreSQL databases (`bench_load`, `bench_load_keys`; dropped at the end) on the
   server of `BENCH_DATABASE_URL` (see bench/services.py).
2. A sandbox (OIDC provider and the three upstream simulators) with `--citizens` generated
   citizens upstream; their wallets (`bench/seed_wallets.py`: key, library link for every third),
   each with a profile, a youth card and a consent to the demo service `demo-service` for two
   fields (`bench/consent.py`'s `_citizen_with_consents`).
3. A token per citizen, signed with the provider's own key and claims like the provider's (the
   wallet checks them on its real path: JWKS, signature, `typ`, `iss`, `aud`, times, scope), and
   the demo service's client-credentials token from the provider's token endpoint.
4. gunicorn (`GUNICORN_OPTIONS`) with the wallet's settings as a deployment gets them (DEBUG
   off, persistent database connections), pointed at the sandbox; a short warm-up.
5. locust, headless (`bench/locustfile.py`), once for each of `PHASES` (paced, flat-out):
   `--users` clients spawned at `--spawn-rate` a second for `--seconds`. Its own statistics,
   taken as it quits, give requests per second and p50 / p95 / p99 per operation.

Errors are any non-2xx answer, GraphQL `errors` or an answer without the data asked for, and
also, counted in the database after each phase, a `citizenData` read that left no access-log
entry or a `syncMyData` source that did not succeed, and a traceback in the wallet's log. Any
error makes the exit status 1.

`syncMyData` runs in the request (its answer is each source's outcome), so no Celery worker is
involved whether or not a broker is configured: the load run sets none.

Results: a JSON file (`--results`, default var/bench/results.load.json). At the issue's sizes
(50 users, 60 s, both phases) the load section of docs/benchmarks.md is rewritten from it (the
other sections are kept); a smaller run writes its section to var/bench/load.quick.md instead
(`--doc` to choose, `--no-doc` for none).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR = REPO_ROOT / "var" / "bench"
DOC = REPO_ROOT / "docs" / "benchmarks.md"
DATABASES = ("bench_load", "bench_load_keys")

# The issue's sizes: 50 clients for 60 s. The section of docs/benchmarks.md is written from a run
# of at least these.
USERS, SECONDS = 50, 60
SPAWN_RATE = 10  # clients started per second: all 50 within the first 5 s
CITIZENS = 3000
# Each phase is a locust run of its own against the same server and data, with the reading
# clients' pause between requests (min, max seconds): "paced", people at their pace; "flat-out",
# no pause at all, so requests per second is what the machine can serve and the latencies are
# mostly waiting in line.
PHASES: dict[str, tuple[float, float]] = {"paced": (0.1, 1.0), "flat-out": (0.0, 0.0)}
SYNC_PACING_SECONDS = 1.0  # a syncing client starts a sync at most this often
# 2 processes (2 cores), 8 threads each to overlap the waits on PostgreSQL and, for syncMyData,
# on the upstreams.
GUNICORN_OPTIONS = ["--workers", "2", "--worker-class", "gthread", "--threads", "8"]
CITIZEN_CLIENT_ID = "wallet-cli"  # the sandbox's command-line client, whose tokens act for citizens
TOKEN_SECONDS = 3600

# The operations of bench/locustfile.py, here so that this module (the warm-up, the tests) need
# not import locust, which patches the standard library with gevent as it is imported.
ME_QUERY = """{ me {
  profile { firstName lastName nickname email phone address preferredLanguage }
  youthMembership { membershipNumber status expiration schoolName schoolClass }
  berthLeases { harbor pier berthNumber status startDate endDate }
  boats { registrationNumber name boatType }
  sources { name lastSyncedAt status }
} }"""
SYNC_MUTATION = """mutation { syncMyData {
  sources { source status fetched created updated unchanged failed errorCode }
  errors { field message code }
} }"""
CITIZEN_DATA_QUERY = """query($id: ID!) { citizenData(citizenId: $id) {
  citizenId grantedFields withheldFields
  records { kind values { fieldId value } }
} }"""


def loopback_only(host: str | None) -> str:
    """The host, if it is an http URL on this machine: the load is never sent anywhere else."""
    url = urlsplit(host or "")
    try:
        name = url.hostname or ""
        loopback = name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:
        loopback = False
    if url.scheme != "http" or not loopback:
        raise SystemExit(f"the load goes to http URLs on loopback only, not {host!r}")
    return str(host)


def sync_users(users: int) -> int:
    """Clients that sync: about one in sixteen, at least one."""
    return max(1, users // 16)


def citizen_token(sandbox: Any, *, subject: str, audience: str, now: int | None = None) -> str:
    """An access token for a citizen as the sandbox's provider issues them (wallet-cli client,
    scope `wallet`, substantial assurance), signed with its key."""
    issued_at = int(time.time()) if now is None else now
    return str(
        sandbox.sign_jwt(
            {
                "iss": sandbox.issuer,
                "aud": audience,
                "client_id": CITIZEN_CLIENT_ID,
                "azp": CITIZEN_CLIENT_ID,
                "scope": "openid profile email wallet",
                "iat": issued_at,
                "exp": issued_at + TOKEN_SECONDS,
                "jti": str(uuid.uuid4()),
                "sub": subject,
                "loa": "substantial",
                "roles": [],
            }
        )
    )


def fixtures_write(
    path: Path,
    *,
    citizen_tokens: list[str],
    service_token: str,
    service_citizen_ids: list[str],
    users: int,
) -> None:
    """The file bench/locustfile.py reads (LOAD_FIXTURES): tokens, so only its owner reads it."""
    from bench.consent import GRANTED

    fixtures = {
        "citizen_tokens": citizen_tokens,
        "service_token": service_token,
        "service_citizen_ids": service_citizen_ids,
        "granted_fields": GRANTED,
        "settings": {
            "phases": {name: list(pause) for name, pause in PHASES.items()},
            "sync_users": sync_users(users),
            "sync_pacing_seconds": SYNC_PACING_SECONDS,
        },
    }
    path.touch(mode=0o600)
    path.write_text(json.dumps(fixtures))


def citizens_seed(*, sandbox: Any, count: int) -> tuple[list[str], list[str]]:
    """Wallets for the sandbox's generated citizens, each with a profile, a youth card and a
    consent to the demo service: (their subjects, the service's pairwise ids for them)."""
    from bench.consent import SERVICE, _citizen_with_consents
    from bench.seed_wallets import seed_wallets
    from consent.demo import demo_services_seed
    from sandbox import demo

    [service] = [s for s in demo_services_seed() if s.slug == SERVICE]
    seed_wallets(count=count, citizen_seed=sandbox.citizen_seed, issuer=sandbox.issuer)
    subjects, pairwise_ids = [], []
    for index in range(count):
        subject = str(demo.bench_citizen(sandbox.citizen_seed, index))
        pairwise = _citizen_with_consents(
            service=service, issuer=sandbox.issuer, index=index, consents=1, subject=subject
        )
        subjects.append(subject)
        pairwise_ids.append(str(pairwise))
    return subjects, pairwise_ids


def _database_counts() -> dict[str, Any]:
    """What the run left in the database: access-log entries and sync runs by status."""
    from django.db.models import Count

    from connectors.models import SyncRun
    from wallet.models import AccessLogEntry

    runs = SyncRun.objects.values_list("status").annotate(n=Count("pk"))
    return {
        "access_log_entries": AccessLogEntry.objects.count(),
        "sync_runs": {str(status): n for status, n in runs},
    }


def _warm_up(base_url: str, fixtures: dict[str, Any], *, requests: int) -> None:
    """Each reading operation a few times, so both processes have fetched the JWKS and prepared
    the documents before the clock starts. Not counted."""
    import httpx

    with httpx.Client(base_url=base_url, timeout=30) as client:
        for n in range(requests):
            tokens = fixtures["citizen_tokens"]
            ids = fixtures["service_citizen_ids"]
            for token, body in (
                (tokens[-1 - n % len(tokens)], {"query": ME_QUERY}),
                (
                    fixtures["service_token"],
                    {"query": CITIZEN_DATA_QUERY, "variables": {"id": ids[-1 - n % len(ids)]}},
                ),
            ):
                # a connection each, so that both of gunicorn's processes get some
                response = client.post(
                    "/graphql/",
                    json=body,
                    headers={"Authorization": f"Bearer {token}", "Connection": "close"},
                )
                if response.status_code != 200 or "errors" in response.json():
                    raise RuntimeError(f"warm-up request failed: {response.text[:500]}")


@contextmanager
def _postgres_databases(postgres_url: str) -> Iterator[tuple[str, str]]:
    from bench.consent import _databases_recreate

    _databases_recreate(postgres_url, names=DATABASES)
    try:
        yield f"{postgres_url}/{DATABASES[0]}", f"{postgres_url}/{DATABASES[1]}"
    finally:
        _databases_recreate(postgres_url, create=False, names=DATABASES)


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu_seconds(*, server_pid: int, sandbox_pid: int) -> dict[str, float]:
    """CPU so far of the wallet's gunicorn, the sandbox, the locusts that have finished and the
    whole machine. Not PostgreSQL's: its backends come and go with the connections (persistent
    for at most DATABASE_CONN_MAX_AGE), taking their CPU time with them, and other work uses it
    too."""
    from bench.consent import _process_cpu_seconds

    return {
        "wallet": _process_cpu_seconds(lambda pid, comm, ppid: server_pid in (pid, ppid)),
        "sandbox": _process_cpu_seconds(lambda pid, comm, ppid: sandbox_pid in (pid, ppid)),
        "locust": _children_cpu_seconds(),
        "machine": _machine_busy_seconds(),
    }


def _machine_busy_seconds() -> float:
    """CPU time the whole machine has spent busy (all cores, all processes), from /proc/stat:
    what the wallet's share is out of, and how much other work there was."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _phase(
    phase: str,
    *,
    base_url: str,
    users: int,
    seconds: int,
    spawn_rate: float,
    fixtures_path: Path,
    cpu: Callable[[], dict[str, float]],
) -> dict[str, Any]:
    """One locust run; its figures, and what went wrong (`problems`: empty when nothing did)."""
    from django.db import connections

    stats_path = fixtures_path.with_name(f"stats-{phase}.json")
    command = [
        sys.executable,
        "-m",
        "locust",
        "--locustfile",
        str(REPO_ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--host",
        base_url,
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    env = {
        **os.environ,
        "LOAD_FIXTURES": str(fixtures_path),
        "LOAD_PHASE": phase,
        "LOAD_STATS": str(stats_path),
    }
    print(f"# {phase}: {users} clients for {seconds} s", file=sys.stderr, flush=True)
    before, cpu_before, load_before = _database_counts(), cpu(), os.getloadavg()[0]
    connections.close_all()
    locust = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 120,  # bounded even if locust hangs
        check=False,
    )
    cpu_after, load_after = cpu(), os.getloadavg()[0]
    after = _database_counts()
    connections.close_all()
    print(locust.stdout[-6000:], locust.stderr[-6000:], sep="\n", file=sys.stderr)
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    operations, failures = stats.get("operations", {}), stats.get("failures", [])

    reads = operations.get("citizenData", {})
    reads_ok = reads.get("requests", 0) - reads.get("failures", 0)
    logged = after["access_log_entries"] - before["access_log_entries"]
    sync_runs = {
        status: n - before["sync_runs"].get(status, 0) for status, n in after["sync_runs"].items()
    }
    problems = []
    if not operations:
        problems.append("locust left no statistics")
    if locust.returncode != 0:
        problems.append(f"locust exited with status {locust.returncode}")
    problems += [f"{f['operation']}, {f['count']} times: {f['error']}" for f in failures]
    if logged != reads_ok:
        problems.append(f"{reads_ok} citizenData reads succeeded but {logged} were logged")
    unsuccessful = {s: n for s, n in sync_runs.items() if s != "succeeded" and n}
    if unsuccessful:
        problems.append(f"sync runs that did not succeed: {unsuccessful}")
    return {
        "think_seconds": list(PHASES[phase]),
        "operations": operations,
        "failures": failures,
        "errors": sum(o["failures"] for name, o in operations.items() if name != "all"),
        "problems": problems,
        "access_log_entries_written": logged,
        "sync_runs": sync_runs,
        "load_average_1min": [round(load_before, 2), round(load_after, 2)],
        "cpu_seconds": {
            party: round(cpu_after[party] - cpu_before[party], 1) for party in cpu_after
        },
    }


def run(
    *,
    users: int,
    seconds: int,
    spawn_rate: float,
    citizens: int,
    postgres_url: str,
    phases: Sequence[str] = tuple(PHASES),
) -> dict[str, Any]:
    from bench.consent import SERVICE, SERVICE_SECRET, _gunicorn
    from bench.setup import django_setup

    started = time.perf_counter()
    with ExitStack() as cleanup:
        database_url, keystore_url = cleanup.enter_context(_postgres_databases(postgres_url))
        os.environ["DATABASE_URL"], os.environ["KEYSTORE_DATABASE_URL"] = database_url, keystore_url
        os.environ["DJANGO_SETTINGS_MODULE"] = "wallet.settings"
        workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="wallet-load-")))
        django_setup(workdir)
        from django.conf import settings
        from django.db import connections

        cleanup.callback(connections.close_all)  # before the databases are dropped
        logging.getLogger("consent").setLevel(logging.WARNING)  # a line per seeded consent
        from sandbox.harness import start_sandbox

        print(f"# sandbox with {citizens:,} citizens upstream", file=sys.stderr, flush=True)
        sandbox = cleanup.enter_context(
            start_sandbox(
                citizens=citizens,
                wallet_client_secret=settings.OIDC_RP_CLIENT_SECRET,
                connector_client_secret=settings.CONNECTOR_CLIENT_SECRET,
                library_client_key=settings.CONNECTORS["library"]["CLIENT_KEY"],
                library_client_secret=settings.CONNECTORS["library"]["CLIENT_SECRET"],
                startup_timeout=120,
            )
        )
        settings.OIDC_ISSUER = sandbox.issuer
        print(f"# seeding {citizens:,} wallets", file=sys.stderr, flush=True)
        subjects, pairwise_ids = citizens_seed(sandbox=sandbox, count=citizens)
        now = int(time.time())
        tokens = [
            citizen_token(sandbox, subject=s, audience=settings.WALLET_API_AUDIENCE, now=now)
            for s in subjects
        ]
        service_token = sandbox.client_credentials_token(SERVICE, SERVICE_SECRET)["access_token"]
        fixtures_path = workdir / "fixtures.json"
        fixtures_write(
            fixtures_path,
            citizen_tokens=tokens,
            service_token=service_token,
            service_citizen_ids=pairwise_ids,
            users=users,
        )
        connections.close_all()
        seeded = time.perf_counter()

        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("CELERY_BROKER_URL", "DJANGO_DEBUG")
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "wallet.settings",
                "OIDC_ISSUER": sandbox.issuer,
                "OIDC_OP_JWKS_ENDPOINT": sandbox.jwks_url,
                "OIDC_OP_TOKEN_ENDPOINT": sandbox.token_url,
                "CONNECTOR_TOKEN_ENDPOINT": sandbox.token_url,
                "YOUTH_API_URL": sandbox.youth_graphql_url,
                "BERTHS_API_URL": sandbox.berths_graphql_url,
                "LIBRARY_API_URL": f"{sandbox.library_base_url}/",
                "WALLET_CITIZEN_CLIENT_IDS": CITIZEN_CLIENT_ID,
            }
        )
        server_log = workdir / "gunicorn.log"
        base_url, server_pid = cleanup.enter_context(
            _gunicorn(
                env, server_log, options=GUNICORN_OPTIONS, ready=("/.well-known/jwks.json", 200)
            )
        )
        print(f"# the wallet at {base_url}", file=sys.stderr, flush=True)
        _warm_up(base_url, json.loads(fixtures_path.read_text()), requests=16)
        results = {
            phase: _phase(
                phase,
                base_url=base_url,
                users=users,
                seconds=seconds,
                spawn_rate=spawn_rate,
                fixtures_path=fixtures_path,
                cpu=lambda: _cpu_seconds(server_pid=server_pid, sandbox_pid=sandbox.process.pid),
            )
            for phase in phases
        }
        tracebacks = server_log.read_text(errors="replace").count("Traceback")

    problems = [f"{phase}: {p}" for phase, r in results.items() for p in r["problems"]]
    if tracebacks:
        problems.append(f"the wallet's log has {tracebacks} tracebacks")
    return {
        "benchmark": "load: locust against gunicorn + PostgreSQL",
        "users": users,
        "seconds": seconds,
        "spawn_rate": spawn_rate,
        "citizens": citizens,
        "sync_users": sync_users(users),
        "sync_pacing_seconds": SYNC_PACING_SECONDS,
        "server": f"gunicorn {' '.join(GUNICORN_OPTIONS)}",
        "phases": results,
        "errors": sum(r["errors"] for r in results.values()),
        "problems": problems,
        "seconds_to_prepare": round(seeded - started, 1),
        "seconds_in_all": round(time.perf_counter() - started, 1),
    }


def main() -> int:
    from bench import services

    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--users", type=int, default=USERS, help="default %(default)s")
    parser.add_argument("--seconds", type=int, default=SECONDS, help="default %(default)s")
    parser.add_argument("--spawn-rate", type=float, default=SPAWN_RATE, help="clients a second")
    parser.add_argument("--citizens", type=int, default=CITIZENS, help="default %(default)s")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help="which phases, in order (default %(default)s)",
    )
    parser.add_argument(
        "--database-url",
        default=services.database_url(),
        help="PostgreSQL server (BENCH_DATABASE_URL, default %(default)s)",
    )
    parser.add_argument("--results", type=Path, help="the JSON result (var/bench/...)")
    parser.add_argument("--doc", type=Path, help="write the load section here")
    parser.add_argument("--no-doc", action="store_true", help="write no page")
    args = parser.parse_args()
    if args.users < 1 or args.seconds < 1 or args.citizens < args.users:
        parser.error("--users and --seconds must be positive, --citizens at least --users")
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not phases or not set(phases) <= set(PHASES):
        parser.error(f"--phases: some of {', '.join(PHASES)}")
    full = args.users >= USERS and args.seconds >= SECONDS and set(phases) == set(PHASES)
    postgres_url = services.server_url(args.database_url)
    problem, version = services.postgres_problem(postgres_url)
    if problem:
        print(f"# make load needs PostgreSQL: {problem}; set BENCH_DATABASE_URL", file=sys.stderr)
        return 2

    began = datetime.now(UTC)
    load_at_start = os.getloadavg()[0]
    result = run(
        users=args.users,
        seconds=args.seconds,
        spawn_rate=args.spawn_rate,
        citizens=args.citizens,
        postgres_url=postgres_url,
        phases=phases,
    )
    record = {
        "command": services.command_line("bench.load"),
        "make_command": os.environ.get("LOAD_MAKE_COMMAND", ""),
        "full": full,
        "started": began.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "arch": platform.machine(),
            "cores": os.cpu_count(),
            "system": platform.platform(terse=True),
            "postgresql": version,
            "load_average_at_start": round(load_at_start, 2),
            "load_average_at_end": round(os.getloadavg()[0], 2),
        },
        "result": result,
    }
    results = args.results or VAR / f"results.load{'' if full else '.quick'}.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({p: r["operations"] for p, r in result["phases"].items()}, indent=2))
    print(f"# results: {results}", file=sys.stderr)
    doc = args.doc or (DOC if full else VAR / "load.quick.md")
    if not args.no_doc:
        from bench.report import write_load

        write_load(record, doc)
        print(f"# report: {doc}", file=sys.stderr)
    for problem in result["problems"]:
        print(f"# ERROR {problem}", file=sys.stderr)
    return 1 if result["problems"] or result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
