"""Celery tasks: ids in, one service call. Without a broker they run in-process."""

from __future__ import annotations

from uuid import UUID

from celery import shared_task
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
