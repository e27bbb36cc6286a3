"""Celery tasks of the core: one service call each."""

from __future__ import annotations

from celery import shared_task

from wallet.erasure import erasures_complete


@shared_task(name="wallet.erasures_complete", ignore_result=True)
def erasures_complete_task() -> None:
    """Finish erasures that stopped after their commit point; forget expired markers."""
    erasures_complete()
