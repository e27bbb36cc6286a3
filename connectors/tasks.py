"""Celery tasks: ids in, one service call. Without a broker they run in-process."""

from __future__ import annotations

from uuid import UUID

from celery import shared_task
from django.conf import settings
from django.db import transaction

from connectors import services
from wallet.models import Citizen


@shared_task(name="connectors.citizen_sync", ignore_result=True)
def citizen_sync_task(citizen_id: str, trigger: str) -> None:
    citizen = Citizen.objects.filter(pk=citizen_id, is_active=True).first()
    if citizen is not None:  # erased between enqueue and run: nothing to do
        services.citizen_sync(citizen=citizen, trigger=trigger)


def citizen_sync_enqueue(*, citizen_id: UUID, reason: str) -> None:
    transaction.on_commit(lambda: citizen_sync_task.delay(str(citizen_id), reason))


@shared_task(name="connectors.sweep_chunk", ignore_result=True, acks_late=True)
def sweep_chunk_task(run_id: str, citizen_ids: list[str]) -> None:
    services.sweep_chunk(run_id=UUID(run_id), citizen_ids=[UUID(pk) for pk in citizen_ids])


def sweep_chunk_enqueue(*, run_id: UUID, citizen_ids: list[UUID]) -> None:
    ids = [str(pk) for pk in citizen_ids]
    queue = settings.SYNC_QUEUE
    transaction.on_commit(lambda: sweep_chunk_task.apply_async((str(run_id), ids), queue=queue))


@shared_task(name="connectors.scheduled_sweeps", ignore_result=True)
def scheduled_sweeps_task() -> None:
    services.scheduled_sweeps_start()


@shared_task(name="connectors.retention_purge", ignore_result=True)
def retention_purge_task() -> None:
    services.records_retention_purge(trigger="schedule")
