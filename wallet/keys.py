"""Data-key lifecycle: create on first use, unwrap for one request or task, rotate, destroy.

Wrapped keys live in the key store database (`wallet.db_router.KEYSTORE`); the data they open
lives in the default database. A key is always committed before any data sealed under it, and
destroyed (committed) before the data is deleted.
"""

from __future__ import annotations

import functools
import gc
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple, cast
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import Field, Q
from django.utils import timezone

from wallet import crypto, rawsql, sealed
from wallet.db_router import KEYSTORE
from wallet.models import AccessLogHead, Citizen, CitizenKey


def citizen_key_new(*, citizen_id: UUID) -> tuple[CitizenKey, crypto.CitizenCipher]:
    """A first data key, wrapped under the newest KEK, not saved yet, and its cipher."""
    data_key = crypto.data_key_generate()
    kek_version, wrapped = crypto.data_key_wrap(
        data_key=data_key, citizen_id=citizen_id, generation=1
    )
    key = CitizenKey(
        citizen_id=citizen_id, generation=1, kek_version=kek_version, wrapped_key=wrapped
    )
    return key, crypto.CitizenCipher(citizen_id=citizen_id, generation=1, data_key=data_key)


def citizen_key_create(*, citizen_id: UUID) -> crypto.CitizenCipher:
    key, cipher = citizen_key_new(citizen_id=citizen_id)
    try:
        with transaction.atomic(using=KEYSTORE):
            key.save(force_insert=True)
    except IntegrityError:
        # Another request created it first; theirs is the key.
        return cipher_from_key(CitizenKey.objects.get(citizen_id=citizen_id), generation=1)
    return cipher


def cipher_from_key(key: CitizenKey | rawsql.KeyRow, *, generation: int) -> crypto.CitizenCipher:
    """Unwrap the key of `generation`: the current one, or the pending one mid-rotation."""
    if generation == key.generation:
        wrapped, kek_version = bytes(key.wrapped_key), key.kek_version
    elif (
        generation == key.pending_generation and key.pending_wrapped_key and key.pending_kek_version
    ):
        wrapped, kek_version = bytes(key.pending_wrapped_key), key.pending_kek_version
    else:
        raise crypto.MissingKeyError(f"no data key of generation {generation} for the citizen")
    data_key = crypto.data_key_unwrap(
        wrapped=wrapped, kek_version=kek_version, citizen_id=key.citizen_id, generation=generation
    )
    return crypto.CitizenCipher(citizen_id=key.citizen_id, generation=generation, data_key=data_key)


def citizen_key_destroy(*, citizen_id: UUID) -> bool:
    """Crypto-shred: delete the wrapped data key, committed on its own. True if there was one."""
    with transaction.atomic(using=KEYSTORE):
        deleted, _ = CitizenKey.objects.filter(citizen_id=citizen_id).delete()
    return deleted > 0


@dataclass
class KekRotationSummary:
    kek_version: int
    rewrapped: int = 0
    already_current: int = 0
    failed: int = 0
    failed_citizens: list[str] = field(default_factory=list)
    # Keys another writer changed between this rotation's read and its write (a data-key
    # rotation, say): not overwritten, but left for the next pass, which reads them again.
    changed_meanwhile: int = 0
    # Keys still under an older KEK when the passes ran out: only keys written under an older
    # KEK while the rotation ran (run it again), besides the failed ones.
    left_behind: int = 0
    batches: int = 0
    passes: int = 0
    data_rows_rewritten: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


MAX_REPORTED_FAILURES = 50
# A pass re-wraps every key it finds under an older KEK. The first finds them all; a second only
# what was written meanwhile: a key created by a process that had not been given the new KEK
# yet, behind the pass's position, or one another writer changed under it. It repeats while a
# pass finds such work (keys that cannot be unwrapped are met again in each pass, not counted
# twice), at most this often.
MAX_PASSES = 3


def _stale(version: int) -> Q:
    return ~Q(kek_version=version) | (
        Q(pending_kek_version__isnull=False) & ~Q(pending_kek_version=version)
    )


