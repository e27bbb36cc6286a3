"""Seeding PostgreSQL fast, for the benchmarks at a million citizens (`rotation --postgres`,
`scale`): binary COPY, keys made in bulk, nothing through the ORM.

Each citizen gets a data key, wrapped under the newest KEK as the wallet wraps it
(`crypto.data_key_wrap`); with `data=True` also a citizen row, a sealed profile and `records`
sealed youth-membership records, sealed under that key exactly as the wallet seals them (so any
of them opens). Keys are written to the key store before the data sealed under them, as the
wallet does. The throw-away databases are created and dropped here too: names of the caller's
choosing, on the server `BENCH_DATABASE_URL` names.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

BENCH_ISSUER = "https://bench.invalid/idp"


@dataclass(frozen=True)
class DatabasePair:
    """A data database and its key store, as URLs for the wallet's settings."""

    data_url: str
    keys_url: str
    names: tuple[str, str]


def _admin(server_url: str) -> Any:
    import psycopg

    return psycopg.connect(f"{server_url}/postgres", autocommit=True)


def databases_drop(server_url: str, names: tuple[str, ...]) -> None:
    with _admin(server_url) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database_pair(server_url: str, name: str) -> Iterator[DatabasePair]:
    """Fresh `name` and `name_keys` on the server, dropped afterwards whatever happens."""
    names = (name, f"{name}_keys")
    databases_drop(server_url, names)
    with _admin(server_url) as admin:
        for database in names:
            admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield DatabasePair(f"{server_url}/{names[0]}", f"{server_url}/{names[1]}", names)
    finally:
        databases_drop(server_url, names)


@dataclass
class SeedResult:
    citizens: int
    data_rows: int
    seconds: float
    keys_seconds: float
    data_seconds: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "citizens": self.citizens,
            "data_rows": self.data_rows,
            "seconds": round(self.seconds, 1),
            "keys_seconds": round(self.keys_seconds, 1),
            "data_seconds": round(self.data_seconds, 1),
        }


def _citizen_ids(count: int) -> list[uuid.UUID]:
    # Random version-4 ids, as `Citizen.id` defaults to: spread over the whole key space.
    return [uuid.UUID(bytes=os.urandom(16), version=4) for _ in range(count)]


def _copy_keys(keys_url: str, citizen_ids: list[uuid.UUID], now: datetime) -> dict[uuid.UUID, Any]:
    """Wrap a fresh data key per citizen, COPY the wrapped keys into the key store; the
    citizens' ciphers (to seal their data with) by id."""
    import psycopg

    from wallet import crypto
    from wallet.models import CitizenKey

    ciphers: dict[uuid.UUID, Any] = {}
    table = CitizenKey._meta.db_table
    columns = ["citizen_id", "generation", "kek_version", "wrapped_key", "created_at", "wrapped_at"]
    types = ["uuid", "int4", "int4", "bytea", "timestamptz", "timestamptz"]
    sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN (FORMAT BINARY)'
    with psycopg.connect(keys_url) as connection, connection.cursor() as cursor:
        with cursor.copy(sql) as copy:
            copy.set_types(types)
            for citizen_id in citizen_ids:
                data_key = crypto.data_key_generate()
                kek_version, wrapped = crypto.data_key_wrap(
                    data_key=data_key, citizen_id=citizen_id, generation=1
                )
                copy.write_row((citizen_id, 1, kek_version, wrapped, now, now))
                ciphers[citizen_id] = data_key
        connection.commit()
    return ciphers


PROFILE_VALUE = {
    "first_name": {"value": "Bench", "source": "oidc", "updated_at": "2026-12-01T08:00:00Z"},
    "last_name": {"value": "Citizen", "source": "oidc", "updated_at": "2026-12-01T08:00:00Z"},
    "email": {
        "value": "bench@example.invalid",
        "source": "oidc",
        "updated_at": "2026-12-01T08:00:00Z",
    },
}


def _record_value(n: int) -> dict[str, Any]:
    return {
        "membership_number": f"{n:08d}",
        "status": "ACTIVE",
        "expiration": "2027-08-31",
        "birth_date": "2010-05-01",
        "school_name": "Bench school",
        "school_class": "9A",
        "language_at_home": "FINNISH",
        "photo_usage_approved": True,
        "approver_first_name": "Guardian",
        "approver_last_name": "Citizen",
        "approver_phone": "+358 40 000 0000",
        "approver_email": "guardian@example.invalid",
        "additional_contact_persons": [],
    }


