"""Reads about syncs: how fresh a citizen's data is, and sync history for admins."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from connectors import base
from connectors.models import RETENTION_COUNTS, RUN_COUNTS, SyncRun
from wallet.catalogue import Labels
from wallet.models import Citizen


@dataclass(frozen=True)
class SourceStatus:
    name: str
    label: str
    last_synced_at: datetime | None
    status: str | None
    error_code: str | None
    controller: str
    lawful_basis: str
    purpose: str
    retention: str
    retention_days: int


GOOD = (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL)


def _newest(runs: QuerySet[SyncRun], *partition: Any) -> QuerySet[SyncRun]:
    """The newest of `runs` in each partition (source, plus `partition`): one query, however
    long the history (a window function, so every source gets its row)."""
    return runs.annotate(
        newest=Window(
            RowNumber(),
            partition_by=[F("source"), *partition],
            order_by=[F("started_at").desc(), F("id").desc()],
        )
    ).filter(newest=1)


def citizen_newest_own_runs(*, citizen: Citizen, since: datetime | None) -> dict[str, SyncRun]:
    """By source: the newest of the citizen's own syncs (not sweeps) started at or after
    `since`. One query, however many runs."""
    runs = SyncRun.objects.filter(citizen=citizen, mode=SyncRun.Mode.CITIZEN)
    if since is not None:
        runs = runs.filter(started_at__gte=since)
    return {run.source: run for run in _newest(runs)}


def citizen_sources(*, citizen: Citizen, connectors: list[base.Connector]) -> list[SourceStatus]:
    """Per source: when the citizen's data last came through (their own syncs and sweeps that
    covered everyone) and how the latest attempt went. One query, whatever the history: the
    newest good run and the newest other run of each source; the later of the two is the
    latest attempt."""
    good = Case(When(status__in=GOOD, then=Value(True)), default=Value(False))
    runs = _newest(
        SyncRun.objects.filter(
            Q(citizen=citizen)
            | Q(citizen__isnull=True, mode__in=[SyncRun.Mode.FULL, SyncRun.Mode.INCREMENTAL]),
            source__in=[connector.source for connector in connectors],
        )
        .exclude(status=SyncRun.Status.RUNNING)
        .only("source", "status", "started_at", "finished_at", "error_code"),
        good,
    )
    by_source: dict[str, list[SyncRun]] = {}
    for run in runs:
        by_source.setdefault(run.source, []).append(run)
    result = []
    for connector in connectors:
        own = by_source.get(connector.source, [])
        latest = max(own, key=lambda run: (run.started_at, run.pk), default=None)
        good_run = next((run for run in own if run.status in GOOD), None)
        result.append(
            SourceStatus(
                name=connector.source,
                label=connector.labels.en,
                last_synced_at=good_run.finished_at if good_run else None,
                status=latest.status if latest else None,
                error_code=(latest.error_code or None) if latest else None,
                controller=connector.info.controller.en,  # the API speaks English
                lawful_basis=connector.info.lawful_basis.en,  # the API speaks English
                purpose=connector.info.purpose.en,  # the API speaks English
                retention=connector.retention_text.en,  # the API speaks English
                retention_days=connector.retention_after_end.days,
            )
        )
    return result


@dataclass(frozen=True)
class ConnectorState:
    source: str
    label: str
    enabled: bool
    sweep_interval_minutes: int
    base_url: str
    has_client_secret: bool
    supports_incremental: bool
    latest_sweep: SyncRun | None


def connector_states(*, connectors: list[base.Connector]) -> list[ConnectorState]:
    from connectors.config import effective_config

    sweeps = {
        run.source: run
        for run in _newest(
            SyncRun.objects.filter(
                mode__in=[SyncRun.Mode.FULL, SyncRun.Mode.INCREMENTAL],
                source__in=[connector.source for connector in connectors],
            )
        )
    }
    states = []
    for connector in connectors:
        config = effective_config(connector.source)
        states.append(
            ConnectorState(
                source=connector.source,
                label=connector.labels.en,
                enabled=config.enabled,
                sweep_interval_minutes=config.sweep_interval_minutes,
                base_url=config.base_url,
                has_client_secret=bool(config.client_secret),
                supports_incremental=connector.supports_incremental,
                latest_sweep=sweeps.get(connector.source),
            )
        )
    return states


def sync_runs(
    *, source: str | None = None, status: str | None = None, mode: str | None = None
) -> QuerySet[SyncRun]:
    runs = SyncRun.objects.order_by("-started_at")
    if source:
        runs = runs.filter(source=source)
    if status:
        runs = runs.filter(status=status)
    if mode:
        runs = runs.filter(mode=mode)
    return runs


# --- The staff's sync dashboard ---------------------------------------------------------------

SWEEP_MODES = (SyncRun.Mode.FULL, SyncRun.Mode.INCREMENTAL)
# The error rate is over this many of a source's newest finished sweeps; the page lists fewer.
ERROR_RATE_WINDOW = 20
RUNS_SHOWN = 5
TROUBLED = (SyncRun.Status.FAILED, SyncRun.Status.PARTIAL, SyncRun.Status.ABANDONED)
# Fields a dashboard row needs (not the error samples: those are on the run's own page).
_RUN_SUMMARY_FIELDS = (
    "id",
    "source",
    "mode",
    "trigger",
    "status",
    "started_at",
    "finished_at",
    "chunks_total",
    "chunks_done",
    "error_code",
    *RUN_COUNTS,
    *RETENTION_COUNTS,
)


@dataclass(frozen=True)
class BreakerState:
    """The circuit breaker toward a source, as this server process sees it (it is kept per
    process: a worker's own breaker may differ)."""

    open: bool
    seconds_left: int


@dataclass(frozen=True)
class SweepProgress:
    done: int
    total: int | None  # None while the sweep is still enqueueing its chunks

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, round(100 * self.done / self.total))


