from __future__ import annotations

from typing import Any

import graphene

from connectors import services
from connectors.graphql.types import SourceSyncResult
from wallet.graphql.errors import Error
from wallet.graphql.permissions import citizen_required, principal_of


class SyncMyData(graphene.Mutation):
    """Fetch the signed-in citizen's data from every source now; one result per source."""

    sources = graphene.List(graphene.NonNull(SourceSyncResult), required=True)
    errors = graphene.List(graphene.NonNull(Error), required=True)

    @staticmethod
    @citizen_required
    def mutate(root: Any, info: Any) -> SyncMyData:
        principal = principal_of(info)
        assert principal is not None
        runs = services.citizen_sync(citizen=principal.citizen, trigger="citizen")
        return SyncMyData(sources=runs, errors=[])


class Mutation(graphene.ObjectType):
    sync_my_data = SyncMyData.Field()
