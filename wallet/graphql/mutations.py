from __future__ import annotations

from typing import Any

import graphene
from django.contrib.auth import logout
from django.urls import reverse

from wallet.auth.oidc import provider_logout_url
from wallet.auth.principal import Via
from wallet.erasure import citizen_erase
from wallet.export import citizen_export
from wallet.graphql.errors import Error, ErrorCode
from wallet.graphql.permissions import citizen_required, principal_of


class EraseMyData(graphene.Mutation):
    """Erase everything the wallet holds about you. Every consent you gave is withdrawn, and the
    services are told so; your data key is destroyed, so no copy of your data (backups
    included) can be read again; then your data is deleted and you are signed out everywhere.
    Tokens issued before the erasure are refused; signing in again starts a new, empty wallet.
    The city's own systems keep their own data. Cannot be undone."""

    class Arguments:
        confirm = graphene.Boolean(required=True, description="Must be true.")

    erased = graphene.Boolean(required=True)
    erased_at = graphene.DateTime(description="When the data was erased.")
    sign_out_url = graphene.String(
        description=(
            "Browser sessions: the wallet's sign-in is over; send the browser here to end the "
            'Helsinki login too (it comes back to the wallet\'s "data erased" page). Null for '
            "bearer tokens."
        )
    )
    errors = graphene.List(graphene.NonNull(Error), required=True)

    @staticmethod
    @citizen_required
    def mutate(root: Any, info: Any, confirm: bool) -> EraseMyData:
        if not confirm:
            return EraseMyData(
                erased=False,
                errors=[
                    Error(field="confirm", message="Confirm the erasure.", code=ErrorCode.INVALID)
                ],
            )
        principal = principal_of(info)
        assert principal is not None
        result = citizen_erase(citizen=principal.citizen)
        sign_out_url = None
        if principal.via == Via.SESSION:
            request = info.context
            sign_out_url = provider_logout_url(request, back_to=reverse("erased"))
            logout(request)
        return EraseMyData(
            erased=True, erased_at=result.erased_at, sign_out_url=sign_out_url, errors=[]
        )


class ExportDocument(graphene.JSONString):
    """A citizen's data export: the JSON document (docs/export.md), in a string. Its JSON Schema
    is the URL in its `$schema` member."""


class ExportMyData(graphene.Mutation):
    """Everything the wallet holds about the signed-in citizen, as one JSON document signed by
    the wallet (GDPR articles 15 and 20; the format, its JSON Schema and how to verify it are in
    docs/export.md). A mutation, not a query: each export is recorded."""

    # A JSON string, not GenericScalar: the export is a document to keep, and a string reaches
    # the client as one value that no client library walks, merges or re-types on the way.
    export = graphene.Field(ExportDocument, description="The export, `signature` included.")
    errors = graphene.List(graphene.NonNull(Error), required=True)

    @staticmethod
    @citizen_required
    def mutate(root: Any, info: Any) -> ExportMyData:
        principal = principal_of(info)
        assert principal is not None
        return ExportMyData(export=citizen_export(citizen=principal.citizen), errors=[])


class Mutation(graphene.ObjectType):
    erase_my_data = EraseMyData.Field()
    export_my_data = ExportMyData.Field()
