"""GraphQL types of services, consent requests, consents and consented reads.

Every type lists its fields; none is generated from a model.
"""

from __future__ import annotations

from typing import Any

import graphene
from graphene.types.generic import GenericScalar

from consent.iso27560 import consent_record_of_view
from consent.models import (
    CONSENT_STATE_UNKNOWN,
    ConsentRequest,
    ConsentState,
    ErasedConsent,
    RequestState,
    Service,
)
from consent.selectors import (
    ConsentView,
    approval_url,
    citizen_consents,
    consent_requests_pending,
    consent_state,
    request_effective_state,
)
from consent.services import ConsentedRead, ConsentedRecord
from wallet import catalogue
from wallet.graphql.types import MeRoot


class LocalizedText(graphene.ObjectType):
    fi = graphene.String(required=True)
    sv = graphene.String(required=True)
    en = graphene.String(required=True)


def _localized(obj: Any, prefix: str) -> dict[str, str]:
    return {lang: getattr(obj, f"{prefix}_{lang}") for lang in ("fi", "sv", "en")}


class ServiceType(graphene.ObjectType):
    class Meta:
        name = "Service"
        description = "A registered service that asks citizens for consent."

    id = graphene.String(required=True, description="The service's stable short name.")
    name = graphene.Field(LocalizedText, required=True)
    description = graphene.Field(LocalizedText, required=True)
    privacy_policy_url = graphene.String(required=True)

    @staticmethod
    def resolve_id(root: Service, info: Any) -> str:
        return root.slug

    @staticmethod
    def resolve_name(root: Service, info: Any) -> dict[str, str]:
        return _localized(root, "name")

    @staticmethod
    def resolve_description(root: Service, info: Any) -> dict[str, str]:
        return _localized(root, "description")


class CatalogueFieldType(graphene.ObjectType):
    class Meta:
        name = "CatalogueField"
        description = "A field of the catalogue, as consents and receipts name it."

    id = graphene.String(required=True)
    label = graphene.Field(LocalizedText, required=True)
    sensitive = graphene.Boolean(required=True)

    @staticmethod
    def resolve_id(root: str, info: Any) -> str:
        return root

    @staticmethod
    def resolve_label(root: str, info: Any) -> Any:
        return catalogue.field_by_id(root).labels

    @staticmethod
    def resolve_sensitive(root: str, info: Any) -> bool:
        return catalogue.field_by_id(root).sensitive


class PurposeType(graphene.ObjectType):
    class Meta:
        name = "ConsentPurpose"

    code = graphene.String(required=True)
    description = graphene.Field(LocalizedText, required=True)
    category = graphene.String(required=True, description="Kantara purpose category.")
    third_party_disclosure = graphene.Boolean(required=True)


def _purpose_of_request(request: ConsentRequest) -> dict[str, Any]:
    purpose = request.purpose
    return {
        "code": purpose.code,
        "description": _localized(purpose, "description"),
        "category": purpose.category,
        "third_party_disclosure": purpose.third_party_disclosure,
    }


class ConsentRequestStateEnum(graphene.Enum):
    """W3C DPV states of a request."""

    class Meta:
        name = "ConsentRequestState"

    REQUESTED = RequestState.REQUESTED.value
    GIVEN = RequestState.GIVEN.value
    REFUSED = RequestState.REFUSED.value
    EXPIRED = RequestState.EXPIRED.value
    WITHDRAWN = RequestState.WITHDRAWN.value


class ConsentStateEnum(graphene.Enum):
    """W3C DPV states of a consent: only `GIVEN` allows processing. `UNKNOWN`: no record of the
    consent's state is left (its history was deleted), so it is not in force."""

    class Meta:
        name = "ConsentState"

    GIVEN = ConsentState.GIVEN.value
    WITHDRAWN = ConsentState.WITHDRAWN.value
    EXPIRED = ConsentState.EXPIRED.value
    UNKNOWN = CONSENT_STATE_UNKNOWN


def _consent_given(request: ConsentRequest) -> Any:
    """The consent an approved request gave (None before approval, or if it was refused)."""
    return getattr(request, "consent", None) if request.state == RequestState.GIVEN else None


def _consent_erased(request: ConsentRequest) -> ErasedConsent | None:
    """What is left of the request's consent once its citizen erased their data."""
    if request.citizen_erased_at is None or request.state != RequestState.GIVEN:
        return None
    return getattr(request, "erased_consent", None)


