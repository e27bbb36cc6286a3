from __future__ import annotations

from typing import Any

import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from connectors import base
from connectors.models import RETENTION_COUNTS, RUN_COUNTS, SyncRun
from connectors.selectors import SourceStatus, citizen_sources
from wallet import catalogue
from wallet.graphql.records import record_type
from wallet.graphql.types import MeRoot, RecordRoot


class SyncStatus(graphene.Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    ABANDONED = "abandoned"


class SyncMode(graphene.Enum):
    CITIZEN = "citizen"
    FULL = "full"
    INCREMENTAL = "incremental"
    RETENTION = "retention"  # the retention purge: ended records past their source's retention


def _status(value: str | None) -> Any:
    return SyncStatus.get(value) if value else None


class RunError(graphene.ObjectType):
    """A safe reason recorded on a run: a code and a message naming fields, never values."""

    code = graphene.String(required=True)
    message = graphene.String(required=True)


class SourceSyncResult(graphene.ObjectType):
    """How one source's sync for the citizen went. `errorCode` is a safe reason, never data."""

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
        return _status(root.status)

    @staticmethod
    def resolve_error_code(root: SyncRun, info: Any) -> str | None:
        return root.error_code or None


class Source(graphene.ObjectType):
    """One of the city's systems the wallet reads, how fresh the citizen's data from it is, and
    why the city holds that data."""

    name = graphene.String(required=True, description="The source id: youth, berths, library.")
    label = graphene.String(required=True)
    last_synced_at = graphene.DateTime()
    status = graphene.Field(SyncStatus, description="How the latest sync went.")
    error_code = graphene.String()
    controller = graphene.String(required=True)
    lawful_basis = graphene.String(required=True)
    purpose = graphene.String(required=True)
    retention = graphene.String(
        required=True, description="How long a record is kept after it ended upstream."
    )
    retention_days = graphene.Int(
        required=True, description="The same, in days: the wallet deletes it then."
    )

    @staticmethod
    def resolve_status(root: SourceStatus, info: Any) -> Any:
        return _status(root.status)


def _records(root: MeRoot, kind: catalogue.RecordKind) -> list[RecordRoot]:
    # `me` lets a record's nested fields (an account's loans) read the same single load
    return [
        RecordRoot(record, root.principal, kind, me=root)
        for record in root.wallet.records(source=kind.source, kind=kind.kind or "")
    ]


def _resolver(me_field: base.MeField, *, nested: bool) -> Any:
    def resolve(root: Any, info: Any) -> Any:
        me = root.me if nested else root
        assert me is not None
        records = _records(me, me_field.kind)
        if me_field.many:
            return records
        return records[0] if records else None

    return resolve


def _graphql_field(me_field: base.MeField, *, nested: bool = False) -> Any:
    """The field for one declared MeField: its type generated from the kind's catalogue fields
    (wallet.graphql.records.record_type), its nested fields first."""
    children = {child.name: _graphql_field(child, nested=True) for child in me_field.children}
    record_graphql_type = record_type(me_field.kind, me_field.type_name, **children)
    resolver = _resolver(me_field, nested=nested)
    if me_field.many:
        return graphene.List(
            graphene.NonNull(record_graphql_type),
            required=True,
            resolver=resolver,
            description=me_field.description,
        )
    return graphene.Field(record_graphql_type, resolver=resolver, description=me_field.description)


def _resolve_sources(root: MeRoot, info: Any) -> list[SourceStatus]:
    return citizen_sources(citizen=root.wallet.citizen, connectors=base.connectors())


def connector_me_fields(connectors: list[base.Connector]) -> type:
    """The connectors' part of `Me`, made from what the given connectors declare: each one's
    `me_fields` in order (types generated from the field catalogue), then `sources`. The root
    schema (wallet.schema.schema_build) composes it into `Me`."""
    attrs: dict[str, Any] = {}
    for connector in connectors:
        for me_field in connector.me_fields:
            if me_field.name in attrs:
                raise ValueError(f"two connectors add `{me_field.name}` to Me")
            attrs[me_field.name] = _graphql_field(me_field)
    attrs["sources"] = graphene.List(
        graphene.NonNull(Source), required=True, resolver=_resolve_sources
    )
    return type(
        "ConnectorMeFields",
        (),
        {**attrs, "__doc__": "The connectors' part of `Me`: their records and freshness."},
    )


class SyncRunNode(DjangoObjectType):
    """One sync run, for admins: who started it, what it did, how it ended."""

    status = graphene.Field(SyncStatus, required=True)
    mode = graphene.Field(SyncMode, required=True)
    errors = graphene.List(graphene.NonNull(RunError), required=True)

    class Meta:
        model = SyncRun
        name = "SyncRun"
        interfaces = (relay.Node,)
        fields = (
            "id",
            "source",
            "mode",
            "trigger",
            "status",
            "started_at",
            "finished_at",
            "chunks_total",
            "chunks_done",
            *RUN_COUNTS,
            *RETENTION_COUNTS,
            "error_code",
            "errors",
        )

    @staticmethod
    def resolve_status(root: SyncRun, info: Any) -> Any:
        return SyncStatus.get(root.status)

    @staticmethod
    def resolve_mode(root: SyncRun, info: Any) -> Any:
        return SyncMode.get(root.mode)


class ConnectorType(graphene.ObjectType):
    """A connector as an admin sees it: its settings (never its secret) and its latest sweep."""

    class Meta:
        name = "Connector"

    source = graphene.String(required=True)
    label = graphene.String(required=True)
    enabled = graphene.Boolean(required=True)
    sweep_interval_minutes = graphene.Int(required=True)
    base_url = graphene.String(required=True)
    has_client_secret = graphene.Boolean(required=True)
    supports_incremental = graphene.Boolean(required=True)
    latest_sweep = graphene.Field(SyncRunNode)
