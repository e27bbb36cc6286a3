from __future__ import annotations

from typing import Any

import graphene
from django.contrib.auth import logout

from wallet.auth.principal import Via
from wallet.export import citizen_export
from wallet.graphql.errors import Error, ErrorCode
from wallet.graphql.permissions import citizen_required, principal_of
from wallet.services import citizen_erase


class EraseMyData(graphene.Mutation):
    """Erase everything the wallet holds about the signed-in citizen. The data key is destroyed
    first, so no copy of the data (backups included) can be read afterwards. Cannot be undone."""

    class Arguments:
        confirm = graphene.Boolean(required=True, description="Must be true.")

    erased = graphene.Boolean(required=True)
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
        citizen_erase(citizen=principal.citizen)
        if principal.via == Via.SESSION:
            logout(info.context)
        return EraseMyData(erased=True, errors=[])


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
