"""Sweeps on real Celery workers (Redis broker, PostgreSQL): a worker killed with SIGKILL in the
middle of a sweep, then a rerun: complete, no duplicates."""

import signal
import time
import uuid

import pytest

from connectors import services
from connectors.models import SyncRun
from sandbox.demo import AINO
from tests.conftest import start_worker, stop_worker, worker_environment
from wallet.models import DataRecord
from wallet.services import citizen_get_or_create

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def _wait_for(predicate, timeout=60.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def test_worker_killed_mid_sweep_then_rerun_completes_without_duplicates(
    postgres, redis_broker, sandbox, settings, tmp_path
):
    queue = f"sigkill-{uuid.uuid4().hex[:8]}"
    settings.SYNC_QUEUE = queue
    settings.SYNC_CHUNK_SIZE = 1
    citizen_get_or_create(issuer=sandbox.issuer, subject=str(AINO.sub))
    for _ in range(40):
        citizen_get_or_create(issuer=sandbox.issuer, subject=str(uuid.uuid4()))
    env = {**worker_environment(sandbox), "SYNC_QUEUE": queue}

    run = services.sweep_start(source="youth", incremental=False, trigger="test")
    assert run.status == SyncRun.Status.RUNNING and run.chunks_total == 41
    worker = start_worker(env, tmp_path / "worker-1.log", queues=queue)
    try:
        assert _wait_for(lambda: SyncRun.objects.get(pk=run.pk).chunks_done >= 5)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING and run.chunks_done < run.chunks_total

    # The lost sweep still holds the lock until its heartbeat goes stale.
    with pytest.raises(services.SweepAlreadyRunning):
        services.sweep_start(source="youth", incremental=False, trigger="test")
    settings.SYNC_STALE_SECONDS = 0
    rerun = services.sweep_start(source="youth", incremental=False, trigger="test")
    worker = start_worker(env, tmp_path / "worker-2.log", queues=queue)
    try:
        assert _wait_for(lambda: SyncRun.objects.get(pk=rerun.pk).status != SyncRun.Status.RUNNING)
    finally:
        stop_worker(worker)
    rerun.refresh_from_db()
    run.refresh_from_db()
    assert run.status == SyncRun.Status.ABANDONED
    assert rerun.status == SyncRun.Status.SUCCEEDED, rerun.errors
    assert (rerun.chunks_done, rerun.citizens) == (41, 41)
    # aino's card exactly once, whichever run wrote it
    assert DataRecord.objects.filter(source="youth").count() == 1
