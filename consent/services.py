"""Writes of the consent domain: requests, decisions, withdrawals, expiry, and consented reads.

A read writes an access-log entry, so it lives here with the other writes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from consent import receipts
from consent.conf import consent_setting
from consent.models import (
    CONSENT_CONTENTS,
    CONSENT_RECEIPT,
    Consent,
    ConsentRequest,
    ConsentState,
    ConsentStatus,
    ErasedConsent,
    RequestState,
    Service,
    ServicePurpose,
    ServiceSubject,
)
from consent.rawsql import ConsentRow
from consent.selectors import (
    citizen_hint_index,
    consent_contents,
    consents_for_read,
    consents_with_state,
    effective_state,
    erased_consent_exists,
    erased_pairwise_index,
    request_effective_state,
)
from wallet import catalogue, crypto
from wallet.access_log import access_log_append
from wallet.assurance import SENSITIVE_MIN_LOA, loa_at_least
from wallet.models import Citizen
from wallet.selectors import CitizenWallet
from wallet.vault import CitizenClosed, Vault, citizen_reading_required, citizen_writing

logger = logging.getLogger(__name__)

MAX_FIELDS_PER_REQUEST = 100
STATUS_DIGEST_PURPOSE = "consent-status-chain"


class ConsentError(Exception):
    """A request the domain refuses. The message is written for the caller; `code` is stable."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


def _not_found() -> ConsentError:
    return ConsentError("No such consent request.", code="NOT_FOUND", field="id")


def _unknown_fields_refuse(field_ids: list[str]) -> None:
    known = set(catalogue.field_ids())
    unknown = [f for f in field_ids if f not in known]
    if unknown:
        raise ConsentError(
            f"Unknown field ids: {', '.join(sorted(unknown)[:10])}.", code="INVALID", field="fields"
        )


# Requests


def consent_request_create(
    *,
    service: Service,
    field_ids: list[str],
    purpose_code: str,
    redirect_uri: str,
    consent_expires_at: datetime | None = None,
    citizen_hint: str | None = None,
) -> ConsentRequest:
    """File a service's request. Everything is checked against the registry before anything is
    stored: fields the service did not register, an unknown purpose or a redirect URI that is not
    the service's own are refused."""
    if not service.is_active:
        raise ConsentError("The service is suspended.", code="PERMISSION_DENIED")
    wanted = list(dict.fromkeys(field_ids))
    if not wanted:
        raise ConsentError("Ask for at least one field.", code="INVALID", field="fields")
    if len(wanted) > MAX_FIELDS_PER_REQUEST:
        raise ConsentError("Too many fields in one request.", code="INVALID", field="fields")
    _unknown_fields_refuse(wanted)
    registered = set(service.allowed_fields)
    not_registered = [f for f in wanted if f not in registered]
    if not_registered:
        raise ConsentError(
            "The service is not registered for these fields: "
            f"{', '.join(sorted(not_registered)[:10])}.",
            code="PERMISSION_DENIED",
            field="fields",
        )
    purpose = ServicePurpose.objects.filter(service=service, code=purpose_code).first()
    if purpose is None:
        raise ConsentError(
            "The service has registered no such purpose.", code="INVALID", field="purpose"
        )
    if redirect_uri not in service.redirect_uri_list():
        raise ConsentError(
            "The redirect URI is not one the service registered.",
            code="INVALID",
            field="redirectUri",
        )
    now = timezone.now()
    if consent_expires_at is not None:
        if timezone.is_naive(consent_expires_at):
            raise ConsentError(
                "Give the expiry with a time zone.", code="INVALID", field="expiresAt"
            )
        if consent_expires_at <= now:
            raise ConsentError("The expiry is in the past.", code="INVALID", field="expiresAt")
        if consent_expires_at > now + timedelta(days=consent_setting("MAX_DAYS")):
            raise ConsentError(
                f"A consent can last at most {consent_setting('MAX_DAYS')} days.",
                code="INVALID",
                field="expiresAt",
            )
    hint_index = ""
    if citizen_hint:
        if len(citizen_hint) > 255:
            raise ConsentError("The citizen hint is too long.", code="INVALID", field="citizenHint")
        hint_index = citizen_hint_index(issuer=settings.OIDC_ISSUER, subject=citizen_hint)
    _pending_limits_check(service=service, hint_index=hint_index, now=now)
    return ConsentRequest.objects.create(
        service=service,
        purpose=purpose,
        fields=wanted,
        consent_expires_at=consent_expires_at,
        redirect_uri=redirect_uri,
        citizen_hint_index=hint_index,
        created_at=now,
        expires_at=now + timedelta(hours=consent_setting("REQUEST_TTL_HOURS")),
    )


