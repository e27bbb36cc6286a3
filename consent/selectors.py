"""Reads of services, consent requests and consents, decrypted for the citizen they belong to."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from consent.models import (
    CONSENT_STATE_UNKNOWN,
    Consent,
    ConsentRequest,
    ConsentState,
    ConsentStatus,
    RequestState,
    Service,
    ServiceClient,
)
from wallet import crypto, rawsql
from wallet.access_log import LogHead
from wallet.keys import citizen_cipher
from wallet.models import Citizen

CONSENT_TABLE = Consent._meta.db_table


# client id -> (valid until, the service or None): every API call asks, and the registry changes
# rarely. A suspension still stops reads at once (the consents query checks it in the database);
# a new or changed registration reaches other processes within WALLET_SERVICE_CACHE_SECONDS.
_services_by_client: dict[str, tuple[float, Service | None]] = {}


def service_by_client_id(client_id: str) -> Service | None:
    now = time.monotonic()
    cached = _services_by_client.get(client_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    client = ServiceClient.objects.select_related("service").filter(client_id=client_id).first()
    service = client.service if client else None
    if len(_services_by_client) > 10_000:  # only valid tokens get here; bound it anyway
        _services_by_client.clear()
    _services_by_client[client_id] = (now + settings.WALLET_SERVICE_CACHE_SECONDS, service)
    return service


def service_cache_clear() -> None:
    _services_by_client.clear()


def citizen_hint_index(*, issuer: str, subject: str) -> str:
    # Exact (not case-folded): `sub`s are case-sensitive, and a hint must never match another.
    return crypto.content_digest(purpose="consent-citizen-hint", value=[issuer, subject])


def consents_with_state() -> QuerySet[Consent]:
    """Consents annotated with `current_state`: the state of the newest status record, None if
    the consent has none (see `effective_state`)."""
    newest = ConsentStatus.objects.filter(consent=OuterRef("pk")).order_by("-seq")
    return Consent.objects.annotate(current_state=Subquery(newest.values("state")[:1]))


_GRANTS_FOR_READ = (
    "SELECT c.id, c.expires_at, c.contents, z.id, z.data_key_generation, z.is_active, "
    "(SELECT st.state FROM consent_consentstatus st WHERE st.consent_id = c.id "
    "ORDER BY st.seq DESC LIMIT 1), h.seq, h.mac, h.generation "
    "FROM consent_consent c "
    "JOIN consent_servicesubject sub ON sub.id = c.subject_id "
    "JOIN consent_service svc ON svc.id = c.service_id "
    "JOIN wallet_citizen z ON z.id = c.citizen_id "
    "LEFT JOIN wallet_accessloghead h ON h.citizen_id = c.citizen_id "
    "WHERE c.service_id = %s AND sub.pairwise_id = %s AND svc.is_active = %s "
    "ORDER BY c.given_at, c.id"
)


@dataclass(frozen=True)
class ReadTarget:
    """Who a service's read is about and its consents (oldest first), each with
    `current_state`; and the head of the citizen's access log, for the entry the read will add."""

    citizen: Citizen
    consents: list[Consent]
    log_head: LogHead | None


