"""Reads about syncs: how fresh a citizen's data is, and sync history for admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, F, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber

from connectors import base
from connectors.models import SyncRun
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
                controller=connector.info.controller,
                lawful_basis=connector.info.lawful_basis,
                purpose=connector.info.purpose,
                retention=connector.info.retention,
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


def citizen_latest_runs(*, citizen: Citizen, limit: int) -> list[SyncRun]:
    """The citizen's newest sync runs, newest first, whatever their source."""
    return list(SyncRun.objects.filter(citizen=citizen).order_by("-started_at")[:limit])
