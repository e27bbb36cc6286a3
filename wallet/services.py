"""Writes to the wallet's core domain: citizens, profiles, data records."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from wallet import catalogue, crypto, erasure
from wallet.models import (
    PROFILE_PAYLOAD,
    RECORD_PAYLOAD,
    AccessLogHead,
    Citizen,
    DataRecord,
    Erasure,
    Profile,
)
from wallet.vault import CitizenWriting, Vault, citizen_writing

logger = logging.getLogger(__name__)

# OIDC standard claims that seed the profile, and the profile field each one fills.
PROFILE_CLAIMS = {
    "given_name": "first_name",
    "family_name": "last_name",
    "nickname": "nickname",
    "email": "email",
    "phone_number": "phone",
    "locale": "preferred_language",
}
SOURCE_PROVIDER = "oidc"
SOURCE_CITIZEN = "citizen"


def citizen_get_or_create(
    *, issuer: str, subject: str, issued_at: datetime | None = None
) -> tuple[Citizen, bool]:
    """The citizen for (issuer, sub); created with an unusable password on first sight.

    After an erasure of their wallet: `issued_at`, when the credential naming them was issued
    (a bearer token's `iat`), if it is not later than the erasure, raises
    erasure.IssuedBeforeErasure and creates nothing. Otherwise an erasure still under way is
    completed first, and the new wallet remembers when the previous one was erased
    (`previous_wallet_erased_at`: the citizen is told; older tokens stay refused).
    """
    citizen = Citizen.objects.filter(issuer=issuer, subject=subject).first()
    if citizen is not None:
        if citizen.is_active:
            if erasure.issued_before(issued_at, citizen.previous_wallet_erased_at):
                raise erasure.IssuedBeforeErasure
            return citizen, False
        pending = Erasure.objects.filter(citizen_id=citizen.pk).first()
        if pending is None:
            return citizen, False  # a closed account: the caller refuses it
        if erasure.issued_before(issued_at, pending.erased_at):
            raise erasure.IssuedBeforeErasure
        erasure.erasures_finish(issuer=issuer, subject=subject)
    latest = erasure.erasure_latest(issuer=issuer, subject=subject)
    erased_at = latest.erased_at if latest is not None else None
    if erasure.issued_before(issued_at, erased_at):
        raise erasure.IssuedBeforeErasure
    citizen = Citizen(issuer=issuer, subject=subject, previous_wallet_erased_at=erased_at)
    citizen.set_unusable_password()
    try:
        with transaction.atomic():
            citizen.save(force_insert=True)
            # The access log's chain starts empty: reads then always find a head to lock.
            AccessLogHead.objects.create(
                citizen=citizen, seq=0, mac="", generation=citizen.data_key_generation
            )
    except IntegrityError:  # a concurrent first request won
        return Citizen.objects.get(issuer=issuer, subject=subject), False
    return citizen, True


def citizen_staff_set(*, citizen: Citizen, is_staff: bool) -> None:
    """Staff (admin) status; admins may use the Django admin and the admin API."""
    if citizen.is_staff != is_staff or citizen.is_superuser != is_staff:
        citizen.is_staff = citizen.is_superuser = is_staff
        citizen.save(update_fields=["is_staff", "is_superuser"])
        logger.info("citizen %s staff status set to %s", citizen.pk, is_staff)


def profile_update_from_claims(*, citizen: Citizen, claims: Mapping[str, Any]) -> bool:
    """Fill the profile from identity-provider claims; values the citizen entered themselves win.

    Returns whether anything changed.
    """
    incoming = {
        field_key: str(claims[claim])
        for claim, field_key in PROFILE_CLAIMS.items()
        if isinstance(claims.get(claim), str) and claims[claim].strip()
    }
    if not incoming:
        return False
    with citizen_writing(citizen) as unit:
        profile = Profile.objects.select_for_update().filter(citizen=unit.citizen).first()
        entries = _profile_entries(profile, unit) if profile else {}
        now = timezone.now().isoformat()
        changed = False
        for key, value in incoming.items():
            current = entries.get(key)
            if current and current.get("source") == SOURCE_CITIZEN:
                continue
            if current and current.get("value") == value:
                continue
            entries[key] = {"value": value, "source": SOURCE_PROVIDER, "updated_at": now}
            changed = True
        if changed:
            _profile_save(unit=unit, profile=profile, entries=entries)
    return changed


def profile_update_by_citizen(*, citizen: Citizen, values: Mapping[str, str]) -> list[str]:
    """The citizen corrects what they entered themselves (`values`: profile field keys of the
    catalogue's self-entered fields, already validated). A value they enter is theirs from then
    on: the provider's claims no longer overwrite it. An emptied field is removed. Returns the
    keys that changed."""
    editable = {f.key for f in catalogue.PROFILE.fields if f.self_entered}
    unknown = set(values) - editable
    if unknown:
        raise ValueError(f"not editable by the citizen: {sorted(unknown)}")
    now = timezone.now().isoformat()
    with citizen_writing(citizen) as unit:
        profile = Profile.objects.select_for_update().filter(citizen=unit.citizen).first()
        entries = _profile_entries(profile, unit) if profile else {}
        changed = []
        for key, raw in values.items():
            value = raw.strip()
            current = entries.get(key)
            if not value:
                if current is not None:
                    del entries[key]
                    changed.append(key)
                continue
            if current and current.get("value") == value:
                continue  # unchanged: it keeps its origin
            entries[key] = {"value": value, "source": SOURCE_CITIZEN, "updated_at": now}
            changed.append(key)
        if changed:
            _profile_save(unit=unit, profile=profile, entries=entries)
    if changed:
        logger.info("citizen %s corrected profile fields %s", citizen.pk, sorted(changed))
    return changed


def _profile_entries(profile: Profile, vault: Vault) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = vault.open_json(
        PROFILE_PAYLOAD, row_id=profile.pk, ciphertext=profile.payload
    )
    return entries


def _profile_save(
    *, unit: CitizenWriting, profile: Profile | None, entries: dict[str, dict[str, Any]]
) -> None:
    unknown = set(entries) - set(catalogue.PROFILE.field_keys())
    if unknown:
        raise ValueError(f"unknown profile fields: {sorted(unknown)}")
    citizen = unit.citizen
    payload = unit.seal_json(PROFILE_PAYLOAD, row_id=citizen.pk, value=entries)
    email = (entries.get("email") or {}).get("value")
    email_index = crypto.blind_index(purpose="email", value=email) if email else ""
    if profile is None:
        Profile.objects.create(citizen=citizen, payload=payload, email_index=email_index)
    else:
        profile.payload = payload
        profile.email_index = email_index
        profile.save(update_fields=["payload", "email_index", "updated_at"])


@dataclass(frozen=True)
class UpstreamRecord:
    """One record as a connector parsed it, ready to be sealed."""

    kind: str
    external_id: str
    payload: dict[str, Any]
    upstream_modified_at: datetime | None = None


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ended: int = 0

    def add(self, other: UpsertCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.ended += other.ended


def record_external_key(*, source: str, kind: str, external_id: str) -> str:
    return crypto.blind_index(
        purpose="record-external-id", value=f"{source}\x1f{kind}\x1f{external_id}"
    )


def _nothing_to_write(
    citizen: Citizen, source: str, digests: dict[str, str], complete: set[str]
) -> bool:
    """Whether storing records of these digests would change nothing: every one is there, active
    and the same, and no active record of a complete kind is missing. One statement, no lock;
    an inactive (closed, erased) citizen reads as having no records, so their upsert goes on to
    citizen_writing, which refuses it (with no records either, a second statement asks)."""
    rows = DataRecord.objects.filter(
        citizen=citizen, source=source, citizen__is_active=True
    ).values_list("external_key", "kind", "content_digest", "state")
    seen = 0
    for key, kind, digest, state in rows:
        active = state == DataRecord.State.ACTIVE
        if key in digests:
            if not active or digest != digests[key]:
                return False
            seen += 1
        elif active and kind in complete:
            return False  # it would end
    if not digests:  # nothing came, nothing ends: only an active citizen has nothing to write
        return Citizen.objects.filter(pk=citizen.pk, is_active=True).exists()
    return seen == len(digests)


def records_upsert(
    *,
    citizen: Citizen,
    source: str,
    records: Iterable[UpstreamRecord],
    complete_kinds: Iterable[str] = (),
    fetched_at: datetime | None = None,
) -> UpsertCounts:
    """Idempotently store one citizen's records from one source.

    The same upstream data twice writes nothing the second time. For each kind in
    `complete_kinds` the records given are everything upstream holds, so an active record of that
    kind that was not given is marked ended (never deleted).
    """
    fetched_at = fetched_at or timezone.now()
    counts = UpsertCounts()
    incoming: dict[str, UpstreamRecord] = {}
    digests: dict[str, str] = {}
    for record in records:
        catalogue.kind(f"{source}.{record.kind}")  # an undeclared kind is a programming error
        key = record_external_key(source=source, kind=record.kind, external_id=record.external_id)
        incoming[key] = record  # an upstream duplicate collapses onto one row
        digests[key] = crypto.content_digest(purpose="record-content", value=record.payload)

    complete = set(complete_kinds)
    if _nothing_to_write(citizen, source, digests, complete):
        # The usual case of a repeated sweep: no lock taken, no key opened, nothing written.
        counts.unchanged = len(incoming)
        return counts

    with citizen_writing(citizen) as unit:
        citizen = unit.citizen
        existing = {
            row.external_key: row
            for row in DataRecord.objects.select_for_update().filter(citizen=citizen, source=source)
        }
        for key, record in incoming.items():
            row = existing.get(key)
            if (
                row is not None
                and row.content_digest == digests[key]
                and row.state == DataRecord.State.ACTIVE
            ):
                counts.unchanged += 1
                continue
            if row is None:
                row = DataRecord(
                    citizen=citizen,
                    source=source,
                    kind=record.kind,
                    external_key=key,
                    fetched_at=fetched_at,
                )
                counts.created += 1
            else:
                counts.updated += 1
            row.payload = unit.seal_json(RECORD_PAYLOAD, row_id=row.pk, value=record.payload)
            row.content_digest = digests[key]
            row.state = DataRecord.State.ACTIVE
            row.ended_at = None
            row.fetched_at = fetched_at
            row.upstream_modified_at = record.upstream_modified_at
            row.save()
        gone = [
            row.pk
            for key, row in existing.items()
            if key not in incoming and row.kind in complete and row.state == DataRecord.State.ACTIVE
        ]
        if gone:
            counts.ended = DataRecord.objects.filter(pk__in=gone).update(
                state=DataRecord.State.ENDED, ended_at=fetched_at, updated_at=fetched_at
            )
    return counts


# --- Retention: ended records whose time is up --------------------------------------------------

RECORDS_PURGE_BATCH_SIZE = 500


def records_ended_delete(
    *, source: str, ended_before: datetime, batch_size: int = RECORDS_PURGE_BATCH_SIZE
) -> Iterator[int]:
    """Delete `source`'s records that ended upstream before `ended_before`, yielding how many
    each batch deleted (a caller that stops early, or fails, knows what already went).

    Oldest first, in batches of at most `batch_size` rows, each its own transaction: the walk is
    a keyset on (ended_at, id) over the `record_ended` index, so no batch rereads what the
    previous one passed and no statement names more than `batch_size` ids. The delete repeats
    the conditions, so a record a sync brought back meanwhile (active again) stays.
    """
    expired = DataRecord.objects.filter(
        source=source, state=DataRecord.State.ENDED, ended_at__lt=ended_before
    )
    after: tuple[datetime | None, Any] | None = None  # (never None: ended records have a time)
    while True:
        batch = expired.order_by("ended_at", "pk")
        if after is not None:
            batch = batch.filter(Q(ended_at__gt=after[0]) | Q(ended_at=after[0], pk__gt=after[1]))
        keys = list(batch.values_list("ended_at", "pk")[:batch_size])
        if not keys:
            return
        with transaction.atomic():
            _, by_model = expired.filter(pk__in=[pk for _, pk in keys]).delete()
        yield by_model.get(DataRecord._meta.label, 0)
        after = keys[-1]