def kek_rotate(*, batch_size: int | None = None) -> KekRotationSummary:
    """Re-wrap every data key under the newest KEK. No data row is read or written.

    Batches follow the primary key (keyset pagination), so each costs the same at the
    millionth citizen as at the first and a rerun after an interruption picks up what is left;
    each batch is one SELECT and one UPDATE whatever its size (`_send_rewrapped`). Every
    row is written only if it still is what was read (a compare-and-swap), so a concurrent
    data-key rotation or key creation is never overwritten."""
    started = time.perf_counter()
    batch_size = batch_size or settings.WALLET_KEK_ROTATION_BATCH_SIZE
    rewrapper = crypto.KekRewrapper()
    summary = KekRotationSummary(kek_version=rewrapper.version)
    summary.already_current = CitizenKey.objects.exclude(_stale(rewrapper.version)).count()
    writes_elsewhere = _WriteCounter(exclude_table=CitizenKey._meta.db_table)
    with writes_elsewhere.watching(), _collector_spared_the_process():
        work = True
        while work and summary.passes < MAX_PASSES:
            summary.passes += 1
            work = _kek_rotate_pass(rewrapper, batch_size, summary)
        if work:
            summary.left_behind = (
                CitizenKey.objects.filter(_stale(rewrapper.version)).count() - summary.failed
            )
    summary.data_rows_rewritten = writes_elsewhere.count
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