def consents_for_read(*, service_id: uuid.UUID, pairwise_id: uuid.UUID) -> ReadTarget | None:
    """The citizen behind `pairwise_id` for this service and their consents to it; None if the
    id is not this service's, or the service is suspended.

    Plain SQL in one statement (see wallet/rawsql.py): this runs on every consented read.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _GRANTS_FOR_READ,
            [
                rawsql.uuid_param(service_id, connection),
                rawsql.uuid_param(pairwise_id, connection),
                True,
            ],
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    _, _, _, citizen_id, generation, is_active, _, head_seq, head_mac, head_generation = rows[0]
    citizen = Citizen(
        pk=rawsql.as_uuid(citizen_id), data_key_generation=generation, is_active=bool(is_active)
    )
    consents = []
    for pk, expires_at, contents, *_, state, _, _, _ in rows:
        consent = Consent(
            pk=rawsql.as_uuid(pk),
            expires_at=rawsql.aware(expires_at),
            contents=contents,
            citizen=citizen,
            service_id=service_id,
        )
        consent.current_state = state  # type: ignore[attr-defined]
        consents.append(consent)
    head = LogHead(head_seq, head_mac, head_generation) if head_seq is not None else None
    return ReadTarget(citizen=citizen, consents=consents, log_head=head)


def effective_state(consent: Consent, *, now: datetime | None = None) -> str:
    """The state that governs processing: a given consent past its expiry is expired, whether or
    not the expiry has been recorded yet. It fails closed: a consent with no status record (its
    history deleted) is `unknown`, never given. `consent` carries `current_state` (the newest
    record's state, or None if there is none) from `consents_with_state` or `consents_for_read`.
    """
    state: str = consent.current_state or CONSENT_STATE_UNKNOWN  # type: ignore[attr-defined]
    now = now or timezone.now()
    if state == ConsentState.GIVEN and consent.expires_at is not None and consent.expires_at <= now:
        return ConsentState.EXPIRED
    return state


def consent_state(*, consent_id: uuid.UUID) -> str | None:
    """The consent's effective state now (one query), or None if it is gone."""
    consent = consents_with_state().filter(pk=consent_id).first()
    return effective_state(consent) if consent else None


def consent_contents(consent: Consent, cipher: crypto.CitizenCipher) -> dict[str, Any]:
    return cipher.open_json(
        table=CONSENT_TABLE, row_id=consent.pk, field="contents", ciphertext=consent.contents
    )


def request_effective_state(request: ConsentRequest, *, now: datetime | None = None) -> str:
    if request.state == RequestState.REQUESTED and request.expires_at <= (now or timezone.now()):
        return RequestState.EXPIRED
    return request.state


def approval_url(request: ConsentRequest) -> str:
    return settings.WALLET_BASE_URL + reverse("consent-request", args=[request.pk])


def consent_requests_pending(*, citizen: Citizen) -> list[ConsentRequest]:
    """Requests waiting for the citizen: hinted to them or opened by them. 1 query."""
    hint = citizen_hint_index(issuer=citizen.issuer, subject=citizen.subject)
    return list(
        ConsentRequest.objects.filter(
            Q(citizen=citizen) | Q(citizen__isnull=True, citizen_hint_index=hint),
            state=RequestState.REQUESTED,
            expires_at__gt=timezone.now(),
        )
        .select_related("service", "purpose")
        .order_by("-created_at")
    )


def consent_request_for_service(*, service: Service, request_id: str) -> ConsentRequest | None:
    return (
        ConsentRequest.objects.filter(pk=request_id, service=service)
        .select_related("service", "purpose", "consent__subject")
        .first()
    )


@dataclass(frozen=True)
class StatusView:
    seq: int
    state: str
    actor: str
    recorded_at: datetime
    digest: str
    previous_id: int | None


@dataclass(frozen=True)
class ConsentView:
    """A consent with its sealed contents opened and its history attached."""

    consent: Consent
    state: str
    fields: list[str]
    purpose: dict[str, Any]
    history: list[StatusView]

    @property
    def id(self) -> uuid.UUID:
        return self.consent.pk

    @property
    def service(self) -> Service:
        return self.consent.service


def citizen_consents(*, citizen: Citizen) -> list[ConsentView]:
    """The citizen's consents, newest first, each with its whole history.

    Queries: 1 consents (with service and pairwise id) + 1 status records + 1 key, whatever the
    number of consents.
    """
    consents = list(
        consents_with_state()
        .filter(citizen=citizen)
        .select_related("service", "subject")
        .prefetch_related("statuses")
        .order_by("-given_at", "pk")
    )
    if not consents:
        return []
    cipher = citizen_cipher(citizen=citizen, create=False)
    now = timezone.now()
    views = []
    for consent in consents:
        contents = consent_contents(consent, cipher)
        history = [
            StatusView(
                seq=s.seq,
                state=s.state,
                actor=s.actor,
                recorded_at=s.recorded_at,
                digest=s.digest,
                previous_id=s.previous_id,
            )
            for s in consent.statuses.all()
        ]
        views.append(
            ConsentView(
                consent=consent,
                state=effective_state(consent, now=now),
                fields=contents["fields"],
                purpose=contents["purpose"],
                history=history,
            )
        )
    return views


def consent_receipt(*, citizen: Citizen, consent_id: uuid.UUID) -> str | None:
    """The compact JWS of the consent's receipt, for its citizen only."""
    consent = Consent.objects.filter(pk=consent_id, citizen=citizen).first()
    if consent is None:
        return None
    cipher = citizen_cipher(citizen=citizen, create=False)
    receipt: str = cipher.open(
        table=CONSENT_TABLE, row_id=consent.pk, field="receipt", ciphertext=consent.receipt
    ).decode()
    return receipt
