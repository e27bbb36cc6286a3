"""Kept connections are checked before a request only after they sat unused
(wallet/db_health.py)."""

from __future__ import annotations

import pytest
from django.db import connections

from tests.wallet.test_settings import _manage
from wallet import db_health

pytestmark = pytest.mark.django_db(databases="__all__")


def _request_starts_after(seconds: float) -> None:
    """A request finished with every open connection `seconds` ago; the next one starts."""
    db_health._connections_used()
    for connection in connections.all(initialized_only=True):
        last_used = getattr(connection, db_health._LAST_USED_AT)
        setattr(connection, db_health._LAST_USED_AT, last_used - seconds)
        connection.health_check_done = False  # as Django's close_old_connections leaves it
    db_health._recently_used_connections_trusted()


def _open_connections():
    for alias in ("default", "keys"):
        connections[alias].ensure_connection()
    return [connections["default"], connections["keys"]]


def test_a_connection_used_moments_ago_is_not_checked_again(settings):
    settings.DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE = 1.0
    opened = _open_connections()

    _request_starts_after(0.1)

    assert all(c.health_check_done for c in opened)


def test_a_connection_that_sat_unused_is_checked(settings):
    settings.DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE = 1.0
    opened = _open_connections()

    _request_starts_after(5.0)

    assert not any(c.health_check_done for c in opened)


def test_zero_checks_before_every_request(settings):
    settings.DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE = 0
    opened = _open_connections()

    _request_starts_after(0.0)

    assert not any(c.health_check_done for c in opened)


def test_a_connection_never_used_by_a_request_is_checked(settings):
    settings.DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE = 1.0
    opened = _open_connections()
    for connection in opened:
        connection.__dict__.pop(db_health._LAST_USED_AT, None)
        connection.health_check_done = False

    db_health._recently_used_connections_trusted()

    assert not any(c.health_check_done for c in opened)


def test_the_receivers_run_after_djangos_own():
    # Django's close_old_connections closes a connection past its age or after an error and
    # marks the others for a check; ours may then spare the recently used ones. Looked at in a
    # fresh process: Django's test client reconnects close_old_connections after each request,
    # so in this one the order is the test client's.
    code = (
        "from django.core.signals import request_finished, request_started; "
        "from django.db import close_old_connections; "
        "from wallet import db_health; "
        "order = lambda signal: [entry[1]() for entry in signal.receivers]; "
        "started, finished = order(request_started), order(request_finished); "
        "print(started.index(close_old_connections) "
        "< started.index(db_health._recently_used_connections_trusted), "
        "finished.index(close_old_connections) < finished.index(db_health._connections_used))"
    )
    result = _manage("shell", "-v", "0", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