def sweep_progress(run: SyncRun) -> SweepProgress:
    from connectors.services import UNKNOWN_TOTAL

    total = None if run.chunks_total in (0, UNKNOWN_TOTAL) else run.chunks_total
    return SweepProgress(done=run.chunks_done, total=total)


@dataclass(frozen=True)
class DashboardRow:
    source: str
    labels: Labels
    enabled: bool
    supports_incremental: bool
    sweep_interval_minutes: int
    breaker: BreakerState
    latest: SyncRun | None  # the newest sweep, running or not
    running: SyncRun | None
    next_scheduled_at: datetime | None  # None: only started by hand (or switched off)
    error_rate: float | None  # troubled / finished over the newest ERROR_RATE_WINDOW sweeps
    finished_count: int  # the finished sweeps the error rate is over
    recent: list[SyncRun]
    retention_days: int  # ended records are kept this long (the setting in force)
    latest_purge: SyncRun | None  # the newest retention run

    @property
    def error_rate_percent(self) -> int | None:
        return None if self.error_rate is None else round(100 * self.error_rate)

    @property
    def running_progress(self) -> SweepProgress | None:
        return sweep_progress(self.running) if self.running else None


def _breaker_state(source: str) -> BreakerState:
    from connectors.transport import breaker

    # The upstream's API and, for the GraphQL services, its token endpoint are separate systems.
    seconds = max(breaker.seconds_open(s) for s in (source, f"{source} token endpoint"))
    return BreakerState(open=seconds > 0, seconds_left=math.ceil(seconds))


def supports_incremental(connector: base.Connector) -> bool:
    """Whether the upstream can say what changed (otherwise an incremental sweep covers all)."""
    return type(connector).changed_citizens is not base.Connector.changed_citizens


def sync_dashboard(*, connectors: list[base.Connector]) -> list[DashboardRow]:
    """Per source: its settings, breaker, newest sweeps and error rate, when the scheduler
    starts the next one, and its retention and newest retention purge. Two queries, however
    long the history: the admins' settings, and the newest ERROR_RATE_WINDOW sweeps and the
    newest retention run of every source (one window function over both)."""
    from connectors.models import ConnectorConfig

    sources = [connector.source for connector in connectors]
    configs = {c.source: c for c in ConnectorConfig.objects.filter(source__in=sources)}
    is_purge = Case(
        When(mode=SyncRun.Mode.RETENTION, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    runs = (
        SyncRun.objects.filter(source__in=sources, mode__in=(*SWEEP_MODES, SyncRun.Mode.RETENTION))
        .only(*_RUN_SUMMARY_FIELDS)
        .annotate(
            newest=Window(
                RowNumber(),
                partition_by=[F("source"), is_purge],
                order_by=[F("started_at").desc(), F("id").desc()],
            )
        )
        .filter(Q(newest=1) | Q(newest__lte=ERROR_RATE_WINDOW, mode__in=SWEEP_MODES))
        .order_by("source", "newest")
    )
    by_source: dict[str, list[SyncRun]] = {source: [] for source in sources}
    purges: dict[str, SyncRun] = {}
    for run in runs:
        if run.mode == SyncRun.Mode.RETENTION:
            purges[run.source] = run
        else:
            by_source[run.source].append(run)
    rows = []
    for connector in connectors:
        config = configs.get(connector.source)
        # No row: the defaults (switched on, started by hand only), as connectors.config says.
        enabled = config.enabled if config else True
        interval = config.sweep_interval_minutes if config else 0
        sweeps = by_source[connector.source]
        latest = sweeps[0] if sweeps else None
        finished = [run for run in sweeps if run.status != SyncRun.Status.RUNNING]
        troubled = sum(run.status in TROUBLED for run in finished)
        next_at = None
        if enabled and interval:
            # As connectors.services.scheduled_sweeps_start decides: the interval after the
            # newest sweep's start, or at the scheduler's next tick if there was none.
            next_at = latest.started_at + timedelta(minutes=interval) if latest else timezone.now()
        rows.append(
            DashboardRow(
                source=connector.source,
                labels=connector.labels,
                enabled=enabled,
                supports_incremental=supports_incremental(connector),
                sweep_interval_minutes=interval,
                breaker=_breaker_state(connector.source),
                latest=latest,
                running=latest if latest and latest.status == SyncRun.Status.RUNNING else None,
                next_scheduled_at=next_at,
                error_rate=troubled / len(finished) if finished else None,
                finished_count=len(finished),
                recent=sweeps[:RUNS_SHOWN],
                retention_days=connector.retention_after_end.days,
                latest_purge=purges.get(connector.source),
            )
        )
    return rows


def sync_run_get(*, run_id: UUID) -> SyncRun | None:
    """One run with its counts and error samples (one query)."""
    return SyncRun.objects.filter(pk=run_id).first()
