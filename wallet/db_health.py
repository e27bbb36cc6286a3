"""Health checks of kept database connections, for the connections that sat unused.

With `CONN_HEALTH_CHECKS` Django runs a `SELECT 1` on a kept connection before each request's
first query on it: two round trips a request here (the data database and the key store), a
tenth of a consented read's work. What breaks a kept connection is mostly time spent unused: a
pooler's or a firewall's idle timeout, a database restarted while the worker was quiet. So a
connection that a request finished with less than DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE seconds
ago is not checked again; one unused for longer is, as before (0: every request, as Django
does). The cost: a database restarted under load fails one request on each connection that was
in use just then, as it fails the requests running at that moment.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import connections

# When a request last finished with the connection (time.monotonic()), on Django's wrapper.
_LAST_USED_AT = "wallet_last_used_at"


def _connections_used(**kwargs: Any) -> None:
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            setattr(connection, _LAST_USED_AT, now)


def _recently_used_connections_trusted(**kwargs: Any) -> None:
    after_idle = settings.DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE
    if not after_idle:
        return
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        last_used_at = getattr(connection, _LAST_USED_AT, None)
        if (
            connection.connection is not None
            and last_used_at is not None
            and now - last_used_at < after_idle
        ):
            connection.health_check_done = True  # type: ignore[attr-defined]  # not in the stubs


def connect() -> None:
    """Connect the receivers: after Django's own (`close_old_connections`, connected when
    `django.db` is imported), which closes a connection past its age or after an error and
    marks the others for a check."""
    request_finished.connect(_connections_used, dispatch_uid="wallet.db_health.used")
    request_started.connect(
        _recently_used_connections_trusted, dispatch_uid="wallet.db_health.trusted"
    )
