"""Reads about syncs: a citizen's sources and the admin's connectors, whatever the history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors import base
from connectors.config import effective_config
from connectors.models import SyncRun
from connectors.selectors import citizen_sources, connector_states
from tests.factories import CitizenFactory

pytestmark = pytest.mark.django_db(databases="__all__")

Status, Mode = SyncRun.Status, SyncRun.Mode


def _run(*, source, mode, status, minutes_ago, citizen=None, error_code=""):
    """A finished run that started `minutes_ago` minutes ago (started_at is auto_now_add)."""
    started = timezone.now() - timedelta(minutes=minutes_ago)
    run = SyncRun.objects.create(
        source=source,
        mode=mode,
        citizen=citizen,
        trigger="test",
        status=status,
        finished_at=started + timedelta(seconds=5),
        error_code=error_code,
    )
    SyncRun.objects.filter(pk=run.pk).update(started_at=started)
    run.refresh_from_db()
    return run


def test_a_busy_source_does_not_push_the_others_to_never_synced(django_assert_num_queries):
    # given: berths synced well two days ago, library failed yesterday after a good run the
    # day before, then 120 youth runs (the citizen's own and sweeps) since
    citizen = CitizenFactory()
    berths = _run(
        source="berths",
        mode=Mode.CITIZEN,
        status=Status.SUCCEEDED,
        minutes_ago=2880,
        citizen=citizen,
    )
    library_good = _run(source="library", mode=Mode.FULL, status=Status.PARTIAL, minutes_ago=2000)
    _run(
        source="library",
        mode=Mode.CITIZEN,
        status=Status.FAILED,
        minutes_ago=1440,
        citizen=citizen,
        error_code="UPSTREAM_UNAVAILABLE",
    )
    for minute in range(120):
        mode = Mode.CITIZEN if minute % 2 else Mode.INCREMENTAL
        _run(
            source="youth",
            mode=mode,
            status=Status.SUCCEEDED,
            minutes_ago=minute + 1,
            citizen=citizen if mode == Mode.CITIZEN else None,
        )
    # runs that are not the citizen's: another citizen's, and a sweep still running
    _run(
        source="berths",
        mode=Mode.CITIZEN,
        status=Status.FAILED,
        minutes_ago=0,
        citizen=CitizenFactory(),
    )
    SyncRun.objects.create(source="berths", mode=Mode.FULL, trigger="test")

    # when: 1 query, the newest run and the newest good run of each source
    with django_assert_num_queries(1):
        sources = {
            s.name: s for s in citizen_sources(citizen=citizen, connectors=base.connectors())
        }

    # then
    assert sources["youth"].status == Status.SUCCEEDED and sources["youth"].last_synced_at
    assert sources["berths"].status == Status.SUCCEEDED
    assert sources["berths"].last_synced_at == berths.finished_at
    assert sources["library"].status == Status.FAILED
    assert sources["library"].error_code == "UPSTREAM_UNAVAILABLE"
    assert sources["library"].last_synced_at == library_good.finished_at


def test_a_source_never_synced_has_no_time_and_no_status(django_assert_num_queries):
    citizen = CitizenFactory()
    _run(source="youth", mode=Mode.CITIZEN, status=Status.FAILED, minutes_ago=1, citizen=citizen)
    with django_assert_num_queries(1):  # 1 runs
        sources = {
            s.name: s for s in citizen_sources(citizen=citizen, connectors=base.connectors())
        }
    assert (sources["youth"].status, sources["youth"].last_synced_at) == (Status.FAILED, None)
    assert (sources["berths"].status, sources["berths"].last_synced_at) == (None, None)


def test_admin_sees_each_connectors_latest_sweep_whatever_the_other_sources_did(
    django_assert_num_queries,
):
    berths_sweep = _run(source="berths", mode=Mode.FULL, status=Status.SUCCEEDED, minutes_ago=500)
    for minute in range(60):
        _run(source="youth", mode=Mode.INCREMENTAL, status=Status.SUCCEEDED, minutes_ago=minute)
    _run(source="berths", mode=Mode.CITIZEN, status=Status.FAILED, minutes_ago=0)
    for connector in base.connectors():  # the configs are cached: not counted here
        effective_config(connector.source)
    with django_assert_num_queries(1):  # 1 latest sweep of each source
        states = {s.source: s for s in connector_states(connectors=base.connectors())}
    assert states["berths"].latest_sweep == berths_sweep
    assert states["youth"].latest_sweep is not None
    assert states["library"].latest_sweep is None
