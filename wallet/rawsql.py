"""The core's hot-path SQL, in one place: the statements every consented read runs.

A consented read runs a handful of simple statements; through the ORM, building each costs
several times more CPU than running it (measured in bench/consent.py). So they are plain SQL,
held here: the profile with the records (one UNION ALL), the access log's head and its append
(a compare-and-swap of the head that inserts the entry), and, for an app whose read starts from
rows of its own (a service's consents), the statement around those rows that adds the citizen,
their log head, profile and records (`rows_with_wallet`): one round trip for all of it.

Every table and column name comes from the models' metadata, and every statement is built once,
when this module is imported (the records statement once per number of kinds asked for). Each
statement returns typed rows (frozen dataclasses), never model instances filled from part of a
row: a `.save()` on one of those would blank the fields that were not loaded.

The helpers below keep the SQL portable between SQLite and PostgreSQL: UUID parameters in each
backend's storage form, and UUIDs and datetimes read back in one form.
"""

# Statements are built with f-strings from model metadata (names, never values: every value is
# a parameter), so S608 does not apply to this module.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeAlias

from django.db import connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.dateparse import parse_datetime

from wallet.db_router import KEYSTORE
from wallet.models import (
    AccessLogEntry,
    AccessLogHead,
    Citizen,
    CitizenKey,
    DataRecord,
    Profile,
)

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


def quoted(name: str) -> str:
    """A table or column name as both supported backends quote it (Django's `quote_name` on
    SQLite and on PostgreSQL): the names here come from model metadata, built before any
    connection exists."""
    return f'"{name}"'


def table(model: type[models.Model]) -> str:
    return quoted(model._meta.db_table)


def column(model: type[models.Model], field: str) -> str:
    """The quoted column of `model.field` (`"pk"` for the primary key)."""
    meta = model._meta
    db_field = meta.pk if field == "pk" else meta.get_field(field)
    if not isinstance(db_field, models.Field) or not db_field.column:
        raise ValueError(f"{model.__name__}.{field} is not a column")
    return quoted(db_field.column)


# Typed rows


@dataclass(frozen=True, slots=True)
class CitizenRow:
    """The citizen as a hot-path statement read them (not a model instance: it cannot be saved)."""

    id: uuid.UUID
    data_key_generation: int
    is_active: bool

    @property
    def pk(self) -> uuid.UUID:
        return self.id


# What sealing and opening need of a citizen (`pk`, `data_key_generation`): the model instance,
# or the row a hot-path statement read.
CitizenRef: TypeAlias = Citizen | CitizenRow


@dataclass(frozen=True, slots=True)
class LogHead:
    """The head of a citizen's access log as a statement read it (e.g. joined into a caller's
    own statement: that saves the append a round trip)."""

    seq: int
    mac: str
    generation: int


@dataclass(frozen=True, slots=True)
class RecordRow:
    """A data record as the profile-and-records statement reads it; its payload still sealed."""

    id: uuid.UUID
    source: str
    kind: str
    state: str
    fetched_at: datetime
    upstream_modified_at: datetime | None
    payload: bytes | memoryview


