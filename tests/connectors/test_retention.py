"""Retention: records that ended upstream longer ago than their source keeps them are deleted by
the purge (a daily beat task with a broker, `manage.py purge_expired_records` without), each
source's purge recorded in the run history; active records are never touched. The retention is
data (days) and words that cannot disagree.

Records are stored and ended by the wallet's own upsert, as a sync stores and ends them; only
their end time is moved into the past.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import timedelta
from io import StringIO

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.utils import timezone

from connectors import base, conf, selectors, services
from connectors.base import SourceInfo, retention_period
from connectors.models import SyncRun
from connectors.tasks import retention_purge_task
from tests.connector_settings import connector_settings
from tests.connectors.test_sync_dashboard import _staff_browser
from tests.factories import CitizenFactory
from tests.wallet.test_settings import _manage
from wallet.catalogue import Labels
from wallet.models import DataRecord
from wallet.services import UpstreamRecord, records_ended_delete, records_upsert

pytestmark = pytest.mark.django_db(databases="__all__")

MARKER = "HKI-" + uuid.uuid4().hex[:12]  # a value only the records hold
KINDS = {"youth": "membership", "berths": "lease", "library": "loan"}


def _stored(citizen, source: str, count: int = 1) -> list[str]:
    """`count` active records of the source's kind for the citizen; their upstream ids."""
    ids = [f"{source}-{uuid.uuid4().hex}" for _ in range(count)]
    records_upsert(
        citizen=citizen,
        source=source,
        records=[
            UpstreamRecord(kind=KINDS[source], external_id=i, payload={"marker": MARKER, "id": i})
            for i in ids
        ],
    )
    return ids


def _ended(source: str, *, days_ago: float, count: int = 1) -> set[uuid.UUID]:
    """A citizen's records of `source` that ended upstream `days_ago` days ago: stored, then
    ended by a sync that no longer saw them."""
    citizen = CitizenFactory()
    _stored(citizen, source, count)
    records_upsert(citizen=citizen, source=source, records=[], complete_kinds={KINDS[source]})
    rows = DataRecord.objects.filter(citizen=citizen, source=source)
    assert {row.state for row in rows} == {DataRecord.State.ENDED}
    rows.update(ended_at=timezone.now() - timedelta(days=days_ago))
    return {row.pk for row in rows}


def _active(source: str, *, days_ago: float) -> set[uuid.UUID]:
    """An active record fetched and created long ago (still there upstream)."""
    citizen = CitizenFactory()
    _stored(citizen, source)
    rows = DataRecord.objects.filter(citizen=citizen, source=source)
    long_ago = timezone.now() - timedelta(days=days_ago)
    rows.update(fetched_at=long_ago, created_at=long_ago, updated_at=long_ago)
    return {row.pk for row in rows}


def _left(ids: set[uuid.UUID]) -> set[uuid.UUID]:
    return set(DataRecord.objects.filter(pk__in=ids).values_list("pk", flat=True))


def test_the_defaults_differ_by_source_and_say_their_days():
    days = {c.source: c.retention_after_end.days for c in base.connectors()}
    assert days == {"youth": 365, "berths": 3 * 365, "library": 30}
    assert base.connector_for("youth").retention_text.en.startswith("1 year after")
    assert base.connector_for("berths").retention_text.fi.startswith("3 vuotta sen jälkeen")
    assert base.connector_for("library").retention_text.sv.startswith("30 dagar efter")


def test_ended_records_past_their_retention_are_deleted_and_nothing_else():
    youth_old = _ended("youth", days_ago=400, count=2)
    youth_recent = _ended("youth", days_ago=300)
    library_old = _ended("library", days_ago=31)
    library_recent = _ended("library", days_ago=29)
    berths_old = _ended("berths", days_ago=400)  # kept three years
    active = _active("youth", days_ago=2000) | _active("library", days_ago=2000)
    # active with an old end time (as one a sync brought back while the purge ran): still kept
    DataRecord.objects.filter(pk__in=active).update(ended_at=timezone.now() - timedelta(days=999))

    outcomes = services.records_retention_purge(trigger="test")

    assert {o.source: o.purged for o in outcomes} == {"youth": 2, "berths": 0, "library": 1}
    assert _left(youth_old | library_old) == set()
    kept = youth_recent | library_recent | berths_old | active
    assert _left(kept) == kept
    assert DataRecord.objects.filter(pk__in=active, state=DataRecord.State.ACTIVE).count() == 2