class ConsentRequestType(graphene.ObjectType):
    class Meta:
        name = "ConsentRequest"

    id = graphene.String(required=True)
    state = graphene.Field(ConsentRequestStateEnum, required=True)
    service = graphene.Field(ServiceType, required=True)
    purpose = graphene.Field(PurposeType, required=True)
    fields = graphene.List(
        graphene.NonNull(CatalogueFieldType),
        required=True,
        description="What the service asks for; empty once decided (see the consent).",
    )
    consent_expires_at = graphene.DateTime(description="When the consent would end, if ever.")
    expires_at = graphene.DateTime(required=True, description="Decide before this.")
    created_at = graphene.DateTime(required=True)
    decided_at = graphene.DateTime()
    approval_url = graphene.String(required=True, description="Send the citizen's browser here.")
    citizen_id = graphene.ID(
        description="On approval: the citizen's pairwise id for this service (for citizenData)."
    )
    consent_id = graphene.ID(description="On approval: the consent given.")
    consent_state = graphene.Field(
        ConsentStateEnum,
        description="On approval: the consent's state now (withdrawn or expired later, maybe).",
    )
    citizen_erased_at = graphene.DateTime(
        description=(
            "When the citizen erased their data in the wallet, if they did: their consent was "
            "withdrawn then (consentState WITHDRAWN), a request still waiting was withdrawn "
            "(state WITHDRAWN), and citizenId is no longer given (citizenData with it answers "
            "CONSENT_WITHDRAWN)."
        )
    )

    @staticmethod
    def resolve_state(root: ConsentRequest, info: Any) -> Any:
        return ConsentRequestStateEnum.get(request_effective_state(root))

    @staticmethod
    def resolve_purpose(root: ConsentRequest, info: Any) -> dict[str, Any]:
        return _purpose_of_request(root)

    @staticmethod
    def resolve_approval_url(root: ConsentRequest, info: Any) -> str:
        return approval_url(root)

    @staticmethod
    def resolve_citizen_id(root: ConsentRequest, info: Any) -> Any:
        if root.citizen_erased_at is not None:
            return None
        consent = _consent_given(root)
        return consent.subject.pairwise_id if consent else None

    @staticmethod
    def resolve_consent_id(root: ConsentRequest, info: Any) -> Any:
        erased = _consent_erased(root)
        if erased is not None:
            return erased.consent_id
        consent = _consent_given(root)
        return consent.pk if consent else None

    @staticmethod
    def resolve_consent_state(root: ConsentRequest, info: Any) -> Any:
        erased = _consent_erased(root)
        if erased is not None:
            return ConsentStateEnum.get(erased.state)
        consent = _consent_given(root)
        state = consent_state(consent_id=consent.pk) if consent else None
        return ConsentStateEnum.get(state) if state else None


class ConsentStatusType(graphene.ObjectType):
    class Meta:
        name = "ConsentStatusRecord"
        description = "One link in a consent's history; each names the one before it."

    seq = graphene.Int(required=True)
    state = graphene.Field(ConsentStateEnum, required=True)
    actor = graphene.String(required=True, description="`citizen` or `system`.")
    recorded_at = graphene.DateTime(required=True)

    @staticmethod
    def resolve_state(root: Any, info: Any) -> Any:
        return ConsentStateEnum.get(root.state)


class ConsentType(graphene.ObjectType):
    class Meta:
        name = "Consent"

    id = graphene.ID(required=True)
    service = graphene.Field(ServiceType, required=True)
    fields = graphene.List(graphene.NonNull(CatalogueFieldType), required=True)
    purpose = graphene.Field(PurposeType, required=True)
    state = graphene.Field(ConsentStateEnum, required=True)
    given_at = graphene.DateTime(required=True)
    expires_at = graphene.DateTime()
    receipt_id = graphene.ID(required=True)
    service_citizen_id = graphene.ID(
        required=True, description="The pairwise id this service knows you by."
    )
    history = graphene.List(graphene.NonNull(ConsentStatusType), required=True)
    consent_record = graphene.JSONString(
        required=True,
        description=(
            "The consent as an ISO/IEC TS 27560 consent record: a JSON-LD document in the W3C "
            "Data Privacy Vocabulary (docs/consent-records.md) another operator can import."
        ),
    )

    @staticmethod
    def resolve_state(root: ConsentView, info: Any) -> Any:
        return ConsentStateEnum.get(root.state)

    @staticmethod
    def resolve_consent_record(root: ConsentView, info: Any) -> dict[str, Any]:
        return consent_record_of_view(root)

    @staticmethod
    def resolve_given_at(root: ConsentView, info: Any) -> Any:
        return root.consent.given_at

    @staticmethod
    def resolve_expires_at(root: ConsentView, info: Any) -> Any:
        return root.consent.expires_at

    @staticmethod
    def resolve_receipt_id(root: ConsentView, info: Any) -> Any:
        return root.consent.receipt_id

    @staticmethod
    def resolve_service_citizen_id(root: ConsentView, info: Any) -> Any:
        return root.consent.subject.pairwise_id


class FieldValue(graphene.ObjectType):
    field_id = graphene.String(required=True)
    value = GenericScalar(description="As the catalogue types it; dates as ISO 8601 strings.")


class ConsentedRecordType(graphene.ObjectType):
    class Meta:
        name = "ConsentedRecord"
        description = "One record of the citizen's, with only the fields they granted."

    kind = graphene.String(required=True, description="`profile`, `youth.membership`, …")
    values = graphene.List(graphene.NonNull(FieldValue), required=True)

    @staticmethod
    def resolve_values(root: ConsentedRecord, info: Any) -> list[dict[str, Any]]:
        return [{"field_id": k, "value": v} for k, v in root.values.items()]


class CitizenDataType(graphene.ObjectType):
    class Meta:
        name = "CitizenData"
        description = "A consented read: exactly the fields under a consent in force now."

    citizen_id = graphene.ID(required=True)
    request_id = graphene.String(
        required=True, description="Names this read in the citizen's access log."
    )
    records = graphene.List(graphene.NonNull(ConsentedRecordType), required=True)
    granted_fields = graphene.List(graphene.NonNull(graphene.String), required=True)
    withheld_fields = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="Fields asked for (or registered) that no consent in force covers.",
    )

    @staticmethod
    def resolve_records(root: ConsentedRead, info: Any) -> list[ConsentedRecord]:
        return root.records


class ConsentMeFields:
    """The consent app's part of `Me`."""

    consents = graphene.List(
        graphene.NonNull(ConsentType), required=True, description="Newest first, with history."
    )
    consent_requests = graphene.List(
        graphene.NonNull(ConsentRequestType),
        required=True,
        description="Requests waiting for your decision.",
    )

    @staticmethod
    def resolve_consents(root: MeRoot, info: Any) -> list[ConsentView]:
        return citizen_consents(citizen=root.wallet.citizen)

    @staticmethod
    def resolve_consent_requests(root: MeRoot, info: Any) -> list[ConsentRequest]:
        return consent_requests_pending(citizen=root.wallet.citizen)
