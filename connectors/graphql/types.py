from typing import Any

import graphene

from connectors.models import SyncRun


class SyncStatus(graphene.Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"


class SourceSyncResult(graphene.ObjectType):
    """How one source's sync for the citizen went. `message` is a safe reason, never data."""

    source = graphene.String(required=True)
    status = graphene.Field(SyncStatus, required=True)
    started_at = graphene.DateTime(required=True)
    finished_at = graphene.DateTime()
    fetched = graphene.Int(required=True)
    created = graphene.Int(required=True)
    updated = graphene.Int(required=True)
    unchanged = graphene.Int(required=True)
    ended = graphene.Int(required=True)
    failed = graphene.Int(required=True)
    error_code = graphene.String()

    @staticmethod
    def resolve_status(root: SyncRun, info: Any) -> Any:
        return SyncStatus.get(root.status)

    @staticmethod
    def resolve_error_code(root: SyncRun, info: Any) -> str | None:
        return root.error_code or None
