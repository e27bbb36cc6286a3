"""Shared fixtures: a real sandbox over HTTP, the wallet pointed at it, and the services policy.

Tests that need PostgreSQL or Redis ask for the `postgres` or `redis_broker` fixture: without the
service they skip with a reason, unless REQUIRE_SERVICES=1, where they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections

from connectors import throttle, transport
from tests.connector_settings import connector_settings
from wallet.auth import bearer

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _missing_service(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        _missing_service("needs PostgreSQL: set DATABASE_URL to a PostgreSQL database")


@pytest.fixture
def redis_broker() -> str:
    url = django_settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        _missing_service("needs Redis: set CELERY_BROKER_URL to a Redis URL")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _missing_service(f"Redis at CELERY_BROKER_URL does not answer ({type(exc).__name__})")
    return url


@pytest.fixture(autouse=True)
def force_login_like_the_provider(monkeypatch):  # type: ignore[no-untyped-def]
    """`Client.force_login` signs in without the provider: give the session the ID token time a
    real sign-in has, so the silent renewal (wallet.auth.oidc.SessionRefresh) leaves it alone."""
    import time

    from django.test import Client

    force_login = Client.force_login

    def with_id_token_time(self, user, backend=None):  # type: ignore[no-untyped-def]
        force_login(self, user, backend)
        session = self.session
        session["oidc_id_token_expiration"] = time.time() + 3600
        session.save()

    monkeypatch.setattr(Client, "force_login", with_id_token_time)


@pytest.fixture(scope="session", autouse=True)
def live_server_without_nagle() -> None:
    """Django's development server (pytest-django's live server) writes a response's headers
    and body in two sends; with Nagle's algorithm on, the body waits for the client's delayed
    ACK, and every request takes 40 ms instead of 2."""
    from django.core.servers.basehttp import WSGIRequestHandler

    WSGIRequestHandler.disable_nagle_algorithm = True


@pytest.fixture(scope="session")
def sandbox_process(live_server):  # type: ignore[no-untyped-def]
    """One sandbox (OIDC provider + upstream simulators) for the whole run, on a free port, with
    the live wallet server's callback and post-logout URLs registered for the web client."""
    from sandbox.harness import start_sandbox

    with start_sandbox(
        wallet_client_secret=django_settings.OIDC_RP_CLIENT_SECRET,
        connector_client_secret=django_settings.CONNECTOR_CLIENT_SECRET,
        library_client_key=django_settings.CONNECTORS["library"]["CLIENT_KEY"],
        library_client_secret=django_settings.CONNECTORS["library"]["CLIENT_SECRET"],
        # faults that sleep must stay shorter than a test's patience
        extra_env={"SANDBOX_FAULT_TIMEOUT_SECONDS": "3"},
        redirect_uris=[f"{live_server.url}/oidc/callback/"],
        post_logout_uris=[f"{live_server.url}/", f"{live_server.url}/erased/"],
    ) as running:
        yield running


def _reset_cached_clients() -> None:
    from connectors.config import config_cache_clear
    from connectors.library import client as library_client
    from consent.selectors import service_cache_clear

    bearer._jwks_client.cache_clear()
    transport.service_tokens = transport.ServiceTokens()
    transport.breaker.reset()
    throttle.limits.reset()  # budgets, and a pause a 429 left
    library_client.tokens.clear()
    config_cache_clear()
    service_cache_clear()


def point_settings_at(settings, sandbox_process) -> None:  # type: ignore[no-untyped-def]
    """Point the wallet's settings (for this test) at a running sandbox."""
    issuer = sandbox_process.issuer
    settings.OIDC_ISSUER = issuer
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{issuer}/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{issuer}/token/"
    settings.OIDC_OP_USER_ENDPOINT = f"{issuer}/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = sandbox_process.jwks_url
    settings.OIDC_OP_END_SESSION_ENDPOINT = f"{issuer}/logout/"
    settings.CONNECTOR_TOKEN_ENDPOINT = sandbox_process.token_url
    connector_settings(settings, "youth", BASE_URL=sandbox_process.youth_graphql_url)
    connector_settings(settings, "berths", BASE_URL=f"{sandbox_process.base_url}/berths/graphql/")
    connector_settings(
        settings, "library", BASE_URL=f"{sandbox_process.base_url}/library/iii/sierra-api/v6/"
    )
    _reset_cached_clients()


@pytest.fixture
def sandbox(sandbox_process, settings) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The running sandbox, with the wallet's settings pointed at it for this test."""
    point_settings_at(settings, sandbox_process)
    yield sandbox_process
    _reset_cached_clients()


def _database_url_for_subprocess(alias: str) -> str:
    """A test database as a URL another process (a Celery worker) can open."""
    connection = connections[alias]
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db["USER"] or "postgres"
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
        return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return f"sqlite:///{db['NAME']}"
    _missing_service("a Celery worker needs a database another process can open (PostgreSQL)")
    raise AssertionError("unreachable")


def worker_environment(sandbox_process) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The environment a Celery worker process needs to work on the test databases and the
    test sandbox."""
    return {
        **os.environ,
        "DATABASE_URL": _database_url_for_subprocess("default"),
        "KEYSTORE_DATABASE_URL": _database_url_for_subprocess("keys"),
        "OIDC_ISSUER": sandbox_process.issuer,
        "OIDC_OP_JWKS_ENDPOINT": sandbox_process.jwks_url,
        "OIDC_OP_TOKEN_ENDPOINT": sandbox_process.token_url,
        "CONNECTOR_TOKEN_ENDPOINT": sandbox_process.token_url,
        "YOUTH_API_URL": sandbox_process.youth_graphql_url,
        "BERTHS_API_URL": f"{sandbox_process.base_url}/berths/graphql/",
        "LIBRARY_API_URL": f"{sandbox_process.base_url}/library/iii/sierra-api/v6/",
    }


def start_worker(env: dict[str, str], log_path, *, queues: str = "celery"):  # type: ignore[no-untyped-def]
    """A real Celery worker process; returns once it is ready (bounded wait)."""
    import subprocess
    import sys
    import time

    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "wallet",
                "worker",
                "--pool=solo",
                "-Q",
                queues,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while b"ready." not in log_path.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(
                f"Celery worker did not start:\n{log_path.read_text(errors='replace')[-3000:]}"
            )
        time.sleep(0.2)
    return worker


def stop_worker(worker) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    worker.terminate()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=10)


@pytest.fixture(scope="session")
def task_runner(sandbox_process, django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Whatever runs background tasks: in-process without a broker, else a real Celery worker
    process against the broker, the test databases and the sandbox."""
    if django_settings.CELERY_TASK_ALWAYS_EAGER:
        yield "in-process"
        return
    with django_db_blocker.unblock():
        env = worker_environment(sandbox_process)
    worker = start_worker(env, tmp_path_factory.mktemp("celery") / "worker.log")
    try:
        yield "celery-worker"
    finally:
        stop_worker(worker)


@pytest.fixture
def in_process_tasks():  # type: ignore[no-untyped-def]
    """Run Celery tasks in this process even when a broker is configured: for tests of the
    engine's logic that change settings in-process (a worker would not see them). The
    distributed path has tests of its own with real workers."""
    from wallet.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
