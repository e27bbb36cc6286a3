"""The sync engine: fetch from upstream, validate, store idempotently, record every run."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import httpx
from django.utils import timezone

from connectors import base
from connectors.models import SyncRun
from connectors.transport import UpstreamError, client_timeout
from wallet.models import Citizen
from wallet.services import records_upsert

logger = logging.getLogger(__name__)

MAX_RECORDED_ERRORS = 20


def citizen_sync(
    *, citizen: Citizen, trigger: str, sources: Iterable[str] | None = None
) -> list[SyncRun]:
    """Sync one citizen from each source (all registered ones by default); one SyncRun each.

    A failing source never stops the others, and never touches the records it already gave.
    """
    selected = [base.connector_for(s) for s in sources] if sources else base.connectors()
    runs = []
    with httpx.Client(timeout=client_timeout()) as client:
        for connector in selected:
            runs.append(
                _citizen_sync_source(
                    connector=connector, citizen=citizen, trigger=trigger, client=client
                )
            )
    return runs


def _citizen_sync_source(
    *, connector: base.Connector, citizen: Citizen, trigger: str, client: httpx.Client
) -> SyncRun:
    run = SyncRun.objects.create(
        source=connector.source, mode=SyncRun.Mode.CITIZEN, citizen=citizen, trigger=trigger
    )
    try:
        fetch = connector.fetch_citizen(citizen=citizen, client=client)
        counts = records_upsert(
            citizen=citizen,
            source=connector.source,
            records=fetch.records,
            complete_kinds=fetch.complete_kinds,
        )
    except UpstreamError as exc:
        run.status = SyncRun.Status.FAILED
        run.error_code = exc.code
        run.errors = [{"code": exc.code, "message": str(exc)}]
        logger.warning("sync %s for citizen %s failed: %s", connector.source, citizen.pk, exc.code)
    except Exception as exc:
        # Our own bug, not the upstream's: record it without its text (it might quote data).
        run.status = SyncRun.Status.FAILED
        run.error_code = "INTERNAL_ERROR"
        run.errors = [{"code": "INTERNAL_ERROR", "message": type(exc).__name__}]
        logger.exception("sync %s for citizen %s crashed", connector.source, citizen.pk)
    else:
        run.fetched = len(fetch.records) + len(fetch.rejected)
        run.created, run.updated = counts.created, counts.updated
        run.unchanged, run.ended = counts.unchanged, counts.ended
        run.failed = len(fetch.rejected)
        run.errors = [
            {"code": "INVALID_RECORD", "message": m} for m in fetch.rejected[:MAX_RECORDED_ERRORS]
        ]
        run.error_code = "INVALID_RECORD" if fetch.rejected else ""
        run.status = SyncRun.Status.PARTIAL if fetch.rejected else SyncRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save()
    return run