def _pending_limits_check(*, service: Service, hint_index: str, now: datetime) -> None:
    """A service cannot flood one citizen's pending list, nor the wallet, with requests."""
    pending = ConsentRequest.objects.filter(
        service=service, state=RequestState.REQUESTED, expires_at__gt=now
    )
    if hint_index and (
        pending.filter(citizen_hint_index=hint_index).count()
        >= consent_setting("MAX_PENDING_PER_CITIZEN")
    ):
        raise ConsentError(
            "This citizen already has too many open requests from you; wait for a decision.",
            code="RATE_LIMITED",
        )
    if pending.count() >= consent_setting("MAX_PENDING_PER_SERVICE"):
        raise ConsentError("You have too many open consent requests.", code="RATE_LIMITED")


def _request_for_citizen(
    *, citizen: Citizen, request_id: str, lock: bool = False
) -> ConsentRequest:
    """The request, if the citizen may see it: theirs, hinted to them, or not yet anyone's."""
    requests = ConsentRequest.objects.select_related("service", "purpose")
    if lock:
        requests = requests.select_for_update(of=("self",))
    request = requests.filter(pk=request_id).first()
    if request is None or request.citizen_erased_at is not None:
        raise _not_found()  # an erased citizen's request is the service's record only
    if request.citizen_id is not None:
        if request.citizen_id != citizen.pk:
            raise _not_found()
    elif request.citizen_hint_index and request.citizen_hint_index != citizen_hint_index(
        issuer=citizen.issuer, subject=citizen.subject
    ):
        raise _not_found()
    return request


def consent_request_open(*, citizen: Citizen, request_id: str) -> ConsentRequest:
    """The citizen opens a request: an unclaimed one becomes theirs (the first to open it)."""
    with transaction.atomic():
        request = _request_for_citizen(citizen=citizen, request_id=request_id, lock=True)
        if (
            request.citizen_id is None
            and request_effective_state(request) == RequestState.REQUESTED
        ):
            request.citizen = citizen
            request.save(update_fields=["citizen"])
    return request


@dataclass(frozen=True)
class Decision:
    request: ConsentRequest
    consent: Consent | None
    redirect_url: str


def _redirect_url(request: ConsentRequest) -> str:
    parts = urlsplit(request.redirect_uri)
    query = "&".join(
        q
        for q in (parts.query, urlencode({"consent_request": request.pk, "state": request.state}))
        if q
    )
    return urlunsplit(parts._replace(query=query))


def consent_request_decide(
    *, citizen: Citizen, loa: str | None, request_id: str, approve: bool
) -> Decision:
    """Approve (a consent is given, with its receipt) or refuse a pending request. Sensitive fields
    can only be granted from a login of substantial assurance or more."""
    with transaction.atomic():
        request = _request_for_citizen(citizen=citizen, request_id=request_id, lock=True)
        state = request_effective_state(request)
        if state == RequestState.EXPIRED:
            raise ConsentError("The request has expired; ask the service again.", code="CONFLICT")
        if state != RequestState.REQUESTED:
            raise ConsentError("The request has already been decided.", code="CONFLICT")
        now = timezone.now()
        consent = None
        if approve:
            registered = set(request.service.allowed_fields)
            fields = [f for f in request.fields if f in registered]
            if not fields:
                raise ConsentError(
                    "The service is no longer registered for these fields.", code="CONFLICT"
                )
            if not loa_at_least(loa, SENSITIVE_MIN_LOA) and any(
                catalogue.field_by_id(f).sensitive for f in fields
            ):
                raise ConsentError(
                    "Some of these fields are sensitive: log in with strong authentication "
                    "to share them.",
                    code="INSUFFICIENT_ASSURANCE",
                )
            consent = _consent_give(
                citizen=citizen, request=request, fields=fields, loa=loa, now=now
            )
        request.citizen = citizen
        request.state = RequestState.GIVEN if approve else RequestState.REFUSED
        request.decided_at = now
        request.fields = []  # the service's ask is no longer needed; a consent keeps its own
        request.save(update_fields=["citizen", "state", "decided_at", "fields"])
    logger.info("consent request %s decided: %s", request.pk, request.state)
    return Decision(request=request, consent=consent, redirect_url=_redirect_url(request))


