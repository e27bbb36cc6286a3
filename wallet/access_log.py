"""The citizen's access log: who read what, when. Append-only and hash-chained per citizen.

Each entry's mac is an HMAC (under a key derived from the index key, so nobody with only the
database can forge a link) over the entry, its plaintext details and the previous entry's mac.
`AccessLogHead` remembers the newest link, so deleting the last entry shows as well.

Appends move the head with a compare-and-swap on (seq, key generation): two appends for one
citizen cannot both take the same place, and a data-key rotation (which locks the head and moves
its generation) cannot re-seal the log while an entry sealed under the old key is being added.
An append that loses the swap queues for the head's lock and appends behind the winner: readers
of one citizen wait for each other, they never fail for having met.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Exists, OuterRef
from django.utils import timezone

from wallet import crypto, rawsql
from wallet.models import (
    ACCESS_LOG_DETAILS,
    AccessLogEntry,
    AccessLogHead,
    AccessLogTombstone,
    Citizen,
)
from wallet.rawsql import CitizenRef, LogHead
from wallet.vault import (
    CitizenClosed,
    Vault,
    citizen_key_at,
    citizen_reading,
    citizen_reading_required,
)

__all__ = ["LogHead"]  # read with a caller's statement (wallet.rawsql), passed to the append

MAC_PURPOSE = "access-log-chain"
MAX_PAGE_SIZE = 100


def entry_mac(
    *,
    citizen_id: uuid.UUID,
    seq: int,
    created_at: datetime,
    service_id: uuid.UUID,
    consent_id: uuid.UUID | None,
    details: dict[str, Any],
    previous_mac: str,
) -> str:
    return crypto.content_digest(
        purpose=MAC_PURPOSE,
        value={
            "citizen": str(citizen_id),
            "seq": seq,
            "at": created_at.isoformat(),
            "service": str(service_id),
            "consent": str(consent_id) if consent_id else None,
            "details": details,
            "previous": previous_mac,
        },
    )


# Locks. An append moves the head, and its entry's foreign key check takes the citizen row FOR
# KEY SHARE. Writers of the citizen's sealed data lock the citizen row FOR UPDATE, and a data-key
# rotation locks it, then the head. So an append never waits for the citizen row while it holds
# the head (that deadlocks with a rotation), nor waits in line for the head while it holds the
# citizen row (a line of such appends would keep a rotation or a sync out while reads go on):
# - the compare-and-swap (PostgreSQL: a data-modifying CTE, rawsql.LOG_MOVE_HEAD_AND_INSERT)
#   waits for nothing: it takes the citizen row, then the head, each SKIP LOCKED, in uncorrelated
#   subqueries (InitPlans, which run before the rows around them are read). If a writer holds the
#   citizen row, another transaction the head, or the head moved since it was read, nothing is
#   written;
# - the append then waits in line for the head alone (rawsql.LOG_HEAD_LOCKED) and swaps again,
#   holding it;
# - if that swap finds the citizen row held by a writer, the append lets go of the head and waits
#   for the citizen row, then the head (rawsql.LOG_CITIZEN_THEN_HEAD_LOCKED), in a rotation's
#   order.
# The statements are in wallet/rawsql.py, with the core's other hot-path SQL.
# Bounds this transaction's lock waits (PostgreSQL's lock_timeout, local to the transaction).
_LOCK_TIMEOUT_SET = "SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)"
_LOCK_TIMEOUT_RESTORE = "SELECT set_config('lock_timeout', %s, true)"
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock wait past lock_timeout


class AppendTimeout(RuntimeError):
    """The append waited longer than WALLET_ACCESS_LOG_LOCK_TIMEOUT for a lock on the log."""


def access_log_append(
    *,
    citizen: CitizenRef,
    service_id: uuid.UUID,
    consent_id: uuid.UUID | None,
    details: dict[str, Any],
    vault: Vault | None = None,
    head: LogHead | None = None,
) -> int:
    """Add an entry to the end of the citizen's chain; returns its sequence number. A read that
    rests on several consents names the first in `consent_id` and all of them in the details'
    `consent_ids` (sealed, and covered by the mac like every detail). `vault`
    saves a key fetch when the caller already holds the citizen's key; it is used only if its
    generation is the head's. `head`, if the caller read it, saves reading it here.

    First, without waiting for any lock, a compare-and-swap on (seq, key generation) moves the
    head in the same statement that inserts the entry: one statement on PostgreSQL (SQLite runs
    the two writes in one write transaction). If it loses (another append, a data-key rotation
    or a writer of the citizen's data got there first), the append waits in line: in a
    transaction it locks the head and appends behind whoever held it (see "Locks" above).
    Holding the locks, it cannot lose again. On PostgreSQL a wait for a lock longer than
    WALLET_ACCESS_LOG_LOCK_TIMEOUT raises AppendTimeout (on SQLite, where the write transaction
    is the lock, the connection's busy timeout bounds it). A citizen erased since the caller
    looked them up (their log gone) raises CitizenClosed. Plain SQL (see wallet/rawsql.py): this
    runs on every consented read.
    """
    entry = _Entry(citizen.pk, service_id, consent_id, details)
    if head is None:
        head = rawsql.log_head_get(citizen_id=citizen.pk)
    if head is not None:
        try:
            head_vault = _vault_for(citizen.pk, head.generation, vault)
        except crypto.MissingKeyError:
            pass  # a data-key rotation finished since the head was read: it names a newer key
        else:
            if entry.move_head_and_insert(head, head_vault):
                return head.seq + 1
            vault = head_vault
    return _append_queued(citizen=citizen, entry=entry, vault=vault)


def _vault_for(citizen_id: uuid.UUID, generation: int, vault: Vault | None) -> Vault:
    if vault is not None and vault.generation == generation:
        return vault
    return citizen_key_at(citizen_id=citizen_id, generation=generation)


@dataclass(frozen=True)
class _Entry:
    """What an append writes, less its place in the chain."""

    citizen_id: uuid.UUID
    service_id: uuid.UUID
    consent_id: uuid.UUID | None
    details: dict[str, Any]

    def move_head_and_insert(self, head: LogHead, vault: Vault) -> bool:
        """Link the entry after `head` if the head is still there (and, on PostgreSQL, no one
        holds it or the citizen row); False if nothing was written."""
        seq = head.seq + 1
        created_at = timezone.now()
        mac = entry_mac(
            citizen_id=self.citizen_id,
            seq=seq,
            created_at=created_at,
            service_id=self.service_id,
            consent_id=self.consent_id,
            details=self.details,
            previous_mac=head.mac,
        )
        citizen_param = rawsql.uuid_param(self.citizen_id, connection)
        head_params = [seq, mac, citizen_param, head.seq, head.generation]
        entry_params = [
            seq,
            rawsql.datetime_param(created_at, connection),
            rawsql.uuid_param(self.service_id, connection),
            rawsql.uuid_param(self.consent_id, connection) if self.consent_id else None,
            vault.seal_json(ACCESS_LOG_DETAILS, row_id=seq, value=self.details),
            head.mac,
            mac,
        ]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(rawsql.LOG_MOVE_HEAD_AND_INSERT, head_params + entry_params)
                return cursor.rowcount == 1
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(rawsql.LOG_MOVE_HEAD, head_params)
            if cursor.rowcount != 1:
                return False
            cursor.execute(rawsql.LOG_INSERT, [citizen_param, *entry_params])
        return True


class _CitizenHeld(Exception):
    """A writer of the citizen's data holds their row: let go of the head and wait for it."""


def _append_queued(*, citizen: CitizenRef, entry: _Entry, vault: Vault | None) -> int:
    """Wait in line for the head, then append holding it (see "Locks" above)."""
    try:
        try:
            return _append_holding_head(citizen, entry, vault, citizen_first=False)
        except _CitizenHeld:
            return _append_holding_head(citizen, entry, vault, citizen_first=True)
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise AppendTimeout(
                f"the access log of citizen {citizen.pk} stayed locked for more than "
                f"{settings.WALLET_ACCESS_LOG_LOCK_TIMEOUT} s"
            ) from error
        raise


def _append_holding_head(
    citizen: CitizenRef, entry: _Entry, vault: Vault | None, *, citizen_first: bool
) -> int:
    """In a transaction: lock the head (`citizen_first`: the citizen row, then the head), append.
    On SQLite the write transaction is the lock."""
    postgresql = connection.vendor == "postgresql"
    inside_callers_transaction = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if postgresql:
            timeout_ms = round(settings.WALLET_ACCESS_LOG_LOCK_TIMEOUT * 1000)
            cursor.execute(_LOCK_TIMEOUT_SET, [f"{timeout_ms}ms"])
            previous_timeout = cursor.fetchone()[0]
            locking = (
                rawsql.LOG_CITIZEN_THEN_HEAD_LOCKED if citizen_first else rawsql.LOG_HEAD_LOCKED
            )
        else:
            locking = rawsql.LOG_HEAD
        head = _head_locked(cursor, citizen, locking)
        vault = _vault_for(citizen.pk, head.generation, vault)
        if not entry.move_head_and_insert(head, vault):
            if postgresql and not citizen_first:
                # holding the head, the swap can only have skipped the citizen row: a writer
                # holds it (a rotation wants the head next). Roll back, wait for the writer.
                raise _CitizenHeld
            raise RuntimeError("the access log's head moved while it was locked")
        if postgresql and inside_callers_transaction:  # the caller's transaction goes on
            cursor.execute(_LOCK_TIMEOUT_RESTORE, [previous_timeout])
    return head.seq + 1


def _head_locked(cursor: CursorWrapper, citizen: CitizenRef, locking: str) -> LogHead:
    """The head, read by `locking`; created first for a citizen made before the log existed."""
    citizen_param = rawsql.uuid_param(citizen.pk, connection)
    cursor.execute(locking, [citizen_param])
    head = rawsql.log_head_from(cursor.fetchone())
    if head is None:
        if not Citizen.objects.filter(pk=citizen.pk, is_active=True).exists():
            # erased since the caller looked them up: there is no log to append to
            raise CitizenClosed("the citizen is erased or their account closed")
        AccessLogHead.objects.get_or_create(
            citizen_id=citizen.pk,
            defaults={"seq": 0, "mac": "", "generation": citizen.data_key_generation},
        )
        cursor.execute(locking, [citizen_param])
        head = rawsql.log_head_from(cursor.fetchone())
        if head is None:
            raise AccessLogHead.DoesNotExist(f"no access log head for citizen {citizen.pk}")
    return head


@dataclass(frozen=True)
class AccessLogItem:
    seq: int
    created_at: datetime
    service_id: uuid.UUID
    consent_id: uuid.UUID | None
    details: dict[str, Any]

    @property
    def consent_ids(self) -> list[uuid.UUID]:
        """Every consent the read rested on, `consent_id` first: the sealed details'
        `consent_ids`; an older entry, written before those, names its one `consent_id`."""
        if "consent_ids" in self.details:
            return [uuid.UUID(c) for c in self.details["consent_ids"]]
        return [self.consent_id] if self.consent_id else []


@dataclass(frozen=True)
class AccessLogPage:
    items: list[AccessLogItem]
    has_next_page: bool


def access_log_page(
    *, citizen: Citizen, first: int, before_seq: int | None = None
) -> AccessLogPage:
    """Newest first. Queries: 1 key (only if there are entries) + 1 page, whatever its size."""
    first = max(0, min(first, MAX_PAGE_SIZE))
    rows = AccessLogEntry.objects.filter(citizen_id=citizen.pk)
    if before_seq is not None:
        rows = rows.filter(seq__lt=before_seq)
    page = list(rows.order_by("-seq")[: first + 1])
    if not page:
        return AccessLogPage(items=[], has_next_page=False)
    vault = citizen_reading_required(citizen)
    items = [
        AccessLogItem(
            seq=row.seq,
            created_at=row.created_at,
            service_id=row.service_id,
            consent_id=row.consent_id,
            details=vault.open_json(ACCESS_LOG_DETAILS, row_id=row.seq, ciphertext=row.details),
        )
        for row in page[:first]
    ]
    return AccessLogPage(items=items, has_next_page=len(page) > first)


@dataclass(frozen=True)
class BrokenLink:
    citizen_id: uuid.UUID
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"entry {self.seq}" if self.seq is not None else "the chain's head"
        return f"citizen {self.citizen_id}, {where}: {self.reason}"


def _chain_problem(
    citizen_id: uuid.UUID,
    entries: Iterator[AccessLogEntry],
    head: AccessLogHead | None,
    vault: Vault | None,
) -> BrokenLink | None:
    expected_seq, previous_mac = 1, ""
    for entry in entries:
        if entry.seq != expected_seq:
            return BrokenLink(citizen_id, expected_seq, f"missing (found {entry.seq} next)")
        if entry.previous_mac != previous_mac:
            return BrokenLink(citizen_id, entry.seq, "does not name the previous entry")
        if vault is None:
            return BrokenLink(citizen_id, entry.seq, "unreadable: the citizen has no data key")
        try:
            details = vault.open_json(
                ACCESS_LOG_DETAILS, row_id=entry.seq, ciphertext=entry.details
            )
        except crypto.DecryptionError:
            return BrokenLink(citizen_id, entry.seq, "its sealed details were altered or moved")
        mac = entry_mac(
            citizen_id=citizen_id,
            seq=entry.seq,
            created_at=entry.created_at,
            service_id=entry.service_id,
            consent_id=entry.consent_id,
            details=details,
            previous_mac=entry.previous_mac,
        )
        if mac != entry.mac:
            return BrokenLink(citizen_id, entry.seq, "altered (its mac does not match)")
        expected_seq, previous_mac = entry.seq + 1, entry.mac
    last_seq = expected_seq - 1
    if head is None:
        if last_seq:
            return BrokenLink(citizen_id, None, "missing while the log has entries")
        return None
    if head.seq != last_seq or head.mac != previous_mac:
        return BrokenLink(
            citizen_id, None, f"names entry {head.seq}, the chain ends at entry {last_seq}"
        )
    return None


def access_log_verify(*, citizen_ids: list[uuid.UUID] | None = None) -> Iterator[BrokenLink]:
    """Walk each citizen's chain from the first entry; yield the first broken link of each.

    A citizen being erased (their tombstone is written, their rows not yet deleted) is not
    walked: `access_log_erased` reports them."""
    citizens = Citizen.objects.order_by("pk").exclude(
        pk__in=AccessLogTombstone.objects.values("citizen_id")
    )
    if citizen_ids is not None:
        citizens = citizens.filter(pk__in=citizen_ids)
    # a head still at 0 with no entries is an empty chain: nothing to walk
    with_log = citizens.filter(access_log_head__seq__gt=0) | citizens.filter(
        access_log__isnull=False
    )
    for citizen in with_log.distinct().only("id", "data_key_generation").iterator():
        vault = citizen_reading(citizen)
        entries = (
            AccessLogEntry.objects.filter(citizen_id=citizen.pk).order_by("seq").iterator(1000)
        )
        head = AccessLogHead.objects.filter(citizen_id=citizen.pk).first()
        problem = _chain_problem(citizen.pk, entries, head, vault)
        if problem is not None:
            yield problem


@dataclass(frozen=True)
class ErasedChain:
    """The chain of an erased citizen: it ended at entry `seq` when they were erased. `pending`:
    the erasure is under way (its rows are not deleted yet)."""

    citizen_id: uuid.UUID
    seq: int
    erased_at: datetime
    pending: bool

    def __str__(self) -> str:
        state = "being erased since" if self.pending else "erased at"
        return (
            f"citizen {self.citizen_id}: {state} {self.erased_at.isoformat()}, "
            f"the chain ended at entry {self.seq}"
        )


def access_log_erased(*, citizen_ids: list[uuid.UUID] | None = None) -> Iterator[ErasedChain]:
    """The chains that end in a tombstone (of every erased citizen, or of some)."""
    tombstones = AccessLogTombstone.objects.order_by("erased_at", "citizen_id")
    if citizen_ids is not None:
        tombstones = tombstones.filter(citizen_id__in=citizen_ids)
    present = Citizen.objects.filter(pk=OuterRef("citizen_id"))
    for tombstone in tombstones.annotate(pending=Exists(present)).iterator(1000):
        yield ErasedChain(
            citizen_id=tombstone.citizen_id,
            seq=tombstone.seq,
            erased_at=tombstone.erased_at,
            pending=tombstone.pending,
        )
