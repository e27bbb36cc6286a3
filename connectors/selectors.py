"""Reads about syncs: how fresh a citizen's data is, and sync history for admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from connectors import base
from connectors.models import SyncRun
from wallet.models import Citizen

RECENT_RUNS = 50


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


def citizen_sources(*, citizen: Citizen, connectors: list[base.Connector]) -> list[SourceStatus]:
    """Per source: when the citizen's data last came through (their own syncs and sweeps that
    covered everyone) and how the latest attempt went. One query, whatever the history."""
    runs = list(
        SyncRun.objects.filter(
            Q(citizen=citizen)
            | Q(citizen__isnull=True, mode__in=[SyncRun.Mode.FULL, SyncRun.Mode.INCREMENTAL])
        )
        .exclude(status=SyncRun.Status.RUNNING)
        .order_by("-started_at")
        .only("source", "status", "finished_at", "error_code")[:RECENT_RUNS]
    )
    result = []
    for connector in connectors:
        own = [run for run in runs if run.source == connector.source]
        latest = own[0] if own else None
        good = next(
            (
                run
                for run in own
                if run.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL)
            ),
            None,
        )
        result.append(
            SourceStatus(
                name=connector.source,
                label=connector.labels.en,
                last_synced_at=good.finished_at if good else None,
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

    sweeps = list(
        SyncRun.objects.filter(mode__in=[SyncRun.Mode.FULL, SyncRun.Mode.INCREMENTAL]).order_by(
            "-started_at"
        )[:RECENT_RUNS]
    )
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
                supports_incremental=type(connector).changed_citizens
                is not base.Connector.changed_citizens,
                latest_sweep=next((run for run in sweeps if run.source == connector.source), None),
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