def test_a_deployment_sets_a_sources_retention_and_the_words_follow(settings):
    lease = _ended("berths", days_ago=400)
    connector_settings(settings, "berths", RETENTION_DAYS=100)
    berths = base.connector_for("berths")
    assert berths.retention_after_end == timedelta(days=100)
    assert berths.retention_text == Labels(
        "100 päivää sen jälkeen, kun vuokrasopimus tai vene on poistunut venepaikkajärjestelmästä",
        "100 dagar efter att hyresavtalet eller båten har tagits bort ur båtplatssystemet",
        "100 days after the lease or the boat has left the berth-reservation system",
    )

    [outcome] = services.records_retention_purge(trigger="test", sources=["berths"])

    assert outcome.purged == 1 and _left(lease) == set()


def test_each_sources_purge_is_a_run_in_the_history():
    _ended("youth", days_ago=400, count=3)

    services.records_retention_purge(trigger="command")

    runs = {run.source: run for run in SyncRun.objects.filter(mode=SyncRun.Mode.RETENTION)}
    assert set(runs) == {"youth", "berths", "library"}
    assert (runs["youth"].purged, runs["berths"].purged, runs["library"].purged) == (3, 0, 0)
    for run in runs.values():
        assert run.status == SyncRun.Status.SUCCEEDED and run.trigger == "command"
        assert run.finished_at is not None and run.citizen_id is None
        assert (run.fetched, run.created, run.ended) == (0, 0, 0)
        assert run.counts == ("purged",)


def test_a_dry_run_counts_deletes_nothing_and_records_no_run():
    old = _ended("youth", days_ago=400, count=2)

    outcomes = services.records_retention_purge(trigger="test", dry_run=True)

    assert {o.source: o.purged for o in outcomes} == {"youth": 2, "berths": 0, "library": 0}
    assert all(o.run is None for o in outcomes)
    assert _left(old) == old
    assert not SyncRun.objects.exists()


def test_the_purge_walks_in_bounded_batches_through_records_that_ended_together():
    # one sync ends a citizen's records at one instant: the keyset must page through ties
    old = _ended("library", days_ago=90, count=5)
    ended_before = timezone.now() - timedelta(days=30)

    batches = list(records_ended_delete(source="library", ended_before=ended_before, batch_size=2))

    assert batches == [2, 2, 1] and _left(old) == set()


def test_logs_name_sources_and_counts_never_values_or_people(caplog):
    citizen = CitizenFactory()
    ids = _stored(citizen, "youth", count=2)
    records_upsert(citizen=citizen, source="youth", records=[], complete_kinds={"membership"})
    records = DataRecord.objects.filter(citizen=citizen)
    records.update(ended_at=timezone.now() - timedelta(days=400))
    record_ids = [str(pk) for pk in records.values_list("pk", flat=True)]

    with caplog.at_level(logging.DEBUG):
        services.records_retention_purge(trigger="test", dry_run=True)
        services.records_retention_purge(trigger="test")

    messages = [r.getMessage() for r in caplog.records]
    assert "retention purge of youth: 2 ended records older than 365 days deleted" in messages
    assert any(m.startswith("retention purge of youth (dry run): 2") for m in messages)
    text = "\n".join(messages)
    for value in (MARKER, str(citizen.pk), citizen.subject, *ids, *record_ids):
        assert value not in text


def test_a_failing_source_is_recorded_and_the_others_still_run(monkeypatch):
    # A database that fails mid-purge: a fault the real database does not produce on demand.
    real = services.records_ended_delete

    def failing_for_youth(*, source, ended_before):  # type: ignore[no-untyped-def]
        if source != "youth":
            yield from real(source=source, ended_before=ended_before)
            return
        yield 4
        raise DatabaseError("connection lost")

    monkeypatch.setattr(services, "records_ended_delete", failing_for_youth)
    library_old = _ended("library", days_ago=60)

    outcomes = {o.source: o for o in services.records_retention_purge(trigger="test")}

    youth = outcomes["youth"].run
    assert youth is not None and youth.status == SyncRun.Status.FAILED
    assert youth.purged == 4 and youth.error_code == "INTERNAL_ERROR"
    assert youth.errors == [
        {"code": "INTERNAL_ERROR", "message": "the purge stopped: DatabaseError"}
    ]
    assert outcomes["library"].purged == 1 and _left(library_old) == set()


# --- The command, the task and its schedule -----------------------------------------------------


def test_the_command_prints_each_sources_count_and_its_dry_run_deletes_nothing():
    old = _ended("youth", days_ago=400, count=2)
    out = StringIO()

    call_command("purge_expired_records", "--dry-run", stdout=out)

    assert out.getvalue().splitlines() == [
        "youth: 2 ended records older than 365 days would be deleted (dry run)",
        "berths: 0 ended records older than 1095 days would be deleted (dry run)",
        "library: 0 ended records older than 30 days would be deleted (dry run)",
    ]
    assert _left(old) == old

    out = StringIO()
    call_command("purge_expired_records", "--source", "youth", stdout=out)

    assert out.getvalue() == "youth: 2 ended records older than 365 days deleted\n"
    assert _left(old) == set()
    assert SyncRun.objects.get(mode=SyncRun.Mode.RETENTION).trigger == "command"