def _consent_give(
    *, citizen: Citizen, request: ConsentRequest, fields: list[str], loa: str | None, now: datetime
) -> Consent:
    service, purpose = request.service, request.purpose
    subject, _ = ServiceSubject.objects.get_or_create(service=service, citizen=citizen)
    consent = Consent(
        citizen=citizen,
        service=service,
        subject=subject,
        request=request,
        given_at=now,
        expires_at=request.consent_expires_at,
    )
    purpose_snapshot = {
        "code": purpose.code,
        "description": {
            "fi": purpose.description_fi,
            "sv": purpose.description_sv,
            "en": purpose.description_en,
        },
        "category": purpose.category,
        "third_party_disclosure": purpose.third_party_disclosure,
    }
    contents = {"fields": fields, "purpose": purpose_snapshot, "loa": loa}
    receipt = receipts.receipt_sign(
        receipts.receipt_build(
            receipt_id=consent.receipt_id,
            given_at=now,
            expires_at=consent.expires_at,
            pairwise_id=subject.pairwise_id,
            service=service,
            purpose=purpose,
            fields=fields,
        )
    )
    with citizen_writing(citizen) as unit:
        consent.contents = unit.seal_json(CONSENT_CONTENTS, row_id=consent.pk, value=contents)
        consent.receipt = unit.seal_text(CONSENT_RECEIPT, row_id=consent.pk, text=receipt)
        consent.save(force_insert=True)
    _status_append(consent=consent, state=ConsentState.GIVEN, actor=ConsentStatus.Actor.CITIZEN)
    return consent


# Status chain


def status_digest(
    *, consent_id: uuid.UUID, seq: int, state: str, actor: str, at: datetime, previous: str
) -> str:
    return crypto.content_digest(
        purpose=STATUS_DIGEST_PURPOSE,
        value=[str(consent_id), seq, state, actor, at.isoformat(), previous],
    )


def _status_append(
    *, consent: Consent, state: str, actor: str, previous: ConsentStatus | None = None
) -> ConsentStatus:
    now = timezone.now()
    seq = previous.seq + 1 if previous else 1
    return ConsentStatus.objects.create(
        consent=consent,
        seq=seq,
        state=state,
        previous=previous,
        actor=actor,
        recorded_at=now,
        digest=status_digest(
            consent_id=consent.pk,
            seq=seq,
            state=state,
            actor=actor,
            at=now,
            previous=previous.digest if previous else "",
        ),
    )


def consent_history_verify(*, consent: Consent) -> str | None:
    """None if the consent's status chain is intact, else what is wrong with it."""
    return _history_problem(consent.pk, list(consent.statuses.order_by("seq")))


def _history_problem(consent_id: uuid.UUID, statuses: list[ConsentStatus]) -> str | None:
    """The first broken link of a consent's history (`statuses` in `seq` order), or None."""
    previous: ConsentStatus | None = None
    for status in statuses:
        expected_seq = previous.seq + 1 if previous else 1
        if status.seq != expected_seq or status.previous_id != (previous.pk if previous else None):
            return f"status {expected_seq} is missing or out of order"
        digest = status_digest(
            consent_id=consent_id,
            seq=status.seq,
            state=status.state,
            actor=status.actor,
            at=status.recorded_at,
            previous=previous.digest if previous else "",
        )
        if digest != status.digest:
            return f"status {status.seq} was altered"
        previous = status
    if previous is None:
        return "the consent has no status records"
    return None


@dataclass(frozen=True)
class BrokenHistory:
    """The first broken link of one consent's history. Ids only: no personal data."""

    citizen_id: uuid.UUID
    consent_id: uuid.UUID
    reason: str

    def __str__(self) -> str:
        return f"citizen {self.citizen_id}, consent {self.consent_id}: {self.reason}"


