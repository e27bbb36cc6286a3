from __future__ import annotations

import uuid
from typing import Any

import graphene

from consent.graphql.errors import mutation_error
from consent.graphql.types import ConsentRequestType
from consent.services import (
    ConsentError,
    consent_request_create,
    consent_request_decide,
    consent_withdraw,
)
from wallet.graphql.errors import Error, ErrorCode
from wallet.graphql.permissions import citizen_required, principal_of, service_of, service_required


class RequestConsent(graphene.Mutation):
    """Services: ask a citizen for consent to named fields for one of your registered purposes.
    Send the citizen's browser to `request.approvalUrl`; after the decision it returns to
    `redirectUri` with `consent_request` and `state` in the query string."""

    class Arguments:
        fields = graphene.List(graphene.NonNull(graphene.String), required=True)
        purpose = graphene.String(required=True, description="A purpose code you registered.")
        expires_at = graphene.DateTime(description="When the consent ends (default: never).")
        citizen_hint = graphene.String(
            description="The `sub` you saw at your own login: the request waits in their list."
        )
        redirect_uri = graphene.String(required=True, description="One you registered.")

    request = graphene.Field(ConsentRequestType)
    errors = graphene.List(graphene.NonNull(Error), required=True)

    @staticmethod
    @service_required
    def mutate(root: Any, info: Any, **arguments: Any) -> RequestConsent:
        service = service_of(info)
        assert service is not None
        try:
            request = consent_request_create(
                service=service.service,
                field_ids=arguments["fields"],
                purpose_code=arguments["purpose"],
                redirect_uri=arguments["redirect_uri"],
                consent_expires_at=arguments.get("expires_at"),
                citizen_hint=arguments.get("citizen_hint"),
            )
        except ConsentError as error:
            return RequestConsent(request=None, errors=[mutation_error(error)])
        return RequestConsent(request=request, errors=[])


class DecideConsentRequest(graphene.Mutation):
    """Citizens: approve or refuse a consent request. Approving gives a consent and its receipt."""

    class Arguments:
        id = graphene.String(required=True)
        approve = graphene.Boolean(required=True)

    request = graphene.Field(ConsentRequestType)
    consent_id = graphene.ID()
    redirect_url = graphene.String(description="Where the browser goes next: the service.")
    errors = graphene.List(graphene.NonNull(Error), required=True)

    @staticmethod
    @citizen_required
    def mutate(root: Any, info: Any, id: str, approve: bool) -> DecideConsentRequest:
        principal = principal_of(info)
        assert principal is not None
        try:
            decision = consent_request_decide(
                citizen=principal.citizen, loa=principal.loa, request_id=id, approve=approve
            )
        except ConsentError as error:
            return DecideConsentRequest(errors=[mutation_error(error)])
        return DecideConsentRequest(
            request=decision.request,
            consent_id=decision.consent.pk if decision.consent else None,
            redirect_url=decision.redirect_url,
            errors=[],
        )


class WithdrawConsent(graphene.Mutation):
    """Citizens: withdraw a consent. The service's very next read gets nothing it covered."""

    class Arguments:
        id = graphene.ID(required=True)

    withdrawn_at = graphene.DateTime()
    errors = graphene.List(graphene.NonNull(Error), required=True)

    @staticmethod
    @citizen_required
    def mutate(root: Any, info: Any, id: str) -> WithdrawConsent:
        principal = principal_of(info)
        assert principal is not None
        try:
            consent_id = uuid.UUID(id)
        except ValueError:
            return WithdrawConsent(
                errors=[Error(field="id", message="No such consent.", code=ErrorCode.NOT_FOUND)]
            )
        try:
            status = consent_withdraw(citizen=principal.citizen, consent_id=consent_id)
        except ConsentError as error:
            return WithdrawConsent(errors=[mutation_error(error)])
        return WithdrawConsent(withdrawn_at=status.recorded_at, errors=[])


class Mutation(graphene.ObjectType):
    request_consent = RequestConsent.Field()
    decide_consent_request = DecideConsentRequest.Field()
    withdraw_consent = WithdrawConsent.Field()