def test_the_command_refuses_an_unknown_source():
    with pytest.raises(CommandError, match="unknown source boats; the sources are youth"):
        call_command("purge_expired_records", "--source", "boats")
    assert not SyncRun.objects.exists()


def test_the_scheduled_task_runs_the_purge(in_process_tasks):
    old = _ended("library", days_ago=45)

    retention_purge_task.delay()  # in process, as the embedded default (no broker) runs it

    assert _left(old) == set()
    run = SyncRun.objects.get(source="library", mode=SyncRun.Mode.RETENTION)
    assert (run.trigger, run.purged) == ("schedule", 1)


def _beat_entry(**env: str) -> dict[str, object]:
    code = (
        "import json; from django.conf import settings; "
        "e = settings.CELERY_BEAT_SCHEDULE['retention-purge']; "
        "print(json.dumps({'task': e['task'], 'hour': sorted(e['schedule'].hour), "
        "'minute': sorted(e['schedule'].minute), 'tz': settings.CELERY_TIMEZONE, "
        "'eager': settings.CELERY_TASK_ALWAYS_EAGER}))"
    )
    result = _manage("shell", "-v", "0", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_with_a_broker_beat_runs_the_purge_once_a_day_at_the_configured_hour():
    from wallet.celery import app

    entry = _beat_entry(CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
    assert entry == {
        "task": "connectors.retention_purge",
        "hour": [3],
        "minute": [17],
        "tz": "Europe/Helsinki",
        "eager": False,
    }
    assert "connectors.retention_purge" in app.tasks
    later = _beat_entry(
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0", WALLET_RETENTION_PURGE_HOUR="5"
    )
    assert later["hour"] == [5]
    wrong = _manage("check", WALLET_RETENTION_PURGE_HOUR="24")
    assert wrong.returncode != 0
    assert "WALLET_RETENTION_PURGE_HOUR must be an hour from 0 to 23" in wrong.stderr


# --- The setting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (0, "CONNECTORS['youth']['RETENTION_DAYS'] must be at least 1"),
        (-30, "CONNECTORS['youth']['RETENTION_DAYS'] must be at least 1"),
        ("30", "CONNECTORS['youth']['RETENTION_DAYS'] must be int, got str"),
        (True, "CONNECTORS['youth']['RETENTION_DAYS'] must be int, got bool"),
        (30.5, "CONNECTORS['youth']['RETENTION_DAYS'] must be int, got float"),
    ],
)
def test_the_retention_setting_is_a_positive_number_of_days(settings, value, problem):
    entry = {**settings.CONNECTORS["youth"], "RETENTION_DAYS": value}
    [found] = [p.message for p in conf.problems({"youth": entry})]
    assert found.startswith(problem)
    if "at least" in problem:  # it says what the setting is, and where it comes from
        assert "days a record is kept after it ended upstream" in found
        assert found.endswith(f"got {value} (environment: YOUTH_RETENTION_DAYS)")
    settings.CONNECTORS = {**settings.CONNECTORS, "youth": entry}
    with pytest.raises(ImproperlyConfigured, match=re.escape(problem)):
        base.connectors()


def test_the_retention_setting_comes_from_the_sources_environment_variable():
    result = _manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from connectors import base; "
        "print(base.connector_for('library').retention_after_end.days)",
        LIBRARY_RETENTION_DAYS="45",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "45"
    wrong = _manage("check", YOUTH_RETENTION_DAYS="0")
    assert wrong.returncode != 0
    assert "CONNECTORS['youth']['RETENTION_DAYS'] must be at least 1" in wrong.stderr
    assert "YOUTH_RETENTION_DAYS" in wrong.stderr
    not_a_number = _manage("check", YOUTH_RETENTION_DAYS="a year")
    assert not_a_number.returncode != 0
    assert "YOUTH_RETENTION_DAYS must be a number, got 'a year'" in not_a_number.stderr


# --- The words and the days agree ---------------------------------------------------------------