def consent_histories_verify(
    *, citizen_ids: list[uuid.UUID] | None = None
) -> Iterator[BrokenHistory]:
    """Walk every consent's status chain (or those of some citizens) from its first record and
    yield the first broken link of each: a missing, altered or reordered record, or none at all.

    A deleted newest record (say, a withdrawal) leaves a shorter chain that still verifies: the
    history has no head to compare with. Reads fail closed only on a history with no record.
    """
    consents = Consent.objects.order_by("pk").only("id", "citizen_id")
    if citizen_ids is not None:
        consents = consents.filter(citizen_id__in=citizen_ids)
    statuses = Prefetch("statuses", queryset=ConsentStatus.objects.order_by("seq"))
    for consent in consents.prefetch_related(statuses).iterator(chunk_size=1000):
        problem = _history_problem(consent.pk, list(consent.statuses.all()))
        if problem is not None:
            yield BrokenHistory(
                citizen_id=consent.citizen_id, consent_id=consent.pk, reason=problem
            )


def _final_status_append(*, consent: Consent, state: str, actor: str) -> ConsentStatus | None:
    """Append a final state (withdrawn, expired) after the newest record, if still given.

    The newest record is locked, and a record can have one successor only (a unique link), so a
    withdrawal and an expiry racing each other cannot both be recorded.
    """
    newest = ConsentStatus.objects.select_for_update().filter(consent=consent).order_by("-seq")
    previous = newest.first()
    if previous is None or previous.state != ConsentState.GIVEN:
        return None
    return _status_append(consent=consent, state=state, actor=actor, previous=previous)


def consent_withdraw(*, citizen: Citizen, consent_id: uuid.UUID) -> ConsentStatus:
    """Withdraw a consent. It takes effect for the very next read: reads check the newest status
    record, and this one is committed before the call returns."""
    with transaction.atomic():
        consent = consents_with_state().filter(pk=consent_id, citizen=citizen).first()
        if consent is None:
            raise ConsentError("No such consent.", code="NOT_FOUND", field="id")
        if effective_state(consent) == ConsentState.EXPIRED:
            # Past its end already, recorded or not: expired is final, there is nothing to end.
            raise ConsentError("The consent has expired.", code="CONFLICT", field="id")
        try:
            with transaction.atomic():
                status = _final_status_append(
                    consent=consent,
                    state=ConsentState.WITHDRAWN,
                    actor=ConsentStatus.Actor.CITIZEN,
                )
        except IntegrityError:
            status = None
        if status is None:
            raise ConsentError("The consent is no longer in force.", code="CONFLICT", field="id")
    logger.info("consent %s withdrawn", consent_id)
    return status


def consents_expire(*, now: datetime | None = None) -> int:
    """Record the expiry of given consents past their end. Reads never wait for this: they check
    the expiry time themselves."""
    now = now or timezone.now()
    # Withdrawn and expired are final: a consent given (its first record) with neither record is
    # still given. One with no record at all was never in force here (see `effective_state`).
    due = Consent.objects.filter(
        expires_at__lte=now, statuses__seq=1, statuses__state=ConsentState.GIVEN
    ).exclude(statuses__state__in=[ConsentState.WITHDRAWN, ConsentState.EXPIRED])
    recorded = 0
    for consent in due.order_by("expires_at")[:10_000]:
        try:
            with transaction.atomic():
                if _final_status_append(
                    consent=consent, state=ConsentState.EXPIRED, actor=ConsentStatus.Actor.SYSTEM
                ):
                    recorded += 1
        except IntegrityError:
            continue  # withdrawn at the same moment: that record stands
    return recorded


def consent_requests_expire(*, now: datetime | None = None) -> int:
    """Close requests nobody decided in time, and forget what they asked for."""
    now = now or timezone.now()
    return ConsentRequest.objects.filter(state=RequestState.REQUESTED, expires_at__lte=now).update(
        state=RequestState.EXPIRED, fields=[], decided_at=now
    )


# Erasure


