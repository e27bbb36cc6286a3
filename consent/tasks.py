"""Celery tasks of the consent domain: one service call each."""

from __future__ import annotations

from celery import shared_task

from consent import services


@shared_task(name="consent.expire", ignore_result=True)
def consents_expire_task() -> None:
    """Record expiries (reads already refuse expired consents) and close stale requests."""
    services.consents_expire()
    services.consent_requests_expire()
