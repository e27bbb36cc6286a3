"""The connectors' citizen pages: every source on the front page, "refresh my data" and its
progress, linking a library card. Syncs and linking run over real HTTP against the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client

from connectors.models import LibraryLink, LinkAttemptCounter, SyncRun
from sandbox.demo import AINO, SOFIA, SOFIA_LIBRARY
from tests.connector_settings import connector_settings
from tests.factories import CitizenFactory
from wallet.services import citizen_get_or_create

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks"),
]


def _browser(citizen, language="en"):
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    browser.force_login(citizen)
    return browser


def _demo(sandbox, person):
    return citizen_get_or_create(issuer=sandbox.issuer, subject=str(person.sub))[0]


def test_refresh_syncs_every_source_and_the_page_shows_the_records_and_why(sandbox):
    aino = _demo(sandbox, AINO)
    browser = _browser(aino)

    answer = browser.post("/refresh/")

    assert answer.status_code == 302 and answer["Location"] == "/?refreshing=1"
    runs = SyncRun.objects.filter(citizen=aino, trigger="refresh")
    assert sorted(runs.values_list("source", flat=True)) == ["berths", "library", "youth"]
    status = browser.get("/refresh/status/").json()
    assert status["done"] is True
    youth = next(s for s in status["sources"] if s["source"] == "youth")
    assert (
        youth
        == {
            "source": "youth",
            "label": "Youth services",
            "status": "succeeded",
            "text": "Up to date",
            "fetched": youth["fetched"],
        }
        and youth["fetched"] >= 1
    )
    page = browser.get("/").content.decode()
    youth_section = page[page.index('id="source-youth"') : page.index('id="source-berths"')]
    assert "Membership number" in youth_section and "Up to date" in youth_section
    assert "Youth centre membership cards and guardian approval" in youth_section  # why
    assert "/static/connectors/refresh.js" in page


def test_refresh_needs_a_signed_in_citizen_and_its_csrf_token():
    assert Client().post("/refresh/").status_code == 302  # to sign in
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(CitizenFactory())
    assert browser.post("/refresh/").status_code == 403
    assert Client().get("/refresh/status/").status_code == 302


def test_the_front_page_speaks_finnish_with_dates_in_finnish_format(sandbox):
    aino = _demo(sandbox, AINO)
    browser = _browser(aino, "fi")
    browser.post("/refresh/")
    page = browser.get("/").content.decode()
    assert '<html lang="fi">' in page and "Kaupungin järjestelmistä" in page
    assert "Jäsennumero" in page and "Miksi kaupungilla on nämä tiedot" in page
    assert "Ajan tasalla" in page


def test_linking_a_card_on_the_page_then_loans_show(sandbox):
    sofia = _demo(sandbox, SOFIA)
    browser = _browser(sofia)
    form = browser.get("/library/link/").content.decode()
    assert 'autocomplete="current-password"' in form and 'type="password"' in form

    answer = browser.post(
        "/library/link/", {"barcode": SOFIA_LIBRARY.barcode, "pin": SOFIA_LIBRARY.pin}, follow=True
    )

    assert answer.redirect_chain[-1][0] == "/"
    page = answer.content.decode()
    assert "Your library card is linked." in page
    assert LibraryLink.objects.filter(citizen=sofia).exists()
    library = page[page.index('id="source-library"') :]
    assert "Link your library card to see" not in library
    assert "Loan" in library  # the link's sync brought her loans
    assert SOFIA_LIBRARY.pin not in page


def test_a_wrong_pin_is_explained_and_the_lockout_says_when(sandbox, settings):
    connector_settings(settings, "library", LINK_ATTEMPTS=2)
    sofia = _demo(sandbox, SOFIA)
    browser = _browser(sofia)
    wrong = {"barcode": SOFIA_LIBRARY.barcode, "pin": "0000"}

    first = browser.post("/library/link/", wrong).content.decode()
    assert "The card number or the PIN is wrong." in first
    assert 'value="0000"' not in first  # the PIN is never sent back
    browser.post("/library/link/", wrong)
    locked = browser.post("/library/link/", {**wrong, "pin": SOFIA_LIBRARY.pin}).content.decode()
    assert "Too many attempts" in locked and "15 minutes" in locked
    assert not LibraryLink.objects.filter(citizen=sofia).exists()

    # in Finnish, and one minute before the window ends, in the singular
    LinkAttemptCounter.objects.update(
        window_start=F("window_start") - timedelta(minutes=14, seconds=30)
    )
    finnish = _browser(sofia, "fi")
    text = finnish.post("/library/link/", {**wrong, "pin": SOFIA_LIBRARY.pin}).content.decode()
    assert "Liian monta yritystä" in text and "1 minuutin" in text


def test_an_empty_form_is_explained_without_asking_the_library(sandbox):
    page = _browser(CitizenFactory()).post("/library/link/", {"barcode": "", "pin": ""})
    text = page.content.decode()
    assert page.status_code == 200 and "This field is required." in text
    assert 'href="#id_barcode"' in text


def test_the_library_down_is_a_clear_message(sandbox, settings):
    # nothing listens there
    connector_settings(settings, "library", BASE_URL="http://127.0.0.1:9/sierra/")
    from connectors.config import config_cache_clear

    config_cache_clear()
    sofia = _demo(sandbox, SOFIA)
    text = (
        _browser(sofia)
        .post("/library/link/", {"barcode": SOFIA_LIBRARY.barcode, "pin": SOFIA_LIBRARY.pin})
        .content.decode()
    )
    assert "The library cannot be reached right now." in text
    config_cache_clear()


def _front_page_queries(records: int) -> dict[str, int]:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from wallet import services
    from wallet.services import UpstreamRecord

    citizen = CitizenFactory()
    services.records_upsert(
        citizen=citizen,
        source="youth",
        records=[
            UpstreamRecord(kind="membership", external_id=f"{records}-{n}", payload={"status": "A"})
            for n in range(records)
        ],
    )
    browser = _browser(citizen)
    captured = {alias: CaptureQueriesContext(connections[alias]) for alias in ("default", "keys")}
    with captured["default"], captured["keys"]:
        assert browser.get("/").status_code == 200
    return {alias: len(context) for alias, context in captured.items()}


def test_the_front_page_queries_stay_the_same_however_many_records():
    one, many = _front_page_queries(1), _front_page_queries(8)
    assert one == many
    # session, citizen, profile with records, sources' runs, the library link; one key fetch
    assert one == {"default": 5, "keys": 1}
