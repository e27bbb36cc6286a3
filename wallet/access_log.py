"""The citizen's access log: who read what, when. Append-only and hash-chained per citizen.

Each entry's mac is an HMAC (under a key derived from the index key, so nobody with only the
database can forge a link) over the entry, its plaintext details and the previous entry's mac.
`AccessLogHead` remembers the newest link, so deleting the last entry shows as well.

Writes (`access_log_append`) lock the citizen row (FOR NO KEY UPDATE): appends for one citizen
are serialised, and a data-key rotation, which locks the same row, cannot re-seal the log while
an entry sealed under the old key is being added.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from wallet import crypto
from wallet.keys import cipher_from_key, citizen_cipher
from wallet.models import AccessLogEntry, AccessLogHead, Citizen, CitizenKey

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


def access_log_append(
    *,
    citizen: Citizen,
    service_id: uuid.UUID,
    consent_id: uuid.UUID | None,
    details: dict[str, Any],
    cipher: crypto.CitizenCipher | None = None,
) -> AccessLogEntry:
    """Add an entry to the end of the citizen's chain. `cipher` saves a key fetch when the
    caller already holds the citizen's key; it is used only if its generation is current."""
    with transaction.atomic():
        locked = (
            Citizen.objects.select_for_update(no_key=True)
            .only("id", "data_key_generation")
            .get(pk=citizen.pk)
        )
        if cipher is None or cipher.generation != locked.data_key_generation:
            cipher = citizen_cipher(citizen=locked)
        head = AccessLogHead.objects.filter(citizen_id=citizen.pk).first()
        seq = head.seq + 1 if head else 1
        previous_mac = head.mac if head else ""
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
        entry = AccessLogEntry.objects.create(
            citizen_id=citizen.pk,
            seq=seq,
            created_at=created_at,
            service_id=service_id,
            consent_id=consent_id,
            details=cipher.seal_json(
                table=ACCESS_LOG_TABLE, row_id=seq, field="details", value=details
            ),
            previous_mac=previous_mac,
            mac=mac,
        )
        if head is None:
            AccessLogHead.objects.create(citizen_id=citizen.pk, seq=seq, mac=mac)
        else:
            AccessLogHead.objects.filter(citizen_id=citizen.pk).update(seq=seq, mac=mac)
    return entry


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
    with_log = citizens.filter(access_log_head__isnull=False) | citizens.filter(
        access_log__isnull=False
    )
    for citizen in with_log.distinct().only("id", "data_key_generation").iterator():
        key = CitizenKey.objects.filter(citizen_id=citizen.pk).first()
        cipher = cipher_from_key(key, generation=citizen.data_key_generation) if key else None
        entries = (
            AccessLogEntry.objects.filter(citizen_id=citizen.pk).order_by("seq").iterator(1000)
        )
        head = AccessLogHead.objects.filter(citizen_id=citizen.pk).first()
        problem = _chain_problem(citizen.pk, entries, head, cipher)
        if problem is not None:
            yield problem
