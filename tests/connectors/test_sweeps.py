"""Sweeps over every citizen with a wallet: idempotent, locked per source, recorded, recoverable."""

import json
import time
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connectors import services
from connectors.models import ConnectorConfig, SyncRun
from sandbox.demo import AINO, EERO, SOFIA
from tests.connector_settings import connector_settings
from wallet.models import Citizen, DataRecord
from wallet.services import citizen_get_or_create

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks"),
]


@pytest.fixture
def citizens(sandbox):
    return [
        citizen_get_or_create(issuer=sandbox.issuer, subject=str(p.sub))[0]
        for p in (AINO, EERO, SOFIA)
    ]


def _sync_command(*args):
    out = StringIO()
    try:
        call_command("sync", *args, stdout=out)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue()


def test_full_sweep_covers_wallet_citizens_only_and_a_second_sweep_writes_nothing(
    sandbox, citizens
):
    first = services.sweep_start(source="youth", incremental=False, trigger="test")
    assert first.status == SyncRun.Status.SUCCEEDED, first.errors
    assert (first.citizens, first.created) == (3, 1)  # only aino is a youth member
    assert set(DataRecord.objects.values_list("citizen_id", flat=True)) == {citizens[0].pk}

    second = services.sweep_start(source="youth", incremental=False, trigger="test")
    assert (second.created, second.updated, second.unchanged) == (0, 0, 1)
    assert Citizen.objects.count() == 3  # no stranger imported from upstream


def test_sweep_fans_out_in_chunks(sandbox, citizens, settings):
    settings.SYNC_CHUNK_SIZE = 2
    run = services.sweep_start(source="youth", incremental=False, trigger="test")
    assert (run.chunks_total, run.chunks_done, run.status) == (2, 2, SyncRun.Status.SUCCEEDED)


def test_second_sweep_of_a_source_is_refused_while_one_runs(sandbox, citizens):
    running = SyncRun.objects.create(
        source="youth", mode=SyncRun.Mode.FULL, trigger="test", heartbeat_at=timezone.now()
    )
    with pytest.raises(services.SweepAlreadyRunning, match=str(running.pk)):
        services.sweep_start(source="youth", incremental=False, trigger="test")
    # another source is not blocked
    assert (
        services.sweep_start(source="berths", incremental=False, trigger="test").status != "running"
    )


def test_a_sweep_whose_worker_died_is_abandoned_and_the_next_one_runs(sandbox, citizens, settings):
    settings.SYNC_STALE_SECONDS = 60
    lost = SyncRun.objects.create(
        source="youth",
        mode=SyncRun.Mode.FULL,
        trigger="test",
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )
    run = services.sweep_start(source="youth", incremental=False, trigger="test")
    assert run.status == SyncRun.Status.SUCCEEDED
    lost.refresh_from_db()
    assert (lost.status, lost.error_code) == (SyncRun.Status.ABANDONED, "WORKER_LOST")
    # a redelivered chunk of the lost run does nothing
    services.sweep_chunk(run_id=lost.pk, citizen_ids=[c.pk for c in citizens])
    lost.refresh_from_db()
    assert lost.chunks_done == 0


def test_incremental_youth_sweep_covers_everyone_since_the_service_cannot_say_what_changed(
    sandbox, citizens
):
    services.sweep_start(source="youth", incremental=False, trigger="test")
    run = services.sweep_start(source="youth", incremental=True, trigger="test")
    assert run.mode == SyncRun.Mode.INCREMENTAL and run.since is not None
    assert run.citizens == 3 and run.status == SyncRun.Status.SUCCEEDED


def test_switched_off_connector_neither_sweeps_nor_syncs(sandbox, citizens):
    ConnectorConfig.objects.update_or_create(source="youth", defaults={"enabled": False})
    with pytest.raises(services.SourceDisabled):
        services.sweep_start(source="youth", incremental=False, trigger="test")
    runs = services.citizen_sync(citizen=citizens[0], trigger="test")
    assert "youth" not in {run.source for run in runs}