@contextmanager
def _collector_spared_the_process() -> Iterator[None]:
    """Leave the objects the process already holds out of the garbage collector's passes while
    the rotation runs (unless something else froze some first). Each batch's thousands of
    objects live long enough to reach the oldest generation, so the collector kept sweeping
    the whole process: a quarter of the rotation's own CPU (measured at 100,000 keys)."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _kek_rotate_pass(
    rewrapper: crypto.KekRewrapper, batch_size: int, summary: KekRotationSummary
) -> bool:
    """One pass over the keys under older KEKs; True if it re-wrapped or met a changed key.

    Each batch is written while the next one is re-wrapped (`_batch_writer`): the database's
    work on one batch and the cryptography of the next overlap."""
    failed: list[str] = []
    failures = 0

    def rewrap_all(rows: list[_StaleKey]) -> list[_Rewrapped]:
        nonlocal failures
        rewrapped = []
        for key in rows:
            try:
                rewrapped.append((key, *_rewrap(key, rewrapper)))
            except crypto.CryptoError:
                failures += 1
                if len(failed) < MAX_REPORTED_FAILURES:
                    failed.append(str(key.citizen_id))
        return rewrapped

    work = False
    rows = _stale_keys(rewrapper.version, after=None, limit=batch_size)
    ready = rewrap_all(rows)
    with _batch_writer(kek_version=rewrapper.version) as write:
        while rows:
            following = (
                _stale_keys(rewrapper.version, after=rows[-1].citizen_id, limit=batch_size)
                if len(rows) == batch_size
                else []
            )
            written_count = write(ready)
            following_ready = rewrap_all(following)
            written = written_count()
            summary.rewrapped += written
            summary.changed_meanwhile += len(ready) - written
            summary.batches += 1
            work = work or bool(ready)
            rows, ready = following, following_ready
    summary.failed, summary.failed_citizens = failures, failed
    return work


@contextmanager
def _batch_writer(*, kek_version: int) -> Iterator[Callable[[list[_Rewrapped]], Callable[[], int]]]:
    """`write(batch)` begins a batch's write and gives back a function that waits for it to
    end and answers how many keys it wrote.

    On PostgreSQL the connection is in pipeline mode: the batch's UPDATE goes to the server,
    which works on it while this process re-wraps the next batch (and commits it when asked for
    the count). Elsewhere the write is done at once."""
    connection = connections[KEYSTORE]
    if connection.vendor != "postgresql":

        def write_now(batch: list[_Rewrapped]) -> Callable[[], int]:
            written = _store_rewrapped(batch, kek_version=kek_version)
            return lambda: written

        yield write_now
        return
    connection.ensure_connection()
    with connection.connection.pipeline() as pipeline:

        def write_sent(batch: list[_Rewrapped]) -> Callable[[], int]:
            sent = _send_rewrapped(batch, kek_version=kek_version)

            def written() -> int:
                if sent is None:
                    return 0
                pipeline.sync()
                with sent:
                    return int(sent.rowcount)

            return written

        yield write_sent


_KEY_COLUMNS = (
    "citizen_id",
    "generation",
    "kek_version",
    "wrapped_key",
    "pending_generation",
    "pending_kek_version",
    "pending_wrapped_key",
)


def _column(name: str) -> str:
    return rawsql.quoted(cast(Field, CitizenKey._meta.get_field(name)).column)


_KEY_TABLE = rawsql.quoted(CitizenKey._meta.db_table)
_STALE_KEYS = (
    f"SELECT {', '.join(_column(name) for name in _KEY_COLUMNS)} FROM {_KEY_TABLE} "  # noqa: S608 - names from the model
    f"WHERE ({_column('kek_version')} <> %s OR {_column('pending_kek_version')} <> %s) "
    "{after}"
    f"ORDER BY {_column('citizen_id')} LIMIT %s"
)
_STALE_KEYS_FIRST = _STALE_KEYS.format(after="")
_STALE_KEYS_AFTER = _STALE_KEYS.format(after=f"AND {_column('citizen_id')} > %s ")


class _StaleKey(NamedTuple):
    """A key as the rotation read it; its write compares these values (a compare-and-swap)."""

    citizen_id: UUID
    generation: int
    kek_version: int
    wrapped_key: bytes
    pending_generation: int | None
    pending_kek_version: int | None
    pending_wrapped_key: bytes | None


# A key as read, and its newly wrapped key and pending key (None where there is none).
_Rewrapped = tuple[_StaleKey, bytes, bytes | None]


def _stale_keys(version: int, *, after: UUID | None, limit: int) -> list[_StaleKey]:
    """The next `limit` keys wrapped (or with a pending key wrapped) under another KEK version,
    by ascending citizen id after `after`: an index range scan, the same at any position."""
    keystore = connections[KEYSTORE]
    with keystore.cursor() as cursor:
        if after is None:
            cursor.execute(_STALE_KEYS_FIRST, [version, version, limit])
        else:
            cursor.execute(
                _STALE_KEYS_AFTER, [version, version, rawsql.uuid_param(after, keystore), limit]
            )
        rows = cursor.fetchall()
    if keystore.vendor == "postgresql":  # uuid and bytea columns come as UUID and bytes
        return [_StaleKey._make(row) for row in rows]
    # SQLite: the id as 32 hex digits
    return [_StaleKey._make((uuid.UUID(row[0]), *row[1:])) for row in rows]


def _rewrap(key: _StaleKey, rewrapper: crypto.KekRewrapper) -> tuple[bytes, bytes | None]:
    """Unwrap with whichever KEK wrapped it, wrap with the newest; the data key is unchanged.
    The key and, mid data-key rotation, the pending key."""
    wrapped = rewrapper.rewrap(
        wrapped=key.wrapped_key,
        kek_version=key.kek_version,
        citizen_id=key.citizen_id,
        generation=key.generation,
    )
    pending = None
    if key.pending_generation is not None and key.pending_wrapped_key and key.pending_kek_version:
        pending = rewrapper.rewrap(
            wrapped=key.pending_wrapped_key,
            kek_version=key.pending_kek_version,
            citizen_id=key.citizen_id,
            generation=key.pending_generation,
        )
    return wrapped, pending


# Each key is written only if it is still as read: same generation, same KEK versions, same
# pending generation. A pending key is re-wrapped only where there is one.
_SET = (
    f"{_column('kek_version')} = %s, {_column('wrapped_key')} = {{wrapped}}, "
    f"{_column('pending_kek_version')} = CASE WHEN {{pending}} IS NULL "
    f"THEN {{table}}{_column('pending_kek_version')} ELSE %s END, "
    f"{_column('pending_wrapped_key')} = COALESCE({{pending}}, "
    f"{{table}}{_column('pending_wrapped_key')}), {_column('wrapped_at')} = %s"
)
# PostgreSQL: the whole batch in one statement, its rows as arrays (one parameter a column, so
# the statement's text is the same for every batch) joined on the primary key.
_STORE_POSTGRESQL = (
    f"UPDATE {_KEY_TABLE} AS k SET "  # noqa: S608 - names from the model
    + _SET.format(wrapped="b.wrapped_key", pending="b.pending_wrapped_key", table="k.")
    + " FROM unnest(%b::uuid[], %b::integer[], %b::integer[], %b::integer[], %b::integer[], "
    "%b::bytea[], %b::bytea[]) AS b(citizen_id, generation, kek_version, pending_generation, "
    "pending_kek_version, wrapped_key, pending_wrapped_key) "
    # The batch's range of the primary key, so the plan reads only the batch's part of the
    # table whatever the estimates (a hash join over the whole table costs O(table) a batch).
    f"WHERE k.{_column('citizen_id')} BETWEEN %s AND %s "
    f"AND k.{_column('citizen_id')} = b.citizen_id AND k.{_column('generation')} = b.generation "
    f"AND k.{_column('kek_version')} = b.kek_version "
    f"AND k.{_column('pending_generation')} IS NOT DISTINCT FROM b.pending_generation "
    f"AND k.{_column('pending_kek_version')} IS NOT DISTINCT FROM b.pending_kek_version"
)
# Elsewhere (SQLite): one prepared statement run for every row of the batch.
_STORE_PORTABLE = (
    f"UPDATE {_KEY_TABLE} SET "  # noqa: S608 - names from the model
    + _SET.format(wrapped="%s", pending="%s", table="")
    + f" WHERE {_column('citizen_id')} = %s AND {_column('generation')} = %s "
    f"AND {_column('kek_version')} = %s AND {_column('pending_generation')} IS %s "
    f"AND {_column('pending_kek_version')} IS %s"
)


@functools.cache
def _server_binding_cursor_class() -> type:
    from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]  # psycopg 3 only
        ServerBindingCursor,
    )

    class UnpreparedServerBindingCursor(ServerBindingCursor):
        # Never a server-side prepared statement (psycopg prepares a statement run five
        # times): a connection pooler in transaction mode would lose it between batches.
        def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
            return super().execute(query, params, **{**options, "prepare": False})

    return UnpreparedServerBindingCursor


def _server_binding_cursor(connection: Any) -> Any:
    """A cursor that sends parameters apart from the statement (Django's PostgreSQL cursors
    inline them into its text): a batch's arrays of keys go as they are, not as quoted text for
    the server to parse. Wrapped as Django wraps its own, so the statement is logged and counted."""
    connection.ensure_connection()
    raw = _server_binding_cursor_class()(connection.connection)
    return (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )


def _send_rewrapped(keys: list[_Rewrapped], *, kek_version: int) -> Any:
    """PostgreSQL: the batch's UPDATE sent, in one statement; its cursor, whose row count (the
    keys written; the others changed since they were read) is there once the statement has run.
    None for an empty batch."""
    if not keys:
        return None
    connection = connections[KEYSTORE]
    reads, wrapped, pending = (list(column) for column in zip(*keys, strict=True))
    ids, generations, versions, _, pending_generations, pending_versions, _ = (
        list(column) for column in zip(*reads, strict=True)
    )
    cursor = _server_binding_cursor(connection)
    cursor.execute(
        _STORE_POSTGRESQL,
        [
            kek_version,
            kek_version,
            rawsql.datetime_param(timezone.now(), connection),
            ids,
            generations,
            versions,
            pending_generations,
            pending_versions,
            wrapped,
            pending,
            ids[0],
            ids[-1],
        ],
    )
    return cursor


def _store_rewrapped(keys: list[_Rewrapped], *, kek_version: int) -> int:
    """Elsewhere than PostgreSQL (SQLite): the batch written in one executemany; the number of
    keys written (the others changed since they were read)."""
    if not keys:
        return 0
    connection = connections[KEYSTORE]
    now = rawsql.datetime_param(timezone.now(), connection)
    rows = [
        [
            kek_version,
            wrapped_key,
            pending_wrapped_key,
            kek_version,
            pending_wrapped_key,
            now,
            rawsql.uuid_param(read.citizen_id, connection),
            read.generation,
            read.kek_version,
            read.pending_generation,
            read.pending_kek_version,
        ]
        for read, wrapped_key, pending_wrapped_key in keys
    ]
    with transaction.atomic(using=KEYSTORE), connection.cursor() as cursor:
        cursor.executemany(_STORE_PORTABLE, rows)
        return int(cursor.rowcount)


class _WriteCounter:
    """Counts INSERT/UPDATE/DELETE statements on every database except to one table, so the
    rotation's "no data row rewritten" is measured, not asserted."""

    def __init__(self, *, exclude_table: str) -> None:
        self.exclude_table = exclude_table
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statement = sql.lstrip().upper()
        if (
            statement.startswith(("INSERT", "UPDATE", "DELETE"))
            and self.exclude_table.upper() not in statement
        ):
            self.count += len(params) if many else 1
        return execute(sql, params, many, context)

    def watching(self) -> ExitStack:
        stack = ExitStack()
        for connection in connections.all():
            stack.enter_context(connection.execute_wrapper(self))
        return stack