def consents_on_erasure(citizen: Citizen, erased_at: datetime) -> dict[str, int]:
    """The citizen is being erased (wallet.hooks.before_erasure: in the erasure's transaction,
    holding the citizen's lock; run again just before their rows go, so idempotent).

    Every consent in force is withdrawn (by the system), and each consent leaves an
    `ErasedConsent` residue for its service; the citizen's requests are detached from them
    (`citizen_erased_at`), and those still waiting are withdrawn. A request being decided at this
    moment (locked by the decision) is skipped: the decision then finds the citizen closed, or
    the second run catches it.
    """
    consents = list(
        consents_with_state()
        .filter(citizen=citizen)
        .select_related("subject")
        .prefetch_related("statuses")
    )
    withdrawn, residues = 0, []
    for consent in consents:
        state = effective_state(consent, now=erased_at)
        ended_at = erased_at
        if state == ConsentState.GIVEN:
            if _withdraw_on_erasure(consent):
                withdrawn += 1
                state = ConsentState.WITHDRAWN
            else:  # ended by someone else at this moment: that record stands
                state = effective_state(consents_with_state().get(pk=consent.pk), now=erased_at)
        elif state == ConsentState.EXPIRED and consent.current_state == ConsentState.GIVEN:  # type: ignore[attr-defined]
            ended_at = consent.expires_at or erased_at  # past its end, not recorded yet
        else:
            recorded = [s.recorded_at for s in consent.statuses.all()]
            ended_at = max(recorded) if recorded else erased_at
        residues.append(
            ErasedConsent(
                consent_id=consent.pk,
                service_id=consent.service_id,
                request_id=consent.request_id,
                pairwise_index=erased_pairwise_index(consent.subject.pairwise_id),
                state=state,
                ended_at=ended_at,
                erased_at=erased_at,
            )
        )
    ErasedConsent.objects.bulk_create(residues, ignore_conflicts=True)  # a rerun adds none

    hint = citizen_hint_index(issuer=citizen.issuer, subject=citizen.subject)
    theirs = ConsentRequest.objects.filter(
        Q(citizen=citizen) | Q(citizen__isnull=True, citizen_hint_index=hint)
    )
    request_ids = list(
        theirs.select_for_update(skip_locked=True).values_list("pk", flat=True).order_by("pk")
    )
    requests = ConsentRequest.objects.filter(pk__in=request_ids)
    waiting = requests.filter(state=RequestState.REQUESTED)
    requests_withdrawn = waiting.filter(expires_at__gt=erased_at).update(
        state=RequestState.WITHDRAWN, decided_at=erased_at
    )
    waiting.update(state=RequestState.EXPIRED, decided_at=erased_at)  # past their time already
    requests.update(citizen=None, citizen_hint_index="", fields=[], citizen_erased_at=erased_at)
    if withdrawn or requests_withdrawn:
        logger.info(
            "erasure of citizen %s: %s consents and %s requests withdrawn",
            citizen.pk,
            withdrawn,
            requests_withdrawn,
        )
    return {"consents_withdrawn": withdrawn, "requests_withdrawn": requests_withdrawn}


def _withdraw_on_erasure(consent: Consent) -> bool:
    try:
        with transaction.atomic():
            status = _final_status_append(
                consent=consent, state=ConsentState.WITHDRAWN, actor=ConsentStatus.Actor.SYSTEM
            )
    except IntegrityError:
        return False  # withdrawn or expired by another transaction at this very moment
    return status is not None


# Consented reads


@dataclass(frozen=True)
class ConsentedRecord:
    kind: str
    values: dict[str, Any]  # field id -> value, only granted fields


@dataclass(frozen=True)
class ConsentedRead:
    citizen_id: uuid.UUID
    request_id: str
    records: list[ConsentedRecord] = field(default_factory=list)
    granted_fields: list[str] = field(default_factory=list)
    withheld_fields: list[str] = field(default_factory=list)


def _consented_records(wallet: CitizenWallet, granted: list[str]) -> list[ConsentedRecord]:
    by_kind: dict[str, list[str]] = {}
    for field_id in granted:
        kind, key = catalogue.kind_and_key(field_id)
        by_kind.setdefault(kind.id, []).append(key)
    records = []
    for kind_id, keys in by_kind.items():
        kind = catalogue.kind(kind_id)
        if kind.kind is None:  # the profile
            profile = wallet.profile
            values = {kind.field_id(k): profile[k].value for k in keys if k in profile}
            if values:
                records.append(ConsentedRecord(kind=kind.id, values=values))
            continue
        for record in wallet.records(source=kind.source, kind=kind.kind):
            values = {kind.field_id(k): record.get(k) for k in keys}
            records.append(ConsentedRecord(kind=kind.id, values=values))
    return records


