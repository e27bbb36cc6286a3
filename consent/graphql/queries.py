from __future__ import annotations

import re
import uuid
from typing import Any

import graphene

from consent.graphql.errors import raise_api_error
from consent.graphql.types import CitizenDataType, ConsentRequestType
from consent.selectors import consent_receipt, consent_request_for_service
from consent.services import ConsentError, citizen_data_read, consent_request_open
from wallet.graphql.errors import ApiError, ErrorCode
from wallet.graphql.permissions import citizen_required, principal_of, service_of, service_required

# A caller's own X-Request-ID is kept when it is short and plain; otherwise the wallet makes one.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def _request_id(info: Any) -> str:
    given = info.context.headers.get("X-Request-ID", "")
    return given if _REQUEST_ID.match(given) else str(uuid.uuid4())


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ApiError(f"`{field}` is not a valid id.", ErrorCode.INVALID) from None


class Query(graphene.ObjectType):
    consent_request = graphene.Field(
        ConsentRequestType,
        id=graphene.String(required=True),
        description=(
            "A consent request. Services see their own; a citizen sees one hinted to them or "
            "not yet anyone's (opening an unhinted request makes it theirs)."
        ),
    )
    consent_receipt = graphene.String(
        id=graphene.ID(required=True, description="The consent's id."),
        description=(
            "The consent's Kantara v1.1 receipt as a compact JWS, signed with a key published "
            "at /.well-known/jwks.json. Citizens only, their own consents."
        ),
    )
    citizen_data = graphene.Field(
        CitizenDataType,
        citizen_id=graphene.ID(required=True, description="The pairwise id from the consent."),
        fields=graphene.List(
            graphene.NonNull(graphene.String),
            description="Field ids wanted (default: every field the service registered).",
        ),
        description="Services only: the fields the citizen's consents in force allow, no more.",
    )

    @staticmethod
    def resolve_consent_request(root: Any, info: Any, id: str) -> Any:
        service = service_of(info)
        if service is not None:
            request = consent_request_for_service(service=service.service, request_id=id)
            if request is None:
                raise ApiError("No such consent request.", ErrorCode.NOT_FOUND)
            return request
        return _consent_request_for_citizen(root, info, id)

    @staticmethod
    @citizen_required
    def resolve_consent_receipt(root: Any, info: Any, id: str) -> str:
        principal = principal_of(info)
        assert principal is not None
        receipt = consent_receipt(citizen=principal.citizen, consent_id=_uuid(id, "id"))
        if receipt is None:
            raise ApiError("No such consent.", ErrorCode.NOT_FOUND)
        return receipt

    @staticmethod
    @service_required
    def resolve_citizen_data(
        root: Any, info: Any, citizen_id: str, fields: list[str] | None = None
    ) -> Any:
        service = service_of(info)
        assert service is not None
        try:
            read = citizen_data_read(
                service=service.service,
                pairwise_id=_uuid(citizen_id, "citizenId"),
                request_id=_request_id(info),
                field_ids=fields,
            )
        except ConsentError as error:
            raise_api_error(error)
        if read is None:
            raise ApiError("No citizen with this id has a consent for you.", ErrorCode.NOT_FOUND)
        return read


@citizen_required
def _consent_request_for_citizen(root: Any, info: Any, id: str) -> Any:
    principal = principal_of(info)
    assert principal is not None
    try:
        return consent_request_open(citizen=principal.citizen, request_id=id)
    except ConsentError as error:
        raise_api_error(error)