@dataclass
class DataKeyRotationSummary:
    citizen: str
    generation: int
    rows_reencrypted: int


def data_key_rotate(*, citizen: Citizen) -> DataKeyRotationSummary:
    """Replace one citizen's data key (after a suspected leak) and re-seal all their data.

    Three committed steps, each safe to repeat, so an interrupted run is finished by a rerun:
    1. key store: the next generation's key is stored as pending (kept if already there);
    2. data database, with the citizen row locked (writers take the same lock): every value is
       re-sealed under the pending key and the citizen's `data_key_generation` moves to it;
       readers pick the key by that generation, so the switch is atomic for them;
    3. key store: the pending key becomes the current one and the old key is dropped.
    """
    with transaction.atomic(using=KEYSTORE):
        key = CitizenKey.objects.select_for_update().get(citizen_id=citizen.pk)
        if key.pending_generation is None:
            key.pending_generation = key.generation + 1
            key.pending_kek_version, key.pending_wrapped_key = crypto.data_key_wrap(
                data_key=crypto.data_key_generate(),
                citizen_id=citizen.pk,
                generation=key.pending_generation,
            )
            key.save(
                update_fields=["pending_generation", "pending_kek_version", "pending_wrapped_key"]
            )
    new_generation = key.pending_generation
    assert new_generation is not None

    rows = 0
    with transaction.atomic(using="default"):
        locked = Citizen.objects.select_for_update().get(pk=citizen.pk)
        # The access log's head too: appends compare-and-swap it, so none can slip in sealed
        # under the old key while the log is re-sealed.
        heads = AccessLogHead.objects.select_for_update().filter(citizen=locked)
        list(heads)
        if locked.data_key_generation != new_generation:
            old = cipher_from_key(key, generation=locked.data_key_generation)
            new = cipher_from_key(key, generation=new_generation)
            rows = sealed.reseal_citizen(citizen=locked, old=old, new=new)
            locked.data_key_generation = new_generation
            locked.save(update_fields=["data_key_generation"])
        heads.update(generation=new_generation)

    with transaction.atomic(using=KEYSTORE):
        key = CitizenKey.objects.select_for_update().get(citizen_id=citizen.pk)
        if key.pending_generation == new_generation:
            assert key.pending_kek_version is not None and key.pending_wrapped_key is not None
            key.generation = new_generation
            key.kek_version, key.wrapped_key = key.pending_kek_version, key.pending_wrapped_key
            key.pending_generation = key.pending_kek_version = key.pending_wrapped_key = None
            key.wrapped_at = timezone.now()
            key.save()
    citizen.data_key_generation = new_generation
    return DataKeyRotationSummary(
        citizen=str(citizen.pk), generation=new_generation, rows_reencrypted=rows
    )
