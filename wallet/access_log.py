"""The citizen's access log: who read what, when. Append-only and hash-chained per citizen.

Each entry's mac is an HMAC (under a key derived from the index key, so nobody with only the
database can forge a link) over the entry, its plaintext details and the previous entry's mac.
`AccessLogHead` remembers the newest link, so deleting the last entry shows as well.

Appends move the head with a compare-and-swap on (seq, key generation): two appends for one
citizen cannot both take the same place, and a data-key rotation (which locks the head and moves
its generation) cannot re-seal the log while an entry sealed under the old key is being added.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from wallet import crypto, rawsql
from wallet.keys import cipher_from_key, citizen_cipher, citizen_key_get
from wallet.models import AccessLogEntry, AccessLogHead, Citizen

ACCESS_LOG_TABLE = AccessLogEntry._meta.db_table
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


MAX_APPEND_ATTEMPTS = 20

_HEAD = "SELECT seq, mac, generation FROM wallet_accessloghead WHERE citizen_id = %s"
# Compare-and-swap the head and add the entry in one statement (PostgreSQL: a data-modifying
# CTE). If another append or a data-key rotation moved the head first, nothing is written.
_MOVE_HEAD_AND_INSERT = (
    "WITH moved AS (UPDATE wallet_accessloghead SET seq = %s, mac = %s "
    "WHERE citizen_id = %s AND seq = %s AND generation = %s RETURNING citizen_id) "
    "INSERT INTO wallet_accesslogentry (citizen_id, seq, created_at, service_id, consent_id, "
    "details, previous_mac, mac) SELECT citizen_id, %s, %s, %s, %s, %s, %s, %s FROM moved"
)
_MOVE_HEAD = (
    "UPDATE wallet_accessloghead SET seq = %s, mac = %s "
    "WHERE citizen_id = %s AND seq = %s AND generation = %s"
)
_INSERT = (
    "INSERT INTO wallet_accesslogentry (citizen_id, seq, created_at, service_id, consent_id, "
    "details, previous_mac, mac) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


@dataclass(frozen=True)
class LogHead:
    """The head as a caller read it (e.g. joined into its own statement): saves a round trip."""

    seq: int
    mac: str
    generation: int


class AppendContention(RuntimeError):
    """The head kept moving under us: MAX_APPEND_ATTEMPTS appends by others in a row."""


def access_log_append(
    *,
    citizen: Citizen,
    service_id: uuid.UUID,
    consent_id: uuid.UUID | None,
    details: dict[str, Any],
    cipher: crypto.CitizenCipher | None = None,
    head: LogHead | None = None,
) -> int:
    """Add an entry to the end of the citizen's chain; returns its sequence number. `cipher`
    saves a key fetch when the caller already holds the citizen's key; it is used only if its
    generation is the head's. `head`, if the caller read it, is tried first (a stale one only
    costs a retry).

    Read the head, then move it with a compare-and-swap on (seq, key generation) in the same
    statement that inserts the entry: two round trips and no explicit transaction on PostgreSQL
    (SQLite runs the two writes in one write transaction). A lost race is retried. Plain SQL
    (see wallet/rawsql.py): this runs on every consented read.
    """
    citizen_param = rawsql.uuid_param(citizen.pk, connection)
    for _ in range(MAX_APPEND_ATTEMPTS):
        if head is None:
            with connection.cursor() as cursor:
                cursor.execute(_HEAD, [citizen_param])
                row = cursor.fetchone()
            if row is None:  # a citizen made without a head (before the log existed)
                AccessLogHead.objects.get_or_create(
                    citizen_id=citizen.pk,
                    defaults={"seq": 0, "mac": "", "generation": citizen.data_key_generation},
                )
                continue
            head = LogHead(*row)
        previous_seq, previous_mac, generation = head.seq, head.mac, head.generation
        head = None  # read afresh if this attempt loses the race
        if cipher is None or cipher.generation != generation:
            cipher = citizen_cipher(citizen=Citizen(pk=citizen.pk, data_key_generation=generation))
        seq = previous_seq + 1
        created_at = timezone.now()
        mac = entry_mac(
            citizen_id=citizen.pk,
            seq=seq,
            created_at=created_at,
            service_id=service_id,
            consent_id=consent_id,
            details=details,
            previous_mac=previous_mac,
        )
        head_params = [seq, mac, citizen_param, previous_seq, generation]
        entry_params = [
            seq,
            rawsql.datetime_param(created_at, connection),
            rawsql.uuid_param(service_id, connection),
            rawsql.uuid_param(consent_id, connection) if consent_id else None,
            cipher.seal_json(table=ACCESS_LOG_TABLE, row_id=seq, field="details", value=details),
            previous_mac,
            mac,
        ]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_MOVE_HEAD_AND_INSERT, head_params + entry_params)
                appended = cursor.rowcount == 1
        else:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(_MOVE_HEAD, head_params)
                appended = cursor.rowcount == 1
                if appended:
                    cursor.execute(_INSERT, [citizen_param, *entry_params])
        if appended:
            return seq
    raise AppendContention(f"could not append to the access log of {citizen.pk}")


@dataclass(frozen=True)
class AccessLogItem:
    seq: int
    created_at: datetime
    service_id: uuid.UUID
    consent_id: uuid.UUID | None
    details: dict[str, Any]


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
    cipher = citizen_cipher(citizen=citizen, create=False)
    items = [
        AccessLogItem(
            seq=row.seq,
            created_at=row.created_at,
            service_id=row.service_id,
            consent_id=row.consent_id,
            details=cipher.open_json(
                table=ACCESS_LOG_TABLE, row_id=row.seq, field="details", ciphertext=row.details
            ),
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
    cipher: crypto.CitizenCipher | None,
) -> BrokenLink | None:
    expected_seq, previous_mac = 1, ""
    for entry in entries:
        if entry.seq != expected_seq:
            return BrokenLink(citizen_id, expected_seq, f"missing (found {entry.seq} next)")
        if entry.previous_mac != previous_mac:
            return BrokenLink(citizen_id, entry.seq, "does not name the previous entry")
        if cipher is None:
            return BrokenLink(citizen_id, entry.seq, "unreadable: the citizen has no data key")
        try:
            details = cipher.open_json(
                table=ACCESS_LOG_TABLE, row_id=entry.seq, field="details", ciphertext=entry.details
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
    """Walk each citizen's chain from the first entry; yield the first broken link of each."""
    citizens = Citizen.objects.order_by("pk")
    if citizen_ids is not None:
        citizens = citizens.filter(pk__in=citizen_ids)
    # a head still at 0 with no entries is an empty chain: nothing to walk
    with_log = citizens.filter(access_log_head__seq__gt=0) | citizens.filter(
        access_log__isnull=False
    )
    for citizen in with_log.distinct().only("id", "data_key_generation").iterator():
        key = citizen_key_get(citizen.pk)
        cipher = cipher_from_key(key, generation=citizen.data_key_generation) if key else None
        entries = (
            AccessLogEntry.objects.filter(citizen_id=citizen.pk).order_by("seq").iterator(1000)
        )
        head = AccessLogHead.objects.filter(citizen_id=citizen.pk).first()
        problem = _chain_problem(citizen.pk, entries, head, cipher)
        if problem is not None:
            yield problem