def _copy_data(
    data_url: str, data_keys: dict[uuid.UUID, bytes], *, records: int, now: datetime
) -> int:
    """Citizens, profiles and records, each sealed under its citizen's key; one COPY a table."""
    import psycopg

    from wallet import crypto
    from wallet.models import PROFILE_PAYLOAD, RECORD_PAYLOAD, Citizen, DataRecord, Profile
    from wallet.vault import Vault

    citizen_columns = [
        ("id", "uuid"),
        ("password", "text"),
        ("is_superuser", "bool"),
        ("issuer", "text"),
        ("subject", "text"),
        ("is_active", "bool"),
        ("is_staff", "bool"),
        ("date_joined", "timestamptz"),
        ("data_key_generation", "int4"),
        ("language", "text"),
    ]
    profile_columns = [
        ("citizen_id", "uuid"),
        ("payload", "bytea"),
        ("email_index", "text"),
        ("updated_at", "timestamptz"),
    ]
    record_columns = [
        ("id", "uuid"),
        ("citizen_id", "uuid"),
        ("source", "text"),
        ("kind", "text"),
        ("external_key", "text"),
        ("payload", "bytea"),
        ("content_digest", "text"),
        ("state", "text"),
        ("fetched_at", "timestamptz"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
    ]

    def copy_sql(model: Any, columns: list[tuple[str, str]]) -> str:
        names = ", ".join(f'"{name}"' for name, _ in columns)
        return f'COPY "{model._meta.db_table}" ({names}) FROM STDIN (FORMAT BINARY)'

    with psycopg.connect(data_url) as connection, connection.cursor() as cursor:
        with cursor.copy(copy_sql(Citizen, citizen_columns)) as copy:
            copy.set_types([t for _, t in citizen_columns])
            for citizen_id in data_keys:
                copy.write_row(
                    (citizen_id, "!", False, BENCH_ISSUER, str(citizen_id), True, False, now, 1, "")
                )
        connection.commit()

    # Profiles and records stream side by side, one COPY each on a connection of its own, so
    # nothing is held in memory but the citizens' keys.
    number = 0
    with (
        psycopg.connect(data_url) as profile_connection,
        psycopg.connect(data_url) as record_connection,
        profile_connection.cursor().copy(copy_sql(Profile, profile_columns)) as profile_copy,
        record_connection.cursor().copy(copy_sql(DataRecord, record_columns)) as record_copy,
    ):
        profile_copy.set_types([t for _, t in profile_columns])
        record_copy.set_types([t for _, t in record_columns])
        for citizen_id, data_key in data_keys.items():
            vault = Vault(
                crypto.CitizenCipher(citizen_id=citizen_id, generation=1, data_key=data_key)
            )
            payload = vault.seal_json(PROFILE_PAYLOAD, row_id=citizen_id, value=PROFILE_VALUE)
            profile_copy.write_row((citizen_id, payload, "", now))
            for _ in range(records):
                number += 1
                record_id = uuid.UUID(bytes=os.urandom(16), version=4)
                card = vault.seal_json(
                    RECORD_PAYLOAD, row_id=record_id, value=_record_value(number)
                )
                record_copy.write_row(
                    (
                        record_id,
                        citizen_id,
                        "youth",
                        "membership",
                        record_id.hex + record_id.hex,
                        card,
                        "x" * 64,
                        DataRecord.State.ACTIVE.value,
                        now,
                        now,
                        now,
                    )
                )
    # (leaving each connection's block commits it)
    return len(data_keys) + number


def seed(pair: DatabasePair, *, count: int, data: bool, records: int = 1) -> SeedResult:
    """`count` citizens' keys (and, with `data`, their rows) into a migrated pair."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    data_keys = _copy_keys(pair.keys_url, _citizen_ids(count), now)
    keys_done = time.perf_counter()
    rows = _copy_data(pair.data_url, data_keys, records=records, now=now) if data else 0
    finished = time.perf_counter()
    _analyze(pair)
    return SeedResult(
        citizens=count,
        data_rows=rows,
        seconds=time.perf_counter() - started,
        keys_seconds=keys_done - started,
        data_seconds=finished - keys_done,
    )


def _analyze(pair: DatabasePair) -> None:
    """Fresh statistics, as autovacuum would gather them soon after a load this size."""
    import psycopg

    for url in (pair.keys_url, pair.data_url):
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
