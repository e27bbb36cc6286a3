"""The staff's sync pages: every source's state, "sync now", a run's progress and errors,
staff only, in three languages, with query counts flat in the history."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connectors import base, selectors, transport
from connectors.models import ConnectorConfig, SyncRun
from sandbox.demo import ADMIN, AINO, EERO, SOFIA
from tests.e2e.test_login_and_read import _browser_login
from tests.factories import CitizenFactory
from wallet.auth.oidc import SESSION_NAME_KEY, display_name
from wallet.services import citizen_get_or_create

DASHBOARD = "/staff/syncs/"


@pytest.fixture(autouse=True)
def _closed_breakers():
    transport.breaker.reset()
    yield
    transport.breaker.reset()


def _staff_browser(language: str = "en", name: str | None = None) -> tuple[object, Client]:
    staff = CitizenFactory(is_staff=True)
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    browser.force_login(staff)
    if name:
        session = browser.session
        session[SESSION_NAME_KEY] = name
        session.save()
    return staff, browser


def _run(source: str = "youth", **fields: object) -> SyncRun:
    values: dict[str, object] = {
        "mode": SyncRun.Mode.FULL,
        "trigger": "schedule",
        "status": SyncRun.Status.SUCCEEDED,
        "finished_at": timezone.now(),
        **fields,
    }
    return SyncRun.objects.create(source=source, **values)


@pytest.mark.django_db(databases="__all__")
class TestWhoMayLook:
    def test_anonymous_is_sent_to_sign_in_and_back(self):
        answer = Client().get(DASHBOARD)
        assert answer.status_code == 302
        assert answer["Location"] == "/oidc/authenticate/?next=%2Fstaff%2Fsyncs%2F"

    def test_a_citizen_who_is_not_staff_gets_a_403_page(self):
        browser = Client(HTTP_ACCEPT_LANGUAGE="en")
        browser.force_login(CitizenFactory())
        run = _run()
        for url in (
            DASHBOARD,
            f"/staff/syncs/runs/{run.pk}/",
            f"/staff/syncs/runs/{run.pk}/progress/",
        ):
            answer = browser.get(url)
            assert answer.status_code == 403
            assert "not as an administrator" in answer.content.decode()
        assert (
            browser.post("/staff/syncs/start/", {"source": "youth", "mode": "full"}).status_code
            == 403
        )
        assert not SyncRun.objects.exclude(pk=run.pk).exists()

    def test_the_nav_shows_syncs_to_staff_only(self):
        _, staff = _staff_browser()
        assert f'href="{DASHBOARD}"' in staff.get("/profile/").content.decode()
        citizen = Client(HTTP_ACCEPT_LANGUAGE="en")
        citizen.force_login(CitizenFactory())
        assert f'href="{DASHBOARD}"' not in citizen.get("/profile/").content.decode()


@pytest.mark.django_db(databases="__all__")
def test_staff_see_every_source_with_its_state(settings):
    # given: berths' breaker opened by failures, library switched off, youth on a schedule
    for _ in range(settings.CONNECTOR_BREAKER_THRESHOLD):
        transport.breaker.record("berths", ok=False)
    ConnectorConfig.objects.filter(source="library").update(enabled=False)
    ConnectorConfig.objects.filter(source="youth").update(sweep_interval_minutes=60)
    started = timezone.now() - timedelta(minutes=10)
    _run("youth", status=SyncRun.Status.FAILED, error_code="UPSTREAM_TIMEOUT")
    SyncRun.objects.filter(source="youth").update(started_at=started)
    _run("youth", status=SyncRun.Status.SUCCEEDED, created=3, fetched=4, unchanged=1)
    _, browser = _staff_browser()
    # when
    page = browser.get(DASHBOARD)
    # then
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    for connector in base.connectors():
        assert connector.labels.en in text
    rows = {row.source: row for row in selectors.sync_dashboard(connectors=base.connectors())}
    assert rows["berths"].breaker.open and rows["berths"].breaker.seconds_left > 0
    assert not rows["youth"].breaker.open
    assert "Open: calls paused for" in text and "Closed: calls go through" in text
    assert "Switched off" in text and "None: the connector is switched off" in text
    assert rows["youth"].next_scheduled_at is not None
    assert "50 % of the last 2 syncs failed at least partly" in text
    assert "UPSTREAM_TIMEOUT" in text and "Never" in text
    # sync-now forms: one per source that is on, incremental only where the upstream can tell
    assert text.count('name="source" value="youth"') == 1
    assert 'name="source" value="library"' not in text
    assert rows["berths"].supports_incremental and not rows["youth"].supports_incremental


@pytest.mark.django_db(databases="__all__")
def test_dashboard_queries_are_flat_in_the_number_of_runs(django_assert_num_queries):
    connectors = base.connectors()
    _run("youth")
    # 1 connector settings, 2 the newest sweeps of every source (a window function)
    with django_assert_num_queries(2):
        selectors.sync_dashboard(connectors=connectors)
    for source in ("youth", "berths", "library"):
        for _ in range(30):
            _run(source, status=SyncRun.Status.PARTIAL)
    with django_assert_num_queries(2):
        rows = selectors.sync_dashboard(connectors=connectors)
    assert all(len(row.recent) == selectors.RUNS_SHOWN for row in rows)
    assert all(row.finished_count == selectors.ERROR_RATE_WINDOW for row in rows)

    _, browser = _staff_browser()
    with CaptureQueriesContext(connection) as many:
        assert browser.get(DASHBOARD).status_code == 200
    SyncRun.objects.exclude(pk=SyncRun.objects.filter(source="youth").first().pk).delete()
    with CaptureQueriesContext(connection) as few:
        assert browser.get(DASHBOARD).status_code == 200
    assert len(many) == len(few)


@pytest.mark.django_db(databases="__all__")
def test_run_page_shows_counts_duration_and_safe_error_samples():
    started = timezone.now() - timedelta(seconds=90)
    run = _run(
        "library",
        status=SyncRun.Status.PARTIAL,
        fetched=5,
        created=2,
        failed=1,
        chunks_total=3,
        chunks_done=3,
        error_code="INVALID_RECORD",
        errors=[{"code": "INVALID_RECORD", "message": "library: loan.dueDate is not a date"}],
    )
    SyncRun.objects.filter(pk=run.pk).update(
        started_at=started, finished_at=started + timedelta(seconds=42)
    )
    _, browser = _staff_browser()
    text = browser.get(f"/staff/syncs/runs/{run.pk}/").content.decode()
    assert "Partly failed" in text and "42 seconds" in text and "3 of 3 chunks done." in text
    assert '<dd data-count="created">2</dd>' in text
    assert "loan.dueDate is not a date" in text
    assert browser.get(f"/staff/syncs/runs/{'0' * 8}-0000-0000-0000-{'0' * 12}/").status_code == 404


@pytest.mark.django_db(databases="__all__")
def test_progress_endpoint_shape_and_no_store():
    run = _run(
        "berths",
        status=SyncRun.Status.RUNNING,
        finished_at=None,
        chunks_total=4,
        chunks_done=1,
        fetched=7,
    )
    _, browser = _staff_browser()
    answer = browser.get(f"/staff/syncs/runs/{run.pk}/progress/")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    assert "no-store" in answer["Cache-Control"]
    body = answer.json()
    assert body == {
        "id": str(run.pk),
        "source": "berths",
        "status": "running",
        "statusLabel": "Running",
        "running": True,
        "chunksDone": 1,
        "chunksTotal": 4,
        "percent": 25,
        "progressText": "1 of 4 chunks done.",
        "counts": {
            "citizens": 0,
            "citizens_failed": 0,
            "fetched": 7,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "ended": 0,
            "failed": 0,
        },
        "finishedAt": None,
    }
    # the page a running sweep is on: the bar, the live text, the script, a link without it
    page = browser.get(f"/staff/syncs/runs/{run.pk}/").content.decode()
    assert '<progress class="sync-progress__bar"' in page and 'max="4" value="1"' in page
    assert 'aria-live="polite"' in page and "connectors/sync_progress.js" in page
    assert f'href="/staff/syncs/runs/{run.pk}/">Refresh</a>' in page
    assert "<script>" not in page and "style=" not in page


@pytest.mark.django_db(databases="__all__")
def test_sync_now_needs_the_csrf_token():
    staff = CitizenFactory(is_staff=True)
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(staff)
    refused = browser.post("/staff/syncs/start/", {"source": "youth", "mode": "full"})
    assert refused.status_code == 403 and not SyncRun.objects.exists()
    page = browser.get(DASHBOARD).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    # a sweep already running: refused by the service, with a message, nothing new started
    running = _run(
        "youth", status=SyncRun.Status.RUNNING, finished_at=None, heartbeat_at=timezone.now()
    )
    answer = browser.post(
        "/staff/syncs/start/", {"source": "youth", "mode": "full", "csrfmiddlewaretoken": token}
    )
    assert answer.status_code == 302 and answer["Location"] == f"/staff/syncs/runs/{running.pk}/"
    assert SyncRun.objects.count() == 1


@pytest.mark.parametrize(
    ("language", "heading"), [("fi", "Synkronoinnit"), ("sv", "Synkroniseringar"), ("en", "Syncs")]
)
@pytest.mark.django_db(databases="__all__")
def test_pages_in_each_language(language, heading):
    run = _run("youth")
    _, browser = _staff_browser(language)
    for url in (DASHBOARD, f"/staff/syncs/runs/{run.pk}/"):
        text = browser.get(url).content.decode()
        assert f'<html lang="{language}">' in text
        # the CSP allows no inline script or style
        assert "<script>" not in text and 'style="' not in text
    assert f"<h1>{heading}</h1>" in browser.get(DASHBOARD).content.decode()


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.usefixtures("in_process_tasks")
def test_sync_now_runs_a_sweep_and_its_page_shows_it_finished(sandbox):
    for person in (AINO, EERO, SOFIA):
        citizen_get_or_create(issuer=sandbox.issuer, subject=str(person.sub))
    staff, browser = _staff_browser()
    answer = browser.post("/staff/syncs/start/", {"source": "youth", "mode": "full"}, follow=True)
    run = SyncRun.objects.get(source="youth", mode=SyncRun.Mode.FULL)
    assert answer.redirect_chain == [(f"/staff/syncs/runs/{run.pk}/", 302)]
    assert run.trigger == f"admin:{staff.pk}" and run.status == SyncRun.Status.SUCCEEDED
    text = answer.content.decode()
    assert "The sync of Youth services finished: Succeeded." in text
    assert '<dd data-count="citizens">4</dd>' in text  # the three and the staff member
    assert '<dd data-count="created">1</dd>' in text  # aino's youth card
    assert "Staff member" in text and str(staff.pk) not in text
    # a second one while one runs: the clear message, on the running sweep's page
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.RUNNING, heartbeat_at=timezone.now()
    )
    again = browser.post("/staff/syncs/start/", {"source": "all", "mode": "full"}, follow=True)
    text = again.content.decode()
    assert again.status_code == 200
    assert "A sync of Youth services is already running: follow its progress below." in text
    assert again.redirect_chain == [(DASHBOARD, 302)]  # several sources: back to all of them
    assert "The sync of Boat berths finished: Succeeded." in text
    assert "The sync of Library finished: Succeeded." in text
    assert SyncRun.objects.filter(source="youth").count() == 1


def test_display_name_from_claims():
    assert display_name({"name": "  Alma   Ylläpitäjä "}) == "Alma Ylläpitäjä"
    assert display_name({"given_name": "Alma", "family_name": "Ylläpitäjä"}) == "Alma Ylläpitäjä"
    assert display_name({"sub": "x", "name": 3}) == ""


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.usefixtures("in_process_tasks")
def test_staff_are_greeted_by_name_not_by_their_uuid(live_server, sandbox, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    with httpx.Client(follow_redirects=True, timeout=20) as browser:
        assert _browser_login(browser, live_server, "admin").status_code == 200
        admin = browser.get(f"{live_server.url}/admin/").text
        dashboard = browser.get(
            f"{live_server.url}{DASHBOARD}", headers={"Accept-Language": "en"}
        ).text
    staff = citizen_get_or_create(issuer=sandbox.issuer, subject=str(ADMIN.sub))[0]
    assert "<strong>Alma Ylläpitäjä</strong>" in admin and str(staff.pk) not in admin
    assert "Signed in as Alma Ylläpitäjä" in dashboard
    # the name is in the sealed session only: no column holds it
    assert "Ylläpitäjä" not in str(list(type(staff).objects.filter(pk=staff.pk).values()))


@pytest.mark.django_db(databases="__all__")
def test_sync_now_for_an_unknown_source_starts_nothing_and_says_why():
    _, browser = _staff_browser()
    answer = browser.post("/staff/syncs/start/", {"source": "weather", "mode": "full"}, follow=True)
    assert answer.redirect_chain == [(DASHBOARD, 302)]
    assert "That sync cannot be started" in answer.content.decode()
    assert not SyncRun.objects.exists()
