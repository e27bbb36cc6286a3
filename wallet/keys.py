"""Data-key lifecycle: create on first use, unwrap for one request or task, rotate, destroy.

Wrapped keys live in the key store database (`wallet.db_router.KEYSTORE`); the data they open
lives in the default database. A key is always committed before any data sealed under it, and
destroyed (committed) before the data is deleted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from typing import Any, cast
from uuid import UUID

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
    batches: int = 0
    data_rows_rewritten: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


MAX_REPORTED_FAILURES = 50


def _stale(version: int) -> Q:
    return ~Q(kek_version=version) | (
        Q(pending_kek_version__isnull=False) & ~Q(pending_kek_version=version)
    )


def _keys_not_at(version: int, batch_size: int) -> Iterator[list[CitizenKey]]:
    """Batches of keys wrapped under another KEK version, by ascending citizen id (keyset
    pagination: memory stays flat, and a rerun after an interruption picks up what is left)."""
    after: UUID | None = None
    while True:
        query = CitizenKey.objects.filter(_stale(version)).order_by("citizen_id")
        if after is not None:
            query = query.filter(citizen_id__gt=after)
        batch = list(query[:batch_size])
        if not batch:
            return
        yield batch
        after = batch[-1].citizen_id


def kek_rotate(*, batch_size: int = 1000) -> KekRotationSummary:
    """Re-wrap every data key under the newest KEK. No data row is read or written."""
    started = time.perf_counter()
    current = crypto.kek_provider().current().version
    summary = KekRotationSummary(kek_version=current)
    summary.already_current = CitizenKey.objects.exclude(_stale(current)).count()
    writes_elsewhere = _WriteCounter(exclude_table=CitizenKey._meta.db_table)
    with writes_elsewhere.watching():
        for batch in _keys_not_at(current, batch_size):
            rewrapped = []
            for key in batch:
                try:
                    _rewrap(key)
                except crypto.CryptoError:
                    summary.failed += 1
                    if len(summary.failed_citizens) < MAX_REPORTED_FAILURES:
                        summary.failed_citizens.append(str(key.citizen_id))
                    continue
                rewrapped.append(key)
            with transaction.atomic(using=KEYSTORE):
                _store_rewrapped(rewrapped)
            summary.rewrapped += len(rewrapped)
            summary.batches += 1
    summary.data_rows_rewritten = writes_elsewhere.count
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


REWRAP_FIELDS = [
    "kek_version",
    "wrapped_key",
    "pending_kek_version",
    "pending_wrapped_key",
    "wrapped_at",
]


def _store_rewrapped(keys: list[CitizenKey]) -> None:
    """One prepared UPDATE run for the whole batch: bulk_update's CASE expressions cost more
    than the cryptography here."""
    if not keys:
        return
    connection = connections[KEYSTORE]
    quote = connection.ops.quote_name
    fields = [cast(Field, CitizenKey._meta.get_field(name)) for name in REWRAP_FIELDS]
    pk = CitizenKey._meta.pk
    assert pk is not None
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = (
        f"UPDATE {quote(CitizenKey._meta.db_table)} SET {assignments} WHERE {quote(pk.column)} = %s"  # noqa: S608 - names from the model
    )
    rows = [
        [f.get_db_prep_save(getattr(key, f.attname), connection) for f in fields]
        + [pk.get_db_prep_value(key.pk, connection)]
        for key in keys
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _rewrap(key: CitizenKey) -> None:
    """Unwrap with whichever KEK wrapped it, wrap with the newest; the data key is unchanged."""
    data_key = crypto.data_key_unwrap(
        wrapped=bytes(key.wrapped_key),
        kek_version=key.kek_version,
        citizen_id=key.citizen_id,
        generation=key.generation,
    )
    key.kek_version, key.wrapped_key = crypto.data_key_wrap(
        data_key=data_key, citizen_id=key.citizen_id, generation=key.generation
    )
    if key.pending_generation is not None and key.pending_wrapped_key and key.pending_kek_version:
        pending = crypto.data_key_unwrap(
            wrapped=bytes(key.pending_wrapped_key),
            kek_version=key.pending_kek_version,
            citizen_id=key.citizen_id,
            generation=key.pending_generation,
        )
        key.pending_kek_version, key.pending_wrapped_key = crypto.data_key_wrap(
            data_key=pending, citizen_id=key.citizen_id, generation=key.pending_generation
        )
    key.wrapped_at = timezone.now()


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