@pytest.mark.parametrize("days", [None, 1, 45, 730])
def test_every_sources_text_says_the_days_in_force_in_three_languages(settings, days):
    for source in ("youth", "berths", "library"):
        connector_settings(settings, source, RETENTION_DAYS=days)
    for connector in base.connectors():
        in_force = connector.retention_after_end.days
        assert in_force == (days or connector.info.retention_after_end.days)
        period, text = retention_period(in_force), connector.retention_text
        for language in ("fi", "sv", "en"):
            said = getattr(text, language)
            assert said.startswith(getattr(period, language) + " "), (connector.source, said)
            # no other number in the words: the period is said once, from the days
            number = in_force // 365 if in_force % 365 == 0 else in_force
            assert re.findall(r"\d+", said) == [str(number)]


def test_periods_are_said_in_years_when_whole_else_in_days():
    assert retention_period(365) == Labels("1 vuosi", "1 år", "1 year")
    assert retention_period(1095) == Labels("3 vuotta", "3 år", "3 years")
    assert retention_period(1) == Labels("1 päivä", "1 dag", "1 day")
    assert retention_period(400) == Labels("400 päivää", "400 dagar", "400 days")


def test_a_source_cannot_state_its_retention_in_words_alone():
    words = Labels("Kaksi vuotta", "Två år", "Two years")
    with pytest.raises(ValueError, match=r"retention.fi must say \{period\} once"):
        SourceInfo(words, words, words, words, timedelta(days=730), words)
    period = Labels("{period}", "{period}", "{period}")
    with pytest.raises(ValueError, match="whole number of days"):
        SourceInfo(words, words, words, period, timedelta(hours=12), words)


def test_the_citizens_page_says_the_retention_in_force(client, settings):
    citizen = CitizenFactory()
    _stored(citizen, "youth")
    client.force_login(citizen)

    page = client.get("/").content.decode()
    assert "1 vuosi sen jälkeen, kun jäsenyys on poistunut nuorisopalvelujen rekisteristä" in page
    assert "30 päivää sen jälkeen, kun laina on palautettu" in page

    connector_settings(settings, "youth", RETENTION_DAYS=400)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "400 days after the membership has left the youth services&#x27; register" in page
    [youth] = [
        s
        for s in selectors.citizen_sources(citizen=citizen, connectors=base.connectors())
        if s.name == "youth"
    ]
    assert youth.retention_days == 400 and youth.retention.startswith("400 days after")


# --- What the staff see -----------------------------------------------------------------------


def test_the_sync_dashboard_shows_each_sources_retention_and_latest_purge():
    _ended("youth", days_ago=400, count=2)
    services.records_retention_purge(trigger="command")
    _, browser = _staff_browser("en")

    page = browser.get("/staff/syncs/").content.decode()

    assert "Records are deleted 365 days after they ended upstream" in page
    assert "Records are deleted 30 days after they ended upstream" in page
    assert page.count("Last retention purge") == 3
    assert "2 records deleted" in page and "0 records deleted" in page
    youth_run = SyncRun.objects.get(source="youth", mode=SyncRun.Mode.RETENTION)
    run_page = browser.get(f"/staff/syncs/runs/{youth_run.pk}/").content.decode()
    assert "Retention purge" in run_page and "Command line" in run_page
    assert re.search(r'data-count="purged">2<', run_page)
    assert 'data-count="fetched"' not in run_page and "Progress" not in run_page
    progress = browser.get(f"/staff/syncs/runs/{youth_run.pk}/progress/").json()
    assert progress["counts"] == {"purged": 2}


def test_the_dashboards_queries_stay_flat_with_retention_runs(django_assert_num_queries):
    connectors = base.connectors()
    for _ in range(3):
        services.records_retention_purge(trigger="schedule")
    # 1 connector settings, 2 the newest sweeps and the newest purge of every source
    with django_assert_num_queries(2):
        rows = selectors.sync_dashboard(connectors=connectors)
    assert all(row.recent == [] for row in rows), "a purge is not a sweep"
    for row in rows:
        newest = (
            SyncRun.objects.filter(source=row.source, mode=SyncRun.Mode.RETENTION)
            .order_by("-started_at", "-id")
            .first()
        )
        assert row.latest_purge is not None and row.latest_purge.pk == newest.pk


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.usefixtures("in_process_tasks")
def test_an_admin_runs_a_sources_purge_through_the_api(live_server, sandbox):
    old = _ended("library", days_ago=45)
    admin_token = sandbox.password_token("admin")["access_token"]

    answer = httpx.post(
        f"{live_server.url}/graphql/",
        json={
            "query": 'mutation { runSync(source: "library", mode: RETENTION) { '
            "run { source mode status purged } errors { code } } }"
        },
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=30,
    ).json()["data"]["runSync"]

    assert answer == {
        "run": {"source": "library", "mode": "RETENTION", "status": "SUCCEEDED", "purged": 1},
        "errors": [],
    }
    assert _left(old) == set()
