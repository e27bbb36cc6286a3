"""Small helpers for the few hot read paths written in plain SQL.

A consented read runs a handful of simple statements; through the ORM, building each costs
several times more CPU than running it (measured in bench/consent.py). These helpers keep the
plain SQL portable between SQLite and PostgreSQL: UUID parameters in each backend's storage
form, and UUIDs and datetimes read back in one form.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.dateparse import parse_datetime

_UUID_FIELD: models.UUIDField[Any, Any] = models.UUIDField()


def uuid_param(value: uuid.UUID | str, connection: BaseDatabaseWrapper) -> Any:
    """A UUID as the backend stores it (SQLite: 32 hex characters; PostgreSQL: uuid)."""
    return _UUID_FIELD.get_db_prep_value(value, connection)


def as_uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def datetime_param(value: datetime, connection: BaseDatabaseWrapper) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def aware(value: Any) -> datetime | None:
    """A datetime column's value read with a plain cursor, as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and value.tzinfo is None:  # SQLite keeps UTC without an offset
        value = value.replace(tzinfo=UTC)
    return value
