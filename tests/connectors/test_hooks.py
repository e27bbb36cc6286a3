"""What the connectors plug into the core (connectors.hooks, registered in connectors.apps):
a sync at login and the sources' section of the front page.

The whole login with its sync, over HTTP, is
tests/e2e/test_login_and_read.py::test_browser_login_shows_profile_and_card_then_bearer_api_reads_it
(the card is on the front page only after the login-time sync ran)."""

import pytest
from celery.signals import task_prerun

from connectors.models import SyncRun
from tests.factories import CitizenFactory
from wallet import hooks, services
from wallet.services import UpstreamRecord


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_signing_in_enqueues_a_sync_of_the_citizens_sources(in_process_tasks):
    # given the callbacks the apps registered at start-up
    seen = []

    def record(sender=None, args=None, kwargs=None, **extra):
        seen.append((sender.name, tuple(args or ())))

    citizen = CitizenFactory()
    task_prerun.connect(record)
    try:
        # when the login calls the hook
        hooks.citizen_signed_in(citizen=citizen)
    finally:
        task_prerun.disconnect(record)

    # then one citizen sync ran, for this citizen, because of the login
    assert seen == [("connectors.citizen_sync", (str(citizen.pk), "login"))]


@pytest.mark.django_db(databases="__all__")
def test_front_page_shows_the_profile_then_each_source_with_its_latest_sync(client):
    citizen = CitizenFactory()
    services.records_upsert(
        citizen=citizen,
        source="youth",
        records=[
            UpstreamRecord(
                kind="membership",
                external_id="node-1",
                payload={"membership_number": "900001", "status": "ACTIVE"},
            )
        ],
    )
    SyncRun.objects.create(
        source="youth",
        mode=SyncRun.Mode.CITIZEN,
        citizen=citizen,
        trigger="login",
        status=SyncRun.Status.FAILED,
        error_code="upstream_unavailable",
    )
    client.force_login(citizen)

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert page.index("Profile") < page.index("Youth services") < page.index("Boat berths")
    assert "900001" in page
    youth = page[page.index('id="source-youth"') : page.index('id="source-berths"')]
    assert "Update failed" in youth and "Not updated yet" in youth


@pytest.mark.django_db(databases="__all__")
def test_front_page_without_records_or_syncs_says_so(client):
    client.force_login(CitizenFactory())

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Nothing yet." in page and "Not updated yet" in page
    assert "The city's system holds nothing about you." in page
    assert "Link your library card" in page
