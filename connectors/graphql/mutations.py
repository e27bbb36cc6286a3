from __future__ import annotations

from typing import Any

import graphene
from django.conf import settings

from connectors import services
from connectors.graphql.types import SourceSyncResult, SyncMode, SyncRunNode
from connectors.library.services import LinkError, LinkErrorCode, library_card_link
from connectors.models import SyncRun
from connectors.transport import UpstreamError
from wallet.graphql.errors import Error, ErrorCode
from wallet.graphql.permissions import citizen_required, principal_of, staff_required
from wallet.models import Citizen

# Every LinkErrorCode has its API code (a test keeps the map complete).
LINK_ERROR_CODES: dict[LinkErrorCode, ErrorCode] = {
    LinkErrorCode.INVALID: ErrorCode.INVALID,
    LinkErrorCode.WRONG_CREDENTIALS: ErrorCode.WRONG_CREDENTIALS,
    LinkErrorCode.RATE_LIMITED: ErrorCode.RATE_LIMITED,
    LinkErrorCode.ALREADY_LINKED: ErrorCode.CONFLICT,
}


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


class LinkLibraryCard(graphene.Mutation):
    """Link a library card by proving its number and PIN to the library. The wallet keeps the
    card's patron id (encrypted), never the PIN. Attempts are limited."""

    class Arguments:
        barcode = graphene.String(required=True)
        pin = graphene.String(required=True)

    linked = graphene.Boolean(required=True)
    errors = graphene.List(graphene.NonNull(Error), required=True)

    @staticmethod
    @citizen_required
    def mutate(root: Any, info: Any, barcode: str, pin: str) -> LinkLibraryCard:
        principal = principal_of(info)
        assert principal is not None
        try:
            library_card_link(citizen=principal.citizen, barcode=barcode, pin=pin)
        except LinkError as exc:
            error = Error(field=exc.field, message=str(exc), code=LINK_ERROR_CODES[exc.code])
            return LinkLibraryCard(linked=False, errors=[error])
        except UpstreamError:
            error = Error(
                message="The library cannot be reached right now.", code=ErrorCode.UPSTREAM_ERROR
            )
            return LinkLibraryCard(linked=False, errors=[error])
        return LinkLibraryCard(linked=True, errors=[])


class RunSync(graphene.Mutation):
    """Start a sync (admins): a full or incremental sweep of a source, or one citizen; or, with
    mode RETENTION, the source's retention purge now."""

    class Arguments:
        source = graphene.String(required=True, description="youth, berths or library")
        mode = graphene.Argument(SyncMode, required=True)
        citizen_sub = graphene.String(description="For mode CITIZEN: the citizen's `sub`.")

    run = graphene.Field(SyncRunNode)
    errors = graphene.List(graphene.NonNull(Error), required=True)

    @staticmethod
    @staff_required
    def mutate(
        root: Any, info: Any, source: str, mode: str, citizen_sub: str | None = None
    ) -> RunSync:
        principal = principal_of(info)
        assert principal is not None
        trigger = f"admin:{principal.citizen.pk}"
        if source not in {c.source for c in services.base.connectors()}:
            return RunSync(
                errors=[Error(field="source", message="Unknown source.", code=ErrorCode.INVALID)]
            )
        mode_value = getattr(mode, "value", mode)
        if mode_value == SyncRun.Mode.CITIZEN:
            citizen = Citizen.objects.filter(
                issuer=settings.OIDC_ISSUER, subject=citizen_sub or ""
            ).first()
            if citizen is None:
                error = Error(
                    field="citizenSub", message="No such citizen.", code=ErrorCode.NOT_FOUND
                )
                return RunSync(errors=[error])
            [run] = services.citizen_sync(citizen=citizen, trigger=trigger, sources=[source])
            return RunSync(run=run, errors=[])
        if mode_value == SyncRun.Mode.RETENTION:
            [purge] = services.records_retention_purge(trigger=trigger, sources=[source])
            return RunSync(run=purge.run, errors=[])
        try:
            run = services.sweep_start(
                source=source, incremental=mode_value == SyncRun.Mode.INCREMENTAL, trigger=trigger
            )
        except services.SweepAlreadyRunning as exc:
            return RunSync(errors=[Error(message=str(exc), code=ErrorCode.CONFLICT)])
        return RunSync(run=run, errors=[])


class Mutation(graphene.ObjectType):
    sync_my_data = SyncMyData.Field()
    link_library_card = LinkLibraryCard.Field()
    run_sync = RunSync.Field()
