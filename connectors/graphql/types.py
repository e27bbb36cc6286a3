from __future__ import annotations

from typing import Any

import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from connectors import base
from connectors.berths.catalogue import BOAT, LEASE
from connectors.library.catalogue import ACCOUNT, FINE, HOLD, LOAN
from connectors.models import RUN_COUNTS, SyncRun
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
    retention = graphene.String(required=True)

    @staticmethod
    def resolve_status(root: SourceStatus, info: Any) -> Any:
        return _status(root.status)


BerthLease = record_type(LEASE, "BerthLease")
Boat = record_type(BOAT, "Boat")
LibraryLoan = record_type(LOAN, "LibraryLoan")
LibraryHold = record_type(HOLD, "LibraryHold")
LibraryFine = record_type(FINE, "LibraryFine")


def _children(kind: str) -> Any:
    def resolve(root: RecordRoot, info: Any) -> list[RecordRoot]:
        assert root.me is not None
        return _roots(root.me, "library", kind)

    return resolve


LibraryAccount = record_type(
    ACCOUNT,
    "LibraryAccount",
    loans=graphene.List(graphene.NonNull(LibraryLoan), required=True, resolver=_children("loan")),
    holds=graphene.List(graphene.NonNull(LibraryHold), required=True, resolver=_children("hold")),
    fines=graphene.List(graphene.NonNull(LibraryFine), required=True, resolver=_children("fine")),
)


def _roots(root: MeRoot, source: str, kind: str) -> list[RecordRoot]:
    record_kind = catalogue.kind(f"{source}.{kind}")
    return [
        RecordRoot(r, root.principal, record_kind)
        for r in root.wallet.records(source=source, kind=kind)
    ]


class ConnectorMeFields:
    """The connectors' part of `Me`: the other systems' records and their freshness."""

    berth_leases = graphene.List(graphene.NonNull(BerthLease), required=True)
    boats = graphene.List(graphene.NonNull(Boat), required=True)
    library_account = graphene.Field(LibraryAccount)
    sources = graphene.List(graphene.NonNull(Source), required=True)

    @staticmethod
    def resolve_berth_leases(root: MeRoot, info: Any) -> list[RecordRoot]:
        return _roots(root, "berths", "lease")

    @staticmethod
    def resolve_boats(root: MeRoot, info: Any) -> list[RecordRoot]:
        return _roots(root, "berths", "boat")

    @staticmethod
    def resolve_library_account(root: MeRoot, info: Any) -> RecordRoot | None:
        accounts = _roots(root, "library", "account")
        if not accounts:
            return None
        # its loans, holds and fines come from the same single load of the wallet
        return RecordRoot(accounts[0].record, root.principal, accounts[0].kind, me=root)

    @staticmethod
    def resolve_sources(root: MeRoot, info: Any) -> list[SourceStatus]:
        return citizen_sources(citizen=root.wallet.citizen, connectors=base.connectors())


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
