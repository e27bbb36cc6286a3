"""Reads of services, consent requests and consents, decrypted for the citizen they belong to."""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from consent import rawsql
from consent.conf import consent_setting
from consent.models import (
    CONSENT_CONTENTS,
    CONSENT_RECEIPT,
    CONSENT_STATE_UNKNOWN,
    Consent,
    ConsentRequest,
    ConsentState,
    ConsentStatus,
    ErasedConsent,
    RequestState,
    Service,
    ServiceClient,
    ServicePurpose,
)
from consent.rawsql import ConsentRow, ReadTarget
from wallet import catalogue, crypto
from wallet.catalogue import Labels
from wallet.models import Citizen
from wallet.vault import Vault, citizen_reading_required

# client id -> (valid until, the service or None): every API call asks, and the registry changes
# rarely. A suspension still stops reads at once (the consents query checks it in the database);
# a new or changed registration reaches other processes within CONSENT["SERVICE_CACHE_SECONDS"]
# (env WALLET_SERVICE_CACHE_SECONDS).
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
    _services_by_client[client_id] = (now + consent_setting("SERVICE_CACHE_SECONDS"), service)
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


def consents_for_read(
    *,
    service_id: uuid.UUID,
    pairwise_id: uuid.UUID,
    field_ids: Collection[str] = (),
) -> ReadTarget | None:
    """The citizen behind `pairwise_id` for this service, their consents to it (oldest first,
    each with its newest state), the head of their access log, and their sealed profile and
    active records of the kinds `field_ids` belong to (what the read may share, before its
    consents, sealed too, say what it does); None if the id is not this service's, or the
    service is suspended.

    One statement of plain SQL (consent/rawsql.py): this runs on every consented read.
    """
    # by id: hashing a RecordKind hashes each of its fields (25 µs for a service's eight)
    kinds = {kind.id: kind for kind in (catalogue.kind_and_key(f)[0] for f in field_ids)}
    return rawsql.grants_for_read(
        service_id=service_id,
        pairwise_id=pairwise_id,
        kinds=sorted((k.source, k.kind) for k in kinds.values() if k.kind is not None),
        profile=any(k.kind is None for k in kinds.values()),
    )


def effective_state(consent: Consent | ConsentRow, *, now: datetime | None = None) -> str:
    """The state that governs processing: a given consent past its expiry is expired, whether or
    not the expiry has been recorded yet. It fails closed: a consent with no status record (its
    history deleted) is `unknown`, never given. `consent` carries `current_state` (the newest
    record's state, or None if there is none) from `consents_with_state` or `consents_for_read`.
    """
    state: str = consent.current_state or CONSENT_STATE_UNKNOWN  # type: ignore[union-attr]
    now = now or timezone.now()
    if state == ConsentState.GIVEN and consent.expires_at is not None and consent.expires_at <= now:
        return ConsentState.EXPIRED
    return state


def consent_state(*, consent_id: uuid.UUID) -> str | None:
    """The consent's effective state now (one query), or None if it is gone."""
    consent = consents_with_state().filter(pk=consent_id).first()
    return effective_state(consent) if consent else None


def consent_contents(consent: Consent | ConsentRow, vault: Vault) -> dict[str, Any]:
    contents: dict[str, Any] = vault.open_json(
        CONSENT_CONTENTS, row_id=consent.pk, ciphertext=consent.contents
    )
    return contents


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


def citizen_consent_requests_all(*, citizen: Citizen) -> list[ConsentRequest]:
    """Every request made to the citizen, decided or not, oldest first: theirs, and those hinted
    to them that they have not opened (the data export). 1 query."""
    hint = citizen_hint_index(issuer=citizen.issuer, subject=citizen.subject)
    return list(
        ConsentRequest.objects.filter(
            Q(citizen=citizen) | Q(citizen__isnull=True, citizen_hint_index=hint)
        )
        .select_related("service", "purpose")
        .annotate(consent_ref=F("consent__id"))
        .order_by("created_at", "pk")
    )


def consent_request_for_service(*, service: Service, request_id: str) -> ConsentRequest | None:
    """The service's own request, with what became of its consent (also after an erasure)."""
    return (
        ConsentRequest.objects.filter(pk=request_id, service=service)
        .select_related("service", "purpose", "consent__subject", "erased_consent")
        .first()
    )


ERASED_PAIRWISE_PURPOSE = "erased-pairwise-id"


def erased_pairwise_index(pairwise_id: uuid.UUID) -> str:
    return crypto.content_digest(purpose=ERASED_PAIRWISE_PURPOSE, value=str(pairwise_id))


def erased_consent_exists(*, service: Service, pairwise_id: uuid.UUID) -> bool:
    """Whether `pairwise_id` was this service's id of a citizen who has erased their data."""
    return ErasedConsent.objects.filter(
        service=service, pairwise_index=erased_pairwise_index(pairwise_id)
    ).exists()


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
    loa: str | None = None  # the login's level of assurance when the consent was given

    @property
    def id(self) -> uuid.UUID:
        return self.consent.pk

    @property
    def service(self) -> Service:
        return self.consent.service


def citizen_consents(*, citizen: Citizen, vault: Vault | None = None) -> list[ConsentView]:
    """The citizen's consents, newest first, each with its whole history.

    Queries: 1 consents (with service and pairwise id) + 1 status records + 1 key (none when
    the caller passes the citizen's `vault`), whatever the number of consents.
    """
    consents = list(_citizen_consents_loaded(citizen).order_by("-given_at", "pk"))
    if not consents:
        return []
    if vault is None or vault.generation != citizen.data_key_generation:
        vault = citizen_reading_required(citizen)
    now = timezone.now()
    return [_consent_view(consent, vault, now=now) for consent in consents]


