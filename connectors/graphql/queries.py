from __future__ import annotations

from typing import Any

import graphene

from connectors import base
from connectors.graphql.types import ConnectorType, SyncMode, SyncRunNode, SyncStatus
from connectors.selectors import connector_states, sync_runs
from wallet.graphql.connections import PagedConnectionField
from wallet.graphql.permissions import staff_required


class Query(graphene.ObjectType):
    connectors = graphene.List(
        graphene.NonNull(ConnectorType), required=True, description="Admins only."
    )
    sync_runs = PagedConnectionField(
        SyncRunNode,
        source=graphene.String(),
        status=graphene.Argument(SyncStatus),
        mode=graphene.Argument(SyncMode),
        description="Admins only. Newest first; at most 100 a page.",
    )

    @staticmethod
    @staff_required
    def resolve_connectors(root: Any, info: Any) -> list[Any]:
        return connector_states(connectors=base.connectors())

    @staticmethod
    @staff_required
    def resolve_sync_runs(root: Any, info: Any, **filters: Any) -> Any:
        return sync_runs(
            source=filters.get("source"),
            status=getattr(filters.get("status"), "value", filters.get("status")),
            mode=getattr(filters.get("mode"), "value", filters.get("mode")),
        )
