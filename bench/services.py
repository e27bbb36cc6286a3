"""The services two benchmarks need, where to find them, and whether they answer.

- `consent` needs a PostgreSQL server: `BENCH_DATABASE_URL` (default
  postgres://postgres@127.0.0.1:5432; the older `BENCH_POSTGRES_URL` is still read). Only the
  server is used: the bench creates its own databases, named `bench_…`, and drops them after.
- `workers` needs a Redis broker: `BENCH_BROKER_URL` (default redis://127.0.0.1:6379/14).

The probes answer None when the service is there, else the reason to print and to put in the
report; a benchmark whose service does not answer is skipped, never silently.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/14"
NEEDS = {"consent": "PostgreSQL", "workers": "Redis"}


def database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("BENCH_POSTGRES_URL")
    return server_url(url or DEFAULT_DATABASE_URL)


def broker_url() -> str:
    return os.environ.get("BENCH_BROKER_URL") or DEFAULT_BROKER_URL


def server_url(url: str) -> str:
    """The PostgreSQL server of a URL, without any database name (the bench names its own)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def redacted(url: str) -> str:
    """A URL fit to print: any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def postgres_problem(url: str, *, timeout: int = 3) -> tuple[str | None, str | None]:
    """(reason it cannot be used or None, server version or None)."""
    try:
        import psycopg

        with psycopg.connect(f"{url}/postgres", connect_timeout=timeout) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            return None, str(row[0]) if row else None
    except Exception as error:  # any failure to connect is a reason to skip
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        reason = f"PostgreSQL at {redacted(url)} does not answer"
        return f"{reason} ({type(error).__name__}: {first_line})", None


def redis_problem(url: str, *, timeout: int = 3) -> tuple[str | None, str | None]:
    """(reason it cannot be used or None, server version or None)."""
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        client.ping()
        version = client.info("server").get("redis_version")
        client.close()
        return None, str(version) if version else None
    except Exception as error:  # any failure to connect is a reason to skip
        return f"Redis at {redacted(url)} does not answer ({type(error).__name__}: {error})", None


def command_line(module: str) -> str:
    """How this run was started, as a reader would type it: `python -m <module>` and the same
    arguments, the interpreter shown relative to the repository when it is inside it."""
    python = Path(sys.executable)
    try:
        shown = str(python.relative_to(Path(__file__).resolve().parent.parent))
    except ValueError:
        shown = str(python)
    return shlex.join([shown, "-m", module, *sys.argv[1:]])