def _erased_error() -> ConsentError:
    return ConsentError(
        "The citizen has erased their data in the wallet: every consent they gave you is "
        "withdrawn.",
        code="CONSENT_WITHDRAWN",
        field="citizenId",
    )


def citizen_data_read(
    *, service: Service, pairwise_id: uuid.UUID, request_id: str, field_ids: list[str] | None
) -> ConsentedRead | None:
    """What the service may read of the citizen behind `pairwise_id`: exactly the fields under a
    consent that is in force now, and the names of the rest. None if the id is not one this
    service was given (another service's ids look the same as made-up ones).

    Every read of a known citizen writes an access-log entry, also when nothing was shared; it
    names every consent in force that covers a field the service received. The id of a citizen
    who has erased their data raises CONSENT_WITHDRAWN. Statements: 1 consents with the
    citizen, the log head, the profile and the records of the kinds asked for (only the granted
    ones are opened), 1 key, 1 log append (PostgreSQL), whatever the number of consents. Reads
    of one citizen that meet at the log's head do not fail: the ones that lost wait in line for
    it (3 more statements in a transaction; see `access_log_append`).
    """
    if field_ids is not None:
        _unknown_fields_refuse(field_ids)
    registered = set(service.allowed_fields)
    asked = list(dict.fromkeys(field_ids)) if field_ids is not None else service.allowed_fields
    target = consents_for_read(
        service_id=service.pk,
        pairwise_id=pairwise_id,
        field_ids=[f for f in asked if f in registered],  # no consent grants any other
    )
    if target is None or not target.citizen.is_active:
        if erased_consent_exists(service=service, pairwise_id=pairwise_id):
            raise _erased_error()
        return None
    citizen, consents = target.citizen, target.consents
    now = timezone.now()
    live = [c for c in consents if effective_state(c, now=now) == ConsentState.GIVEN]
    vault: Vault | None = None
    covered: list[tuple[ConsentRow, set[str], str]] = []  # consent, its fields, its purpose
    if live:
        try:
            vault = citizen_reading_required(citizen)
        except crypto.MissingKeyError:
            if erased_consent_exists(service=service, pairwise_id=pairwise_id):
                raise _erased_error() from None  # erased (the key went) while this read ran
            raise
        for consent in live:
            contents = consent_contents(consent, vault)
            fields = {f for f in contents["fields"] if f in registered}
            covered.append((consent, fields, contents["purpose"]["code"]))
    granted_set: set[str] = set().union(*(fields for _, fields, _ in covered))
    granted = [f for f in asked if f in granted_set]
    withheld = [f for f in asked if f not in granted_set]
    # the read rests on every consent in force that covers a field it shares (oldest first)
    read_under = [c.pk for c, fields, _ in covered if not fields.isdisjoint(granted)]
    purposes = [purpose for _, _, purpose in covered]
    records: list[ConsentedRecord] = []
    if granted:
        # opens the profile and the records of the granted fields' kinds only
        wallet = CitizenWallet(citizen, vault=vault, sealed=target.wallet)
        records = _consented_records(wallet, granted)
    try:
        access_log_append(
            citizen=citizen,
            service_id=service.pk,
            consent_id=read_under[0] if read_under else None,
            vault=vault,
            head=target.log_head,
            details={
                "service": {
                    "slug": service.slug,
                    "name": service.name_en,
                    # the citizen's log shows the name in their language
                    "names": {"fi": service.name_fi, "sv": service.name_sv, "en": service.name_en},
                },
                "fields": granted,
                "withheld": withheld,
                "purposes": sorted(set(purposes)),
                "request_id": request_id,
                "records": len(records),
                "consent_ids": [str(pk) for pk in read_under],
            },
        )
    except CitizenClosed:
        # erased while this read ran: a read that cannot be logged returns nothing
        raise _erased_error() from None
    return ConsentedRead(
        citizen_id=pairwise_id,
        request_id=request_id,
        records=records,
        granted_fields=granted,
        withheld_fields=withheld,
    )
