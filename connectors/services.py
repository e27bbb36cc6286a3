"""The sync engine: fetch from upstream, validate, store idempotently, record every run.

One engine for every connector and mode:
- one citizen (on login, on `syncMyData`, from the command): a SyncRun of mode `citizen`;
- a sweep (full, or incremental where the upstream can say what changed): a SyncRun of mode
  `full`/`incremental` that fans out over chunks of citizen ids as tasks, run in-process
  without a broker or by any number of Celery workers with one.

Within a chunk, the fetches run on a pool of threads, as many as the source may have calls in
flight (its `MAX_IN_FLIGHT`; connectors.throttle keeps every call within that and its
`MAX_CALLS_PER_SECOND`), while the chunk's own thread stores each citizen's records as their
fetch completes: one transaction per citizen (records_upsert takes the citizen's lock), and the
chunk's counts added to the run at its end under the run's row lock, so no count is lost.

And the other end of a record's life: the retention purge deletes records that ended upstream
longer ago than their source keeps them (a SyncRun of mode `retention` per source).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors import base
from connectors.config import effective_config
from connectors.models import RUN_COUNTS, SyncRun
from connectors.pool import FetchPool
from connectors.throttle import budget_of
from connectors.transport import UpstreamError, upstream_client
from wallet.models import Citizen
from wallet.selectors import records_ended_count
from wallet.services import records_ended_delete, records_upsert
from wallet.vault import CitizenClosed

logger = logging.getLogger(__name__)

MAX_RECORDED_ERRORS = 20
UNKNOWN_TOTAL = 2**31 - 1  # chunks_total while a sweep is still enqueueing


@dataclass
class Outcome:
    """What syncing some citizens from one source did; adds up across citizens and chunks."""

    citizens: int = 0
    citizens_failed: int = 0
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ended: int = 0
    failed: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    def add_error(self, code: str, message: str) -> None:
        if len(self.errors) < MAX_RECORDED_ERRORS:
            self.errors.append({"code": code, "message": message})

    @property
    def error_code(self) -> str:
        return self.errors[0]["code"] if self.errors else ""


def _sync_one(
    *,
    connector: base.Connector,
    citizen: Citizen,
    fetched: Callable[[], base.CitizenFetch],
    outcome: Outcome,
) -> None:
    """Store one citizen's data from one source, as `fetched` gives it (or raises); failures
    are counted, not raised."""
    outcome.citizens += 1
    try:
        fetch = fetched()
        counts = records_upsert(
            citizen=citizen,
            source=connector.source,
            records=fetch.records,
            complete_kinds=fetch.complete_kinds,
        )
    except CitizenClosed:
        # erased (or closed) while the sync ran: their data is not written, nor counted
        outcome.citizens -= 1
        logger.info("sync %s skipped citizen %s: erased or closed", connector.source, citizen.pk)
        return
    except UpstreamError as exc:
        outcome.citizens_failed += 1
        outcome.add_error(exc.code, str(exc))
        logger.warning("sync %s for citizen %s failed: %s", connector.source, citizen.pk, exc.code)
        return
    except Exception as exc:
        # Our own bug, not the upstream's: record it without its text (it might quote data).
        outcome.citizens_failed += 1
        outcome.add_error("INTERNAL_ERROR", type(exc).__name__)
        logger.exception("sync %s for citizen %s crashed", connector.source, citizen.pk)
        return
    distinct = {(record.kind, record.external_id) for record in fetch.records}
    if len(distinct) < len(fetch.records):
        # Stored once (the upsert is keyed on the upstream id), but an upstream anomaly to report.
        outcome.failed += len(fetch.records) - len(distinct)
        outcome.add_error("DUPLICATE_RECORD", f"{connector.source}: a record came more than once")
    outcome.fetched += len(fetch.records) + len(fetch.rejected)
    outcome.created += counts.created
    outcome.updated += counts.updated
    outcome.unchanged += counts.unchanged
    outcome.ended += counts.ended
    outcome.failed += len(fetch.rejected)
    for reason in fetch.rejected:
        outcome.add_error("INVALID_RECORD", reason)


def _final_status(run: SyncRun) -> str:
    """Failed: no citizen could be fetched. Partial: some citizens or records failed."""
    if run.citizens and run.citizens_failed >= run.citizens:
        return SyncRun.Status.FAILED
    if run.failed or run.citizens_failed:
        return SyncRun.Status.PARTIAL
    return SyncRun.Status.SUCCEEDED


def _apply(run: SyncRun, outcome: Outcome) -> None:
    for name in RUN_COUNTS:
        setattr(run, name, getattr(run, name) + getattr(outcome, name))
    run.errors = (run.errors + outcome.errors)[:MAX_RECORDED_ERRORS]
    run.error_code = run.error_code or outcome.error_code


# --- One citizen ----------------------------------------------------------------------------


def citizen_sync(
    *, citizen: Citizen, trigger: str, sources: Iterable[str] | None = None
) -> list[SyncRun]:
    """Sync one citizen from each source (all registered ones by default); one SyncRun each.

    A failing source never stops the others, and never touches the records it already gave.
    """
    selected = [base.connector_for(s) for s in sources] if sources else base.connectors()
    selected = [c for c in selected if effective_config(c.source).enabled]
    runs = []
    with upstream_client() as client:
        for connector in selected:
            run = SyncRun.objects.create(
                source=connector.source, mode=SyncRun.Mode.CITIZEN, citizen=citizen, trigger=trigger
            )
            outcome = Outcome()
            if connector.eligible_citizens().filter(pk=citizen.pk).exists():
                _sync_one(
                    connector=connector,
                    citizen=citizen,
                    fetched=functools.partial(
                        connector.fetch_citizen, citizen=citizen, client=client
                    ),
                    outcome=outcome,
                )
            _apply(run, outcome)
            run.status = _final_status(run)
            run.finished_at = timezone.now()
            run.save()
            runs.append(run)
    return runs


# --- Sweeps ---------------------------------------------------------------------------------


class SweepAlreadyRunning(Exception):
    """Another sweep of the same source is running; the message names it."""


class SourceDisabled(Exception):
    """An admin switched the connector off."""


def _abandon_stale_sweeps(source: str) -> int:
    """A running sweep with no heartbeat for SYNC_STALE_SECONDS lost its worker: release it."""
    stale_before = timezone.now() - timedelta(seconds=settings.SYNC_STALE_SECONDS)
    return SyncRun.objects.filter(
        source=source,
        status=SyncRun.Status.RUNNING,
        mode__in=[SyncRun.Mode.FULL, SyncRun.Mode.INCREMENTAL],
        heartbeat_at__lt=stale_before,
    ).update(status=SyncRun.Status.ABANDONED, finished_at=timezone.now(), error_code="WORKER_LOST")


def _last_successful_sweep_start(source: str) -> SyncRun | None:
    return (
        SyncRun.objects.filter(
            source=source,
            mode__in=[SyncRun.Mode.FULL, SyncRun.Mode.INCREMENTAL],
            status=SyncRun.Status.SUCCEEDED,
        )
        .order_by("-started_at")
        .first()
    )


def sweep_start(*, source: str, incremental: bool, trigger: str) -> SyncRun:
    """Start a sweep of one source: take the source's lock, decide whom it covers, and enqueue
    one task per chunk of citizens (after commit; ids only). Raises SweepAlreadyRunning."""
    from connectors.tasks import sweep_chunk_enqueue

    connector = base.connector_for(source)
    if not effective_config(source).enabled:
        raise SourceDisabled(f"the {source} connector is switched off")
    _abandon_stale_sweeps(source)
    mode = SyncRun.Mode.INCREMENTAL if incremental else SyncRun.Mode.FULL
    previous = _last_successful_sweep_start(source) if incremental else None
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                source=source,
                mode=mode,
                trigger=trigger,
                heartbeat_at=timezone.now(),
                since=previous.started_at if previous else None,
            )
    except IntegrityError:
        running = (
            SyncRun.objects.filter(source=source, status=SyncRun.Status.RUNNING)
            .exclude(mode=SyncRun.Mode.CITIZEN)
            .first()
        )
        raise SweepAlreadyRunning(
            f"a {source} sweep is already running (run {running.pk if running else '?'})"
        ) from None

    eligible = connector.eligible_citizens().order_by("pk").values_list("pk", flat=True)
    # Only a connector that declares incremental sweeps is asked what changed; for any other,
    # an incremental sweep covers everyone, as a full one does.
    if run.since is not None and connector.supports_incremental:
        try:
            with upstream_client() as client:
                changed = connector.changed_citizens(since=run.since, client=client)
        except UpstreamError as exc:
            _finish(run, status=SyncRun.Status.FAILED, code=exc.code, message=str(exc))
            return run
        if changed is not None:
            eligible = eligible.filter(pk__in=changed)
    # Until every chunk is enqueued the total is unknown: chunks finishing meanwhile (in-process,
    # or on fast workers) must not close the run early.
    run.chunks_total = UNKNOWN_TOTAL
    run.save(update_fields=["chunks_total"])
    # Stream the ids into chunks: memory stays flat however many citizens there are.
    chunk_size, chunk, enqueued = settings.SYNC_CHUNK_SIZE, [], 0
    for citizen_id in eligible.iterator(chunk_size=2000):
        chunk.append(citizen_id)
        if len(chunk) == chunk_size:
            sweep_chunk_enqueue(run_id=run.pk, citizen_ids=chunk)
            chunk, enqueued = [], enqueued + 1
    if chunk:
        sweep_chunk_enqueue(run_id=run.pk, citizen_ids=chunk)
        enqueued += 1
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run.pk)
        run.chunks_total = enqueued
        if run.status == SyncRun.Status.RUNNING and run.chunks_done >= enqueued:
            run.status = _final_status(run)
            run.finished_at = timezone.now()
        run.save()
    return run


def _finish(run: SyncRun, *, status: str, code: str = "", message: str = "") -> None:
    run.status = status
    run.finished_at = timezone.now()
    if code:
        run.error_code = code
        run.errors = [*run.errors, {"code": code, "message": message}][:MAX_RECORDED_ERRORS]
    run.save()


def _raise(error: Exception) -> base.CitizenFetch:
    raise error


def _heartbeat_seconds() -> float:
    return min(60.0, settings.SYNC_STALE_SECONDS / 4)


def sweep_chunk(*, run_id: UUID, citizen_ids: list[UUID]) -> None:
    """Sync one chunk of a sweep and add its counts to the run; the last chunk closes the run."""
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None or run.status != SyncRun.Status.RUNNING:
        return  # abandoned (a lost worker's redelivered task) or erased: nothing to do
    connector = base.connector_for(run.source)
    budget = budget_of(connector.source)
    in_flight = budget.max_in_flight if budget else 1
    outcome = Outcome()
    citizens = list(connector.eligible_citizens().filter(pk__in=citizen_ids))
    beaten = time.monotonic()
    stored: set[UUID] = set()
    with (
        upstream_client(max_in_flight=in_flight) as client,
        FetchPool(in_flight, name=f"sweep-{connector.source}") as pool,
    ):
        try:
            for citizen, fetched in connector.fetch_citizens(
                citizens=citizens, client=client, pool=pool
            ):
                stored.add(citizen.pk)
                _sync_one(
                    connector=connector, citizen=citizen, fetched=fetched.result, outcome=outcome
                )
                if time.monotonic() - beaten > _heartbeat_seconds():
                    # A chunk of a slow upstream can take minutes: the run must not look lost.
                    SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                    beaten = time.monotonic()
        except Exception as exc:
            # The connector's fetching broke off: the citizens it did not give fail with it,
            # and the chunk still counts, so the run can finish.
            for citizen in citizens:
                if citizen.pk not in stored:
                    _sync_one(
                        connector=connector,
                        citizen=citizen,
                        fetched=functools.partial(_raise, exc),
                        outcome=outcome,
                    )
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        if run.status != SyncRun.Status.RUNNING:
            return
        _apply(run, outcome)
        run.chunks_done += 1
        run.heartbeat_at = timezone.now()
        if run.chunks_done >= run.chunks_total:
            run.status = _final_status(run)
            run.finished_at = timezone.now()
        run.save()


def scheduled_sweeps_start() -> list[SyncRun]:
    """Start the incremental sweeps whose interval (set in the admin) has passed."""
    from connectors.models import ConnectorConfig

    started = []
    now = timezone.now()
    for config in ConnectorConfig.objects.filter(enabled=True, sweep_interval_minutes__gt=0):
        last = (
            SyncRun.objects.filter(
                source=config.source, mode__in=[SyncRun.Mode.FULL, SyncRun.Mode.INCREMENTAL]
            )
            .order_by("-started_at")
            .first()
        )
        if last and last.started_at > now - timedelta(minutes=config.sweep_interval_minutes):
            continue
        try:
            started.append(sweep_start(source=config.source, incremental=True, trigger="schedule"))
        except SweepAlreadyRunning:
            continue
    return started


# --- Sync now (the staff's dashboard) -------------------------------------------------------


@dataclass(frozen=True)
class SweepRequestOutcome:
    """What asking for a sweep of one source did: started (`run`), or refused and why."""

    source: str
    run: SyncRun | None = None
    refused: str = ""  # "running" (`running_run_id` names it) or "disabled"
    running_run_id: UUID | None = None


def sweeps_request(
    *, sources: Iterable[str], incremental: bool, trigger: str
) -> list[SweepRequestOutcome]:
    """Start a sweep of each source; one already running or switched off is reported, not
    raised, and never stops the others (an incremental sweep of an upstream that cannot say
    what changed covers everyone, as sweep_start does)."""
    outcomes = []
    for source in sources:
        try:
            run = sweep_start(source=source, incremental=incremental, trigger=trigger)
        except SweepAlreadyRunning:
            running = (
                SyncRun.objects.filter(source=source, status=SyncRun.Status.RUNNING)
                .exclude(mode=SyncRun.Mode.CITIZEN)
                .values_list("pk", flat=True)
                .first()
            )
            outcomes.append(
                SweepRequestOutcome(source=source, refused="running", running_run_id=running)
            )
        except SourceDisabled:
            outcomes.append(SweepRequestOutcome(source=source, refused="disabled"))
        else:
            outcomes.append(SweepRequestOutcome(source=source, run=run))
    return outcomes


# --- Retention ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionOutcome:
    """One source's retention purge: records that ended upstream before `ended_before` (its
    retention ago) are deleted; `purged` counts them (in a dry run: those it would delete)."""

    source: str
    retention: timedelta
    ended_before: datetime
    purged: int
    run: SyncRun | None = None  # None in a dry run, which records nothing
    error_code: str = ""


def records_retention_purge(
    *, trigger: str, sources: Iterable[str] | None = None, dry_run: bool = False
) -> list[RetentionOutcome]:
    """Delete each source's records that ended upstream longer ago than the source keeps them
    (Connector.retention_after_end: its `RETENTION_DAYS` setting, else its own); an active
    record is never touched. All sources by default, a switched-off one too (what it holds
    still has a retention). One SyncRun of mode `retention` per source counts what went; a
    failing source is recorded as failed and never stops the others. A dry run counts, deletes
    nothing and records no run. The logs name sources and counts, nothing else.
    """
    selected = [base.connector_for(s) for s in sources] if sources else base.connectors()
    now = timezone.now()
    outcomes = []
    for connector in selected:
        retention = connector.retention_after_end
        ended_before = now - retention
        if dry_run:
            count = records_ended_count(source=connector.source, ended_before=ended_before)
            logger.info(
                "retention purge of %s (dry run): %d ended records older than %d days would go",
                connector.source,
                count,
                retention.days,
            )
            outcomes.append(
                RetentionOutcome(connector.source, retention, ended_before, purged=count)
            )
            continue
        run = SyncRun.objects.create(
            source=connector.source, mode=SyncRun.Mode.RETENTION, trigger=trigger
        )
        try:
            for deleted in records_ended_delete(source=connector.source, ended_before=ended_before):
                run.purged += deleted
        except Exception as exc:
            # Batches before the failure stay deleted and counted; the reason is its type only.
            _finish(
                run,
                status=SyncRun.Status.FAILED,
                code="INTERNAL_ERROR",
                message=f"the purge stopped: {type(exc).__name__}",
            )
            logger.error(
                "retention purge of %s failed after %d deleted: %s",
                connector.source,
                run.purged,
                type(exc).__name__,
            )
        else:
            _finish(run, status=SyncRun.Status.SUCCEEDED)
            logger.info(
                "retention purge of %s: %d ended records older than %d days deleted",
                connector.source,
                run.purged,
                retention.days,
            )
        outcomes.append(
            RetentionOutcome(
                connector.source,
                retention,
                ended_before,
                purged=run.purged,
                run=run,
                error_code=run.error_code,
            )
        )
    return outcomes