def test_sync_command_prints_one_json_summary_and_exits_by_outcome(sandbox, citizens, settings):
    code, out = _sync_command("--source", "youth", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["ok"] is True
    assert summary["runs"][0]["status"] == "succeeded" and summary["created"] == 1
    code, out = _sync_command("--source", "youth", "--json")
    assert json.loads(out)["created"] == 0 and json.loads(out)["updated"] == 0

    settings.CONNECTOR_CLIENT_SECRET = "wrong"
    code, out = _sync_command("--source", "youth", "--citizen", str(AINO.sub), "--json")
    assert code == 1
    assert json.loads(out)["runs"][0]["error_code"] == "UPSTREAM_AUTH_FAILED"


# --- Many calls in flight ----------------------------------------------------------------------


@pytest.fixture
def strangers(sandbox):
    """Citizens with wallets whom the upstreams do not know (each still costs one call)."""
    return [
        citizen_get_or_create(issuer=sandbox.issuer, subject=str(uuid.uuid4()))[0]
        for _ in range(17)
    ]


def test_a_sweep_never_has_more_calls_in_flight_than_the_sources_budget(
    sandbox, citizens, strangers, settings
):
    connector_settings(settings, "youth", MAX_IN_FLIGHT=3, MAX_CALLS_PER_SECOND=1000.0)
    sandbox.reset_traffic(latency_ms=100)  # every answer takes a while: calls overlap
    try:
        run = services.sweep_start(source="youth", incremental=False, trigger="test")
        seen = sandbox.traffic()["youth"]
    finally:
        sandbox.reset_traffic(latency_ms=0)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert (run.citizens, run.created) == (20, 1)
    assert seen["requests"] == 20  # one call a citizen
    assert 1 < seen["max_in_flight"] <= 3  # they overlapped, never beyond the budget


def test_a_sweep_keeps_to_the_sources_calls_per_second(sandbox, citizens, strangers, settings):
    connector_settings(settings, "youth", MAX_IN_FLIGHT=4, MAX_CALLS_PER_SECOND=10.0)
    sandbox.reset_traffic()
    started = time.monotonic()
    run = services.sweep_start(source="youth", incremental=False, trigger="test")
    elapsed = time.monotonic() - started

    calls = sandbox.traffic()["youth"]["requests"]
    assert run.status == SyncRun.Status.SUCCEEDED and calls == 20
    # after a burst of as many as may be in flight, no faster than 10 a second (a bound that
    # holds however slow the machine is: a late call only adds to the elapsed time)
    assert calls <= 4 + 10.0 * elapsed


def test_concurrent_chunks_count_every_citizen_exactly_once(sandbox, citizens, strangers, settings):
    settings.SYNC_CHUNK_SIZE = 6
    connector_settings(settings, "youth", MAX_IN_FLIGHT=5, MAX_CALLS_PER_SECOND=1000.0)

    first = services.sweep_start(source="youth", incremental=False, trigger="test")
    second = services.sweep_start(source="youth", incremental=False, trigger="test")

    assert (first.chunks_total, first.chunks_done, first.status) == (4, 4, "succeeded")
    assert (first.citizens, first.fetched, first.created, first.unchanged) == (20, 1, 1, 0)
    assert (second.citizens, second.created, second.updated, second.unchanged) == (20, 0, 0, 1)
    assert DataRecord.objects.filter(source="youth").count() == 1


def test_an_opened_breaker_stops_the_calls_of_the_whole_pool(
    sandbox, citizens, strangers, settings
):
    settings.CONNECTOR_BREAKER_THRESHOLD = 3
    settings.CONNECTOR_MAX_ATTEMPTS = 1
    connector_settings(settings, "youth", MAX_IN_FLIGHT=4, MAX_CALLS_PER_SECOND=1000.0)
    services.sweep_start(source="youth", incremental=False, trigger="test")
    before = {(pk, bytes(payload), state) for pk, payload, state in _rows()}

    sandbox.set_faults("youth:500:1.0")
    sandbox.reset_traffic()
    try:
        run = services.sweep_start(source="youth", incremental=False, trigger="test")
        calls = sandbox.traffic()["youth"]["requests"]
    finally:
        sandbox.clear_faults()

    assert run.status == SyncRun.Status.FAILED and run.citizens_failed == 20
    assert {e["code"] for e in run.errors} == {"UPSTREAM_UNAVAILABLE", "UPSTREAM_CIRCUIT_OPEN"}
    # the three failures that opened it, and at most the calls already in flight then
    assert 3 <= calls <= 3 + 4
    assert {(pk, bytes(payload), state) for pk, payload, state in _rows()} == before


def _rows():
    return DataRecord.objects.values_list("pk", "payload", "state")


def test_a_long_chunk_keeps_the_runs_heartbeat_going(sandbox, citizens, strangers, settings):
    # given: a heartbeat due after every citizen (the interval is a quarter of the staleness)
    settings.SYNC_STALE_SECONDS = 0
    connector_settings(settings, "youth", MAX_IN_FLIGHT=4, MAX_CALLS_PER_SECOND=1000.0)

    with CaptureQueriesContext(connection) as captured:
        run = services.sweep_start(source="youth", incremental=False, trigger="test")

    beats = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("UPDATE")
        and "heartbeat_at" in q["sql"]
        and "chunks_done" not in q["sql"]
    ]
    assert run.status == SyncRun.Status.SUCCEEDED and run.citizens == 20
    assert len(beats) >= 19  # while storing, not only when the chunk is done