@dataclass(frozen=True, slots=True)
class SealedWallet:
    """The citizen's sealed profile (None if they have none) and records, oldest first."""

    profile: bytes | memoryview | None
    records: list[RecordRow]


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A citizen's wrapped data key (and the pending one mid-rotation) as the key store holds
    it: what `wallet.keys.cipher_from_key` unwraps. Not a CitizenKey: it cannot be saved."""

    citizen_id: uuid.UUID
    generation: int
    kek_version: int
    wrapped_key: bytes | memoryview
    pending_generation: int | None
    pending_kek_version: int | None
    pending_wrapped_key: bytes | memoryview | None


# The citizen's wrapped key, from the key store database

_KEY = (
    f"SELECT {column(CitizenKey, 'generation')}, {column(CitizenKey, 'kek_version')}, "
    f"{column(CitizenKey, 'wrapped_key')}, {column(CitizenKey, 'pending_generation')}, "
    f"{column(CitizenKey, 'pending_kek_version')}, {column(CitizenKey, 'pending_wrapped_key')} "
    f"FROM {table(CitizenKey)} WHERE {column(CitizenKey, 'citizen_id')} = %s"
)


def citizen_key_fetch(*, citizen_id: uuid.UUID) -> KeyRow | None:
    keystore = connections[KEYSTORE]
    with keystore.cursor() as cursor:
        cursor.execute(_KEY, [uuid_param(citizen_id, keystore)])
        row = cursor.fetchone()
    if row is None:
        return None
    return KeyRow(citizen_id, *row)


# The profile with the records, in one statement. Row 0 of the union is the profile.

_PROFILE_PART = (
    f"SELECT 0 AS part, NULL AS id, NULL AS source, NULL AS kind, NULL AS state, "
    f"NULL AS fetched_at, NULL AS modified_at, {column(Profile, 'payload')} AS payload, "
    f"NULL AS created_at FROM {table(Profile)} WHERE {column(Profile, 'citizen')} = %s"
)
_RECORDS_PART = (
    f" UNION ALL SELECT 1, {column(DataRecord, 'pk')}, {column(DataRecord, 'source')}, "
    f"{column(DataRecord, 'kind')}, {column(DataRecord, 'state')}, "
    f"{column(DataRecord, 'fetched_at')}, {column(DataRecord, 'upstream_modified_at')}, "
    f"{column(DataRecord, 'payload')}, {column(DataRecord, 'created_at')} "
    f"FROM {table(DataRecord)} WHERE {column(DataRecord, 'citizen')} = %s"
)
_ORDER = " ORDER BY part, created_at, id"
_PROFILE_ONLY = _PROFILE_PART + _ORDER
_PROFILE_AND_ALL_RECORDS = _PROFILE_PART + _RECORDS_PART + _ORDER
_KIND_MATCH = f"({column(DataRecord, 'source')} = %s AND {column(DataRecord, 'kind')} = %s)"


@cache
def _profile_and_active_records_of(kinds: int) -> str:
    # placeholders only: every value goes in the parameters
    return (
        _PROFILE_PART
        + _RECORDS_PART
        + f" AND {column(DataRecord, 'state')} = %s AND ("
        + " OR ".join([_KIND_MATCH] * kinds)
        + ")"
        + _ORDER
    )


def profile_and_records(
    *, citizen_id: uuid.UUID, only_kinds: Collection[tuple[str, str]] | None = None
) -> SealedWallet:
    """The citizen's sealed profile and records in one statement. `only_kinds` limits the
    records to those (source, kind) pairs and active records; empty, to none."""
    citizen = uuid_param(citizen_id, connection)
    params: list[Any] = [citizen]
    if only_kinds is None:
        sql = _PROFILE_AND_ALL_RECORDS
        params.append(citizen)
    elif not only_kinds:
        sql = _PROFILE_ONLY
    else:
        sql = _profile_and_active_records_of(len(only_kinds))
        params += [citizen, *_kinds_params(only_kinds)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    profile = None
    records = []
    for part, pk, source, kind, state, fetched_at, modified_at, payload, _ in rows:
        if part == 0:
            profile = payload
            continue
        records.append(_record_row(pk, source, kind, state, fetched_at, modified_at, payload))
    return SealedWallet(profile=profile, records=records)


def _record_row(
    pk: Any, source: str, kind: str, state: str, fetched_at: Any, modified_at: Any, payload: Any
) -> RecordRow:
    return RecordRow(
        id=as_uuid(pk),  # type: ignore[arg-type]  # a record's id is never NULL
        source=source,
        kind=kind,
        state=state,
        fetched_at=aware(fetched_at),  # type: ignore[arg-type]  # NOT NULL
        upstream_modified_at=aware(modified_at),
        payload=payload,
    )


def _kinds_params(kinds: Collection[tuple[str, str]]) -> list[Any]:
    params: list[Any] = [DataRecord.State.ACTIVE.value]
    for source, kind in kinds:
        params += [source, kind]
    return params


# The access log: its head, and the append

_HEAD_T, _ENTRY_T, _CITIZEN_T = table(AccessLogHead), table(AccessLogEntry), table(Citizen)
_H_CITIZEN, _H_SEQ = column(AccessLogHead, "citizen"), column(AccessLogHead, "seq")
_H_MAC, _H_GENERATION = column(AccessLogHead, "mac"), column(AccessLogHead, "generation")
_Z_ID = column(Citizen, "pk")
_ENTRY_COLUMNS = ", ".join(
    column(AccessLogEntry, name)
    for name in (
        "citizen",
        "seq",
        "created_at",
        "service_id",
        "consent_id",
        "details",
        "previous_mac",
        "mac",
    )
)

LOG_HEAD = f"SELECT {_H_SEQ}, {_H_MAC}, {_H_GENERATION} FROM {_HEAD_T} WHERE {_H_CITIZEN} = %s"
# Locks: see "Locks" in wallet/access_log.py, which runs these.
# PostgreSQL: the compare-and-swap of the head and the entry's insert, one data-modifying CTE;
# the citizen row, then the head, each SKIP LOCKED, in uncorrelated subqueries (InitPlans).
# Parameters: new seq, new mac, citizen, old seq, old generation; then the entry's seq,
# created_at, service_id, consent_id, details, previous_mac, mac.
LOG_MOVE_HEAD_AND_INSERT = (
    f"WITH moved AS (UPDATE {_HEAD_T} SET {_H_SEQ} = %s, {_H_MAC} = %s "
    f"WHERE {_H_CITIZEN} = (SELECT h.{_H_CITIZEN} FROM {_HEAD_T} h WHERE h.{_H_CITIZEN} = "
    f"(SELECT z.{_Z_ID} FROM {_CITIZEN_T} z WHERE z.{_Z_ID} = %s FOR KEY SHARE SKIP LOCKED) "
    f"AND h.{_H_SEQ} = %s AND h.{_H_GENERATION} = %s FOR UPDATE SKIP LOCKED) "
    f"RETURNING {_H_CITIZEN}) "
    f"INSERT INTO {_ENTRY_T} ({_ENTRY_COLUMNS}) "
    f"SELECT {_H_CITIZEN}, %s, %s, %s, %s, %s, %s, %s FROM moved"
)
LOG_HEAD_LOCKED = LOG_HEAD + " FOR UPDATE"
LOG_CITIZEN_THEN_HEAD_LOCKED = (
    f"SELECT {_H_SEQ}, {_H_MAC}, {_H_GENERATION} FROM {_HEAD_T} WHERE {_H_CITIZEN} = "
    f"(SELECT {_Z_ID} FROM {_CITIZEN_T} WHERE {_Z_ID} = %s FOR KEY SHARE) FOR UPDATE"
)
# SQLite: one writer at a time (IMMEDIATE transactions), so the swap needs no row locks.
# Parameters: as the head's part above, then the entry's eight columns.
LOG_MOVE_HEAD = (
    f"UPDATE {_HEAD_T} SET {_H_SEQ} = %s, {_H_MAC} = %s "
    f"WHERE {_H_CITIZEN} = %s AND {_H_SEQ} = %s AND {_H_GENERATION} = %s"
)
LOG_INSERT = f"INSERT INTO {_ENTRY_T} ({_ENTRY_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"


def log_head_from(row: Sequence[Any] | None) -> LogHead | None:
    """A row of LOG_HEAD (or of its locking variants) as a LogHead."""
    return LogHead(seq=row[0], mac=row[1], generation=row[2]) if row is not None else None


def log_head_get(*, citizen_id: uuid.UUID) -> LogHead | None:
    with connection.cursor() as cursor:
        cursor.execute(LOG_HEAD, [uuid_param(citizen_id, connection)])
        return log_head_from(cursor.fetchone())


# The citizen and their log head, in a statement around a caller's rows


@dataclass(frozen=True)
class CitizenWithLogHead:
    """Columns and joins that add the citizen and their log head to a caller's statement, in
    the core's names: the core owns those tables, so an app never names them itself.

    Put `columns` last in the caller's select list, `joins` in its FROM clause; `read` turns
    the last `width` values of a result row into the citizen and the head. The join on the
    citizen is inner (a row without its citizen is dropped), on the head outer (a citizen made
    before the log existed has none: the append creates it). Aliases `wallet_z` and `wallet_h`
    are taken.
    """

    columns: str
    joins: str
    width: int

    def read(self, row: Sequence[Any]) -> tuple[CitizenRow, LogHead | None]:
        citizen_id, generation, is_active, seq, mac, head_generation = row[-self.width :]
        citizen = CitizenRow(
            id=as_uuid(citizen_id),  # type: ignore[arg-type]  # a primary key
            data_key_generation=generation,
            is_active=bool(is_active),
        )
        head = LogHead(seq=seq, mac=mac, generation=head_generation) if seq is not None else None
        return citizen, head


def citizen_with_log_head(*, citizen_id: str) -> CitizenWithLogHead:
    """The fragment for a caller whose statement has the citizen's id in the SQL expression
    `citizen_id` (e.g. `c."citizen_id"`, built from the caller's own model metadata). Build it
    once, at import, like the statement it goes into."""
    return CitizenWithLogHead(
        columns=(
            f"wallet_z.{_Z_ID}, wallet_z.{column(Citizen, 'data_key_generation')}, "
            f"wallet_z.{column(Citizen, 'is_active')}, "
            f"wallet_h.{_H_SEQ}, wallet_h.{_H_MAC}, wallet_h.{_H_GENERATION}"
        ),
        joins=(
            f"JOIN {_CITIZEN_T} wallet_z ON wallet_z.{_Z_ID} = {citizen_id} "
            f"LEFT JOIN {_HEAD_T} wallet_h ON wallet_h.{_H_CITIZEN} = wallet_z.{_Z_ID}"
        ),
        width=6,
    )


# A caller's rows with the citizen, their log head, sealed profile and records: one statement


@dataclass(frozen=True, slots=True)
class RowsWithWallet:
    """What a `rows_with_wallet` statement read: the caller's rows (their own values, in their
    order), the citizen and their log head (None if there are no rows), and the citizen's
    sealed profile (if asked for) and active records of the kinds asked for, oldest first."""

    rows: list[tuple[Any, ...]]
    citizen: CitizenRow | None
    log_head: LogHead | None
    wallet: SealedWallet


@dataclass(frozen=True)
class WalletStatement:
    """A statement built by `rows_with_wallet`. Parameters: the caller's own (`target`'s), then
    `kinds_params` of the kinds asked for."""

    sql: str
    width: int
    kinds: int

    def kinds_params(self, kinds: Collection[tuple[str, str]]) -> list[Any]:
        if len(kinds) != self.kinds:
            raise ValueError(f"the statement was built for {self.kinds} kinds, not {len(kinds)}")
        return _kinds_params(kinds) if kinds else []

    def read(self, rows: Sequence[Sequence[Any]]) -> RowsWithWallet:
        width = self.width
        citizen_from = 3 + width + 7  # part, sort key (2), the caller's, a record's 7
        caller_rows: list[tuple[Any, ...]] = []
        citizen: CitizenRow | None = None
        head: LogHead | None = None
        profile = None
        records: list[RecordRow] = []
        for row in rows:
            part = row[0]
            if part == 0:
                caller_rows.append(tuple(row[3 : 3 + width]))
                if citizen is None:
                    citizen, head = _TARGET_CITIZEN.read(row[citizen_from:])
            elif part == 1:
                profile = row[citizen_from - 1]
            else:
                records.append(_record_row(*row[3 + width : citizen_from]))
        return RowsWithWallet(
            rows=caller_rows,
            citizen=citizen,
            log_head=head,
            wallet=SealedWallet(profile=profile, records=records),
        )


_TARGET_CITIZEN = citizen_with_log_head(citizen_id="wallet_t.wallet_citizen_id")
_T_CITIZEN = "(SELECT wallet_citizen_id FROM wallet_target LIMIT 1)"
_RECORD_VALUES = ", ".join(
    column(DataRecord, name)
    for name in ("pk", "source", "kind", "state", "fetched_at", "upstream_modified_at", "payload")
)


def rows_with_wallet(*, target: str, width: int, kinds: int, profile: bool) -> WalletStatement:
    """One statement for a read that starts from a caller's own rows (a service's consents to a
    citizen) and needs the citizen's data too: the rows, the citizen and their log head, the
    sealed profile (if `profile`) and the active records of `kinds` (source, kind) pairs, in
    the core's names (an app names none of the core's tables).

    `target` is the caller's SELECT: `width` values of its own, then its rows' sort key (a
    timestamp and an id), then the citizen's id; every row about the same citizen. Records and
    profile come only if it has a row. Build each shape once (the caller caches it)."""
    own = ", ".join(f"v{i}" for i in range(width))
    caller_nulls = ", ".join(["NULL"] * width)
    citizen_nulls = ", ".join(["NULL"] * _TARGET_CITIZEN.width)
    record_nulls = ", ".join(["NULL"] * 7)
    # Branches in this order: PostgreSQL types each column of a UNION from its first typed
    # branch, pairwise (two untyped NULLs make text), so the records come first.
    branches = []
    if kinds:
        branches.append(
            f"SELECT 2, {column(DataRecord, 'created_at')}, {column(DataRecord, 'pk')}, "
            f"{caller_nulls}, {_RECORD_VALUES}, {citizen_nulls} FROM {table(DataRecord)} "
            f"WHERE {column(DataRecord, 'citizen')} = {_T_CITIZEN} "
            f"AND {column(DataRecord, 'state')} = %s AND ("
            + " OR ".join([_KIND_MATCH] * kinds)
            + ")"
        )
    branches.append(
        f"SELECT 0, wallet_t.wallet_sort_at, wallet_t.wallet_sort_id, "
        f"{', '.join(f'wallet_t.v{i}' for i in range(width))}, {record_nulls}, "
        f"{_TARGET_CITIZEN.columns} FROM wallet_target wallet_t {_TARGET_CITIZEN.joins}"
    )
    if profile:
        branches.append(
            f"SELECT 1, NULL, NULL, {caller_nulls}, {', '.join(['NULL'] * 6)}, "
            f"{column(Profile, 'payload')}, {citizen_nulls} FROM {table(Profile)} "
            f"WHERE {column(Profile, 'citizen')} = {_T_CITIZEN}"
        )
    sql = (
        f"WITH wallet_target({own}, wallet_sort_at, wallet_sort_id, wallet_citizen_id) AS "
        f"({target}) " + " UNION ALL ".join(branches) + " ORDER BY 1, 2, 3"
    )
    return WalletStatement(sql=sql, width=width, kinds=kinds)
