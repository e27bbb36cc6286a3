"""Consent records in the shape of ISO/IEC TS 27560:2023, written with the W3C Data Privacy
Vocabulary (DPV 2.x) as the DPV community group's guide "Consent Records and Receipts as per
ISO/IEC TS 27560:2023 using DPV" lays them out (profile `dpv-27560:record`).

A record is a JSON-LD document another MyData operator can import: what the citizen consented to
(purpose, fields), for whom (the service's controller), on what legal basis, and each event of the
consent's history. It names the citizen only by their pairwise id for the service, as the Kantara
receipt does (consent/receipts.py), and links to that receipt.

docs/consent-records.md maps our model to the standard's fields; the shape is described by
docs/schemas/iso27560-consent-record-v1.schema.json. The same consent in the same state gives the
same record: nothing in it depends on when it is built, except that a given consent past its end
reads as expired (as it does everywhere, see `consent.selectors.effective_state`).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from consent.conf import consent_setting
from consent.models import (
    CONSENT_STATE_UNKNOWN,
    Consent,
    ConsentState,
    ConsentStatus,
    PurposeCategory,
    RequestState,
)
from consent.receipts import COLLECTION_METHOD, RECEIPT_VERSION
from consent.selectors import (
    ConsentView,
    citizen_consent,
    fields_shown,
    purpose_description,
    service_description,
    service_name,
)
from wallet.catalogue import Labels
from wallet.models import Citizen

# The version of the shape below: docs/schemas/iso27560-consent-record-v1.schema.json has this
# `$id`. A `tag:` URI (RFC 4151): a name, not a place to fetch the schema from.
SCHEMA_ID = "tag:hel.fi,2025:oma-wallet/iso27560-consent-record-v1"
PROFILE = "dpv-27560:record"
WALLET_NAME = "Oma.Helsinki wallet"

NAMESPACES = {
    "dpv": "https://w3id.org/dpv#",
    "pd": "https://w3id.org/dpv/pd#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "legal-eu": "https://w3id.org/dpv/legal/eu#",
    "loc": "https://w3id.org/dpv/loc#",
    "dpv-27560": "https://w3id.org/dpv/schema/dpv-27560#",
    "dct": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "schema": "https://schema.org/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

# Every term a record may use, by namespace: the records' tests fail on any other, so a typo in
# an IRI cannot slip out. Each DPV, DPV-PD, EU-GDPR, legal and location term was checked against
# DPV 2.3's published vocabulary.
TERMS: dict[str, frozenset[str]] = {
    "dpv": frozenset(
        {
            # classes
            "ConsentRecord",
            "ConsentReceipt",
            "DataSubject",
            "DataController",
            "Entity",
            "Process",
            "Purpose",
            "PersonalData",
            "SensitivePersonalData",
            "Service",
            "PrivacyNotice",
            "ConsentNotice",
            "ThirdParty",
            "ExplicitlyExpressedConsent",
            "DataSubjectRight",
            "WithdrawConsent",
            "UntilTimeDuration",
            "UntilEventDuration",
            # processing operations
            "Collect",
            "Use",
            # consent statuses
            "ConsentRequested",
            "ConsentGiven",
            "ConsentRefused",
            "ConsentWithdrawn",
            "ConsentExpired",
            "ConsentUnknown",
            # purposes
            "ServiceProvision",
            "RequestedServiceProvision",
            "DeliveryOfGoods",
            "CommunicationManagement",
            "ServicePersonalisation",
            "DirectMarketing",
            "Marketing",
            "LegalCompliance",
            "ServiceOptimisation",
            # properties
            "hasDataSubject",
            "hasJurisdiction",
            "hasApplicableLaw",
            "hasNotice",
            "hasProcess",
            "hasPurpose",
            "hasPersonalData",
            "hasProcessing",
            "hasDataController",
            "hasRecipient",
            "hasLegalBasis",
            "hasService",
            "hasEntity",
            "hasName",
            "hasConsentControl",
            "isExercisedAt",
            "hasRight",
            "hasConsentStatus",
            "isIndicatedAtTime",
            "isIndicatedBy",
            "hasIndicationMethod",
            "hasDuration",
        }
    ),
    "pd": frozenset(
        {
            "Name",
            "EmailAddress",
            "TelephoneNumber",
            "PhysicalAddress",
            "Language",
            "BirthDate",
            "School",
        }
    ),
    "eu-gdpr": frozenset({"A6-1-a", "A7-3"}),
    "legal-eu": frozenset({"law-GDPR"}),
    # the jurisdiction setting's default; consent/conf.py holds any other to an ISO 3166-1 code,
    # the names DPV gives countries
    "loc": frozenset({"FI"}),
    "dpv-27560": frozenset({"record"}),
    "dct": frozenset(
        {
            "identifier",
            "conformsTo",
            "publisher",
            "relation",
            "title",
            "description",
            "language",
            "format",
        }
    ),
    "skos": frozenset({"broader", "prefLabel"}),
    "schema": frozenset(
        {
            "url",
            "address",
            "PostalAddress",
            "streetAddress",
            "contactPoint",
            "ContactPoint",
            "name",
            "email",
            "telephone",
        }
    ),
    "rdf": frozenset({"value"}),
    "xsd": frozenset({"dateTime"}),
}

# Properties whose string values are IRIs (compact or blank-node ids), not text; the event list
# keeps its order; the texts given in three languages are language maps.
_IRI_VALUED = (
    "dct:conformsTo",
    "dct:publisher",
    "dpv:hasProcessing",
    "dpv:hasLegalBasis",
    "dpv:hasJurisdiction",
    "dpv:hasApplicableLaw",
    "dpv:hasDataController",
    "dpv:hasRecipient",
    "dpv:isIndicatedBy",
    "dpv:isExercisedAt",
    "skos:broader",
    "schema:url",
)
_LANGUAGE_MAPS = ("dct:title", "dct:description", "skos:prefLabel")

CONTEXT: dict[str, Any] = {
    **NAMESPACES,
    **{term: {"@type": "@id"} for term in _IRI_VALUED},
    **{term: {"@container": "@language"} for term in _LANGUAGE_MAPS},
    "dpv:hasConsentStatus": {"@container": "@list"},
    "dpv:isIndicatedAtTime": {"@type": "xsd:dateTime"},
}

# Kantara Consent Receipt v1.1 purpose categories (consent.models.PurposeCategory) as DPV
# purposes: the concept the purpose is a narrower case of (`skos:broader`). Where DPV has no
# purpose that says the same, the purpose is only a `dpv:Purpose`.
PURPOSE_CONCEPTS: dict[str, str] = {
    # "carry out the core functions of our service"
    PurposeCategory.CORE_FUNCTION: "dpv:ServiceProvision",
    # "providing contracted or requested services to you"
    PurposeCategory.CONTRACTED_SERVICE: "dpv:RequestedServiceProvision",
    # "delivering physical goods to you"
    PurposeCategory.DELIVERY: "dpv:DeliveryOfGoods",
    # "communicating with you about what you specifically request"
    PurposeCategory.CONTACT_REQUESTED: "dpv:CommunicationManagement",
    # "a personalised experience of our service"
    PurposeCategory.PERSONALIZED_EXPERIENCE: "dpv:ServicePersonalisation",
    # "communicating with you about our other services": marketing addressed to the person
    PurposeCategory.MARKETING: "dpv:DirectMarketing",
    # the same, about third parties' services
    PurposeCategory.MARKETING_THIRD_PARTIES: "dpv:DirectMarketing",
    # third parties deliver our service on our behalf: still providing the service; the third
    # parties show as recipients (`dpv:ThirdParty`) when the purpose discloses to them
    PurposeCategory.SHARING_FOR_DELIVERY: "dpv:ServiceProvision",
    # third parties market their own services to you
    PurposeCategory.SHARING_FOR_MARKETING: "dpv:Marketing",
    # third parties deliver or improve their own services to you
    PurposeCategory.THIRD_PARTY_CORE: "dpv:ServiceProvision",
    # "3rd party sharing for ...": the category names no purpose
    PurposeCategory.THIRD_PARTY_OTHER: "dpv:Purpose",
    # record keeping the law requires
    PurposeCategory.LEGALLY_REQUIRED: "dpv:LegalCompliance",
    # handing data to authorities as the law requires
    PurposeCategory.REQUIRED_BY_LAW: "dpv:LegalCompliance",
    # vital interests are a legal basis in DPV, not a purpose
    PurposeCategory.PROTECTING_HEALTH: "dpv:Purpose",
    # legitimate interests: likewise a legal basis, not a purpose
    PurposeCategory.PROTECTING_INTERESTS: "dpv:Purpose",
    # "measure or improve our performance or the delivery of our services"
    PurposeCategory.IMPROVE_PERFORMANCE: "dpv:ServiceOptimisation",
}

# Catalogue fields whose values are plainly of a DPV-PD category. Deliberately few: a field left
# out is still listed (its id and labels), only without a category. The guardian's fields are the
# guardian's name, phone and email: the category describes the value, whoever it belongs to.
PERSONAL_DATA_CONCEPTS: dict[str, str] = {
    "profile.first_name": "pd:Name",
    "profile.last_name": "pd:Name",
    "profile.nickname": "pd:Name",
    "profile.email": "pd:EmailAddress",
    "profile.phone": "pd:TelephoneNumber",
    "profile.address": "pd:PhysicalAddress",
    "profile.preferred_language": "pd:Language",
    "youth.membership.birth_date": "pd:BirthDate",
    "youth.membership.school_name": "pd:School",
    "youth.membership.school_class": "pd:School",
    "youth.membership.language_at_home": "pd:Language",
    "youth.membership.approver_first_name": "pd:Name",
    "youth.membership.approver_last_name": "pd:Name",
    "youth.membership.approver_phone": "pd:TelephoneNumber",
    "youth.membership.approver_email": "pd:EmailAddress",
}

# Our states (consent.models.ConsentState, RequestState and the derived "unknown") as DPV consent
# statuses. A consent's history holds given, withdrawn and expired; the others are listed so a
# state never falls through unnamed.
STATUS_CONCEPTS: dict[str, str] = {
    RequestState.REQUESTED: "dpv:ConsentRequested",
    ConsentState.GIVEN: "dpv:ConsentGiven",
    RequestState.REFUSED: "dpv:ConsentRefused",
    ConsentState.WITHDRAWN: "dpv:ConsentWithdrawn",
    ConsentState.EXPIRED: "dpv:ConsentExpired",
    CONSENT_STATE_UNKNOWN: "dpv:ConsentUnknown",
}

# GDPR Art. 6(1)(a) consent, and the kind of consent: the citizen approves on a page about this
# one consent only (the Kantara receipt's consentType EXPLICIT).
LEGAL_BASIS = ["eu-gdpr:A6-1-a", "dpv:ExplicitlyExpressedConsent"]
APPLICABLE_LAW = "legal-eu:law-GDPR"
# The service collects the consented fields from the wallet and uses them for the purpose.
PROCESSING = ["dpv:Collect", "dpv:Use"]

# How each event came about, as the record says it (`dpv:hasIndicationMethod`).
_INDICATION_METHODS: dict[tuple[str, str], str] = {
    (ConsentState.GIVEN, ConsentStatus.Actor.CITIZEN): COLLECTION_METHOD,
    (ConsentState.WITHDRAWN, ConsentStatus.Actor.CITIZEN): (
        "The citizen, signed in to the Oma.Helsinki wallet, withdrew it."
    ),
    (ConsentState.EXPIRED, ConsentStatus.Actor.SYSTEM): (
        "Its end time passed; the Oma.Helsinki wallet recorded the expiry."
    ),
}
_INDICATION_BY_ACTOR: dict[str, str] = {
    ConsentStatus.Actor.CITIZEN: "The citizen, signed in to the Oma.Helsinki wallet.",
    ConsentStatus.Actor.SYSTEM: "Recorded by the Oma.Helsinki wallet.",
}
_EXPIRY_NOT_YET_RECORDED = (
    "Its end time passed. The Oma.Helsinki wallet has not recorded the expiry yet; it allows no "
    "processing from this time on."
)
_NOTHING_RECORDED = "No record of this consent's state is left: it allows no processing."

_CONTROLLER = "_:controller"
_WALLET = "_:wallet"


class StatusLike(Protocol):
    """A link of a consent's history: a `ConsentStatus`, or the `StatusView` a selector made."""

    @property
    def seq(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def recorded_at(self) -> datetime: ...


def consent_record(*, citizen: Citizen, consent_id: uuid.UUID) -> dict[str, Any] | None:
    """The record of one of the citizen's consents; None if it is not theirs.

    Queries: 1 consent (with service and pairwise id) + 1 status records + 1 key.
    """
    view = citizen_consent(citizen=citizen, consent_id=consent_id)
    return consent_record_of_view(view) if view is not None else None


def consent_record_of_view(view: ConsentView, *, now: datetime | None = None) -> dict[str, Any]:
    """The record of a consent `consent.selectors.citizen_consents` returned: no query."""
    contents = {"fields": view.fields, "purpose": view.purpose}
    return consent_record_build(
        consent=view.consent, contents=contents, statuses=view.history, now=now
    )


def consent_record_build(
    *,
    consent: Consent,
    contents: Mapping[str, Any],
    statuses: Sequence[StatusLike],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ISO/IEC TS 27560 record of `consent`, from what a selector already holds: the consent
    with its `service` and `subject` loaded (select_related), its opened sealed contents
    (`{"fields": [...], "purpose": {...}}`) and its status records in any order. No query.
    """
    service = consent.service
    pairwise_id = consent.subject.pairwise_id
    subject = f"urn:uuid:{pairwise_id}"
    purpose = contents["purpose"]
    history = sorted(statuses, key=lambda status: status.seq)
    process: dict[str, Any] = {
        "@type": "dpv:Process",
        "dpv:hasPurpose": {
            "@type": "dpv:Purpose",
            "dct:identifier": purpose.get("code", ""),
            "dct:description": _languages(purpose_description(purpose)),
            "skos:broader": PURPOSE_CONCEPTS.get(purpose.get("category", ""), "dpv:Purpose"),
        },
        "dpv:hasPersonalData": [
            _personal_data(field) for field in fields_shown(contents["fields"])
        ],
        "dpv:hasProcessing": list(PROCESSING),
        "dpv:hasDataController": _CONTROLLER,
        "dpv:hasRecipient": [_CONTROLLER]
        + (["dpv:ThirdParty"] if purpose.get("third_party_disclosure") else []),
        "dpv:hasLegalBasis": list(LEGAL_BASIS),
        "dpv:hasService": {
            "@type": "dpv:Service",
            "dct:identifier": service.slug,
            "dct:title": _languages(service_name(service)),
            "dct:description": _languages(service_description(service)),
        },
    }
    consents_page = _wallet_url("consents")
    return {
        "@context": copy.deepcopy(CONTEXT),  # the caller may change its record, not ours
        "@id": f"urn:uuid:{consent.pk}",
        "@type": "dpv:ConsentRecord",
        "dct:identifier": str(consent.pk),
        "dct:conformsTo": [PROFILE, SCHEMA_ID],
        "dct:publisher": _WALLET,
        "dpv:hasDataSubject": {
            "@id": subject,
            "@type": "dpv:DataSubject",
            "dct:identifier": str(pairwise_id),
            "dct:description": {
                "en": "The citizen's pairwise identifier for this service: the service knows "
                "the citizen by it, no other service does."
            },
        },
        "dpv:hasJurisdiction": _jurisdiction(),
        "dpv:hasApplicableLaw": APPLICABLE_LAW,
        "dpv:hasNotice": [
            {
                "@id": service.privacy_policy_url,
                "@type": "dpv:PrivacyNotice",
                "schema:url": service.privacy_policy_url,
            },
            {
                "@type": "dpv:ConsentNotice",
                "dct:description": {
                    "en": "The wallet's approval page: the service, its description, the purpose "
                    "and the fields, shown to the citizen before they decided."
                },
                "dct:language": ["fi", "sv", "en"],
            },
        ],
        "dpv:hasProcess": [process],
        "dpv:hasEntity": [_controller(consent), _wallet()],
        "dpv:hasConsentControl": [
            {"@type": "dpv:WithdrawConsent", "dpv:isExercisedAt": consents_page}
        ],
        "dpv:hasRight": [
            {
                "@type": ["dpv:DataSubjectRight", "eu-gdpr:A7-3"],
                "dct:title": {"en": "Right to withdraw consent"},
                "dpv:isExercisedAt": consents_page,
            }
        ],
        "dpv:hasConsentStatus": _events(consent, history, subject, now=now or timezone.now()),
        "dct:relation": [
            {
                "@id": f"urn:uuid:{consent.receipt_id}",
                "@type": "dpv:ConsentReceipt",
                "dct:identifier": str(consent.receipt_id),
                "dct:format": "application/jose",
                "dct:description": {
                    "en": f"The consent's Kantara Consent Receipt ({RECEIPT_VERSION}), a JWS "
                    f"signed with a key published at {_wallet_url('jwks')}."
                },
            }
        ],
    }


def _events(
    consent: Consent, history: list[StatusLike], subject: str, *, now: datetime
) -> list[dict[str, Any]]:
    """Each status record, oldest first; then the expiry if the end time has passed and no
    record says so yet (the state every read already goes by)."""
    if not history:
        return [
            {
                "@type": STATUS_CONCEPTS[CONSENT_STATE_UNKNOWN],
                "dct:description": {"en": _NOTHING_RECORDED},
            }
        ]
    events = []
    for status in history:
        by_citizen = status.actor == ConsentStatus.Actor.CITIZEN
        event: dict[str, Any] = {
            "@type": STATUS_CONCEPTS.get(status.state, STATUS_CONCEPTS[CONSENT_STATE_UNKNOWN]),
            "dpv:isIndicatedAtTime": _utc(status.recorded_at),
            "dpv:isIndicatedBy": subject if by_citizen else _WALLET,
            "dpv:hasIndicationMethod": _INDICATION_METHODS.get(
                (status.state, status.actor), _INDICATION_BY_ACTOR.get(status.actor, "")
            ),
        }
        if status.state == ConsentState.GIVEN:
            event["dpv:hasDuration"] = _duration(consent.expires_at)
        events.append(event)
    expires_at = consent.expires_at
    if history[-1].state == ConsentState.GIVEN and expires_at is not None and expires_at <= now:
        events.append(
            {
                "@type": STATUS_CONCEPTS[ConsentState.EXPIRED],
                "dpv:isIndicatedAtTime": _utc(expires_at),
                "dpv:isIndicatedBy": _WALLET,
                "dpv:hasIndicationMethod": _EXPIRY_NOT_YET_RECORDED,
            }
        )
    return events


def _duration(expires_at: datetime | None) -> dict[str, Any]:
    if expires_at is not None:
        return {
            "@type": "dpv:UntilTimeDuration",
            "rdf:value": {"@value": _utc(expires_at), "@type": "xsd:dateTime"},
        }
    return {
        "@type": "dpv:UntilEventDuration",
        "rdf:value": "Until the citizen withdraws it in the Oma.Helsinki wallet.",
    }


def _personal_data(field: Any) -> dict[str, Any]:
    """A consented field (a `consent.selectors.FieldShown`): its catalogue id and labels, marked
    sensitive as the catalogue marks it, with its DPV-PD category where it has a plain one."""
    data: dict[str, Any] = {
        "@type": "dpv:SensitivePersonalData" if field.sensitive else "dpv:PersonalData",
        "dct:identifier": field.id,
        "skos:prefLabel": _languages(field.labels),
    }
    category = PERSONAL_DATA_CONCEPTS.get(field.id)
    if category is not None:
        data["skos:broader"] = category
    return data


def _controller(consent: Consent) -> dict[str, Any]:
    service = consent.service
    contact: dict[str, Any] = {
        "@type": "schema:ContactPoint",
        "schema:email": service.controller_email,
    }
    if service.controller_contact:
        contact["schema:name"] = service.controller_contact
    if service.controller_phone:
        contact["schema:telephone"] = service.controller_phone
    return {
        "@id": _CONTROLLER,
        "@type": "dpv:DataController",
        "dpv:hasName": service.controller_name,
        "schema:address": {
            "@type": "schema:PostalAddress",
            "schema:streetAddress": service.controller_address,
        },
        "schema:contactPoint": contact,
        "schema:url": service.privacy_policy_url,
    }


def _wallet() -> dict[str, Any]:
    return {
        "@id": _WALLET,
        "@type": "dpv:Entity",
        "dpv:hasName": WALLET_NAME,
        "schema:url": settings.WALLET_BASE_URL + "/",
    }


def _jurisdiction() -> str:
    # consent/conf.py holds the setting to an ISO 3166-1 alpha-2 code: DPV's location concepts
    # are named by them (loc:FI).
    return f"loc:{consent_setting('JURISDICTION')}"


def _wallet_url(name: str) -> str:
    return settings.WALLET_BASE_URL + reverse(name)


def _languages(labels: Labels) -> dict[str, str]:
    return {"fi": labels.fi, "sv": labels.sv, "en": labels.en}


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