def citizen_consent(*, citizen: Citizen, consent_id: uuid.UUID) -> ConsentView | None:
    """One of the citizen's consents, as `citizen_consents` shows it; None if it is not theirs.

    Queries: 1 consent (with service and pairwise id) + 1 status records + 1 key.
    """
    consent = _citizen_consents_loaded(citizen).filter(pk=consent_id).first()
    if consent is None:
        return None
    return _consent_view(consent, citizen_reading_required(citizen), now=timezone.now())


def _citizen_consents_loaded(citizen: Citizen) -> QuerySet[Consent]:
    return (
        consents_with_state()
        .filter(citizen=citizen)
        .select_related("service", "subject")
        .prefetch_related("statuses")
    )


def _consent_view(consent: Consent, vault: Vault, *, now: datetime) -> ConsentView:
    contents = consent_contents(consent, vault)
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
    return ConsentView(
        consent=consent,
        state=effective_state(consent, now=now),
        fields=contents["fields"],
        purpose=contents["purpose"],
        history=history,
        loa=contents.get("loa"),
    )


def consent_receipt(*, citizen: Citizen, consent_id: uuid.UUID) -> str | None:
    """The compact JWS of the consent's receipt, for its citizen only."""
    consent = Consent.objects.filter(pk=consent_id, citizen=citizen).first()
    if consent is None:
        return None
    return citizen_reading_required(citizen).open_text(
        CONSENT_RECEIPT, row_id=consent.pk, ciphertext=consent.receipt
    )


# The pages' view of requests and consents: text in three languages (`wallet.catalogue.Labels`)
# for the page to pick from with `|localized`; field ids in plain language from the catalogue.


@dataclass(frozen=True)
class FieldShown:
    id: str
    labels: Labels
    sensitive: bool


def fields_shown(field_ids: list[str]) -> list[FieldShown]:
    """Catalogue labels of `field_ids`, in their order. An id the catalogue no longer knows (a
    source gone since) shows as itself and counts as sensitive."""
    shown = []
    for field_id in field_ids:
        try:
            field = catalogue.field_by_id(field_id)
        except KeyError:
            shown.append(FieldShown(field_id, Labels(field_id, field_id, field_id), True))
        else:
            shown.append(FieldShown(field_id, field.labels, field.sensitive))
    return shown


def service_name(service: Service) -> Labels:
    return Labels(service.name_fi, service.name_sv, service.name_en)


def service_description(service: Service) -> Labels:
    return Labels(service.description_fi, service.description_sv, service.description_en)


def purpose_description(purpose: ServicePurpose | dict[str, Any]) -> Labels:
    """A registered purpose's description, or the snapshot a consent keeps of it."""
    if isinstance(purpose, ServicePurpose):
        return Labels(purpose.description_fi, purpose.description_sv, purpose.description_en)
    text = purpose.get("description") or {}
    fallback = text.get("en") or purpose.get("code", "")
    return Labels(text.get("fi") or fallback, text.get("sv") or fallback, fallback)


@dataclass(frozen=True)
class RequestShown:
    """A consent request as the citizen's pages show it."""

    request: ConsentRequest
    state: str
    service_name: Labels
    service_description: Labels
    purpose: Labels
    fields: list[FieldShown]

    @property
    def id(self) -> str:
        return self.request.pk

    @property
    def sensitive(self) -> bool:
        return any(f.sensitive for f in self.fields)


def request_shown(request: ConsentRequest, *, now: datetime | None = None) -> RequestShown:
    """`request` with its service and purpose loaded (select_related): no query."""
    return RequestShown(
        request=request,
        state=request_effective_state(request, now=now),
        service_name=service_name(request.service),
        service_description=service_description(request.service),
        purpose=purpose_description(request.purpose),
        fields=fields_shown(list(request.fields)),
    )


def consent_requests_pending_shown(*, citizen: Citizen) -> list[RequestShown]:
    """The pending requests page: newest first. 1 query."""
    now = timezone.now()
    return [request_shown(r, now=now) for r in consent_requests_pending(citizen=citizen)]


@dataclass(frozen=True)
class ConsentShown:
    """A consent as the citizen's pages show it, with when it was given, ends and was ended."""

    view: ConsentView
    service_name: Labels
    purpose: Labels
    fields: list[FieldShown]
    ended_at: datetime | None

    @property
    def id(self) -> uuid.UUID:
        return self.view.id

    @property
    def reference(self) -> str:
        """The short reference the access log shows for the consent a read rested on."""
        return str(self.view.id)[:8]

    @property
    def state(self) -> str:
        return self.view.state

    @property
    def in_force(self) -> bool:
        return self.view.state == ConsentState.GIVEN


def citizen_consents_shown(*, citizen: Citizen) -> list[ConsentShown]:
    """The consents page: as `citizen_consents` (2 queries + 1 key, whatever the number)."""
    shown = []
    for view in citizen_consents(citizen=citizen):
        ended = [s.recorded_at for s in view.history if s.state != ConsentState.GIVEN]
        shown.append(
            ConsentShown(
                view=view,
                service_name=service_name(view.service),
                purpose=purpose_description(view.purpose),
                fields=fields_shown(view.fields),
                ended_at=ended[-1] if ended else None,
            )
        )
    return shown
