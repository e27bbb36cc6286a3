"""Journeys through the wallet in a real browser (issue 11, point 8), against the live wallet
and the sandbox: the provider's login form, the pages, the service's API.

Each step that needs a page still being built is a test of its own that opens the page first
and skips ("page not built yet") only when that URL answers 404: it starts running by itself
the day the page lands. The paths those pages are expected at are the constants below.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sandbox.demo import AINO, AINO_YOUTH_CARD, EERO_LEASE, EERO_LIBRARY
from tests.browser.conftest import Visitor
from tests.browser.pages import DEMO_SERVICE, DEMO_SERVICE_FIELDS, demo_service_request
from tests.consent.conftest import CITIZEN_DATA, CONSENT_REQUEST, REDIRECT_URIS, SERVICE_SECRETS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__"),
    # sign-ins sync in the request: a Celery worker left running would race the test's flush
    pytest.mark.usefixtures("in_process_tasks"),
]

ACCESS_LOG_PATH = "/log/"
CONSENTS_PATH = "/consents/"
LIBRARY_CARD_PATH = "/library/link/"
SYNC_DASHBOARD_PATH = "/staff/syncs/"


def page_or_skip(visitor: Visitor, path: str) -> Any:
    """Open a page still being built by others: skip while its URL is a 404."""
    response = visitor.goto(path)
    if response is not None and response.status == 404:
        pytest.skip(f"page not built yet: {path} answers 404")
    assert response is not None and response.status == 200, (path, response and response.status)
    return response


def eventually(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.3)


class DemoService:
    """demo-service, speaking to the wallet's API over HTTP with its own client-credentials
    token."""

    def __init__(self, visitor: Visitor) -> None:
        self.api = f"{visitor.base_url}/graphql/"
        self.token = visitor.sandbox.client_credentials_token(
            DEMO_SERVICE, SERVICE_SECRETS[DEMO_SERVICE]
        )["access_token"]

    def call(self, query: str, **variables: object) -> dict[str, Any]:
        response = httpx.post(
            self.api,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=20,
        )
        assert response.status_code == 200, response.text[:500]
        body = response.json()
        assert not body.get("errors"), body
        return dict(body["data"])

    def state(self, request_id: str) -> str:
        return str(self.call(CONSENT_REQUEST, id=request_id)["consentRequest"]["state"])

    def read(self, request_id: str) -> dict[str, Any]:
        """What the service learns of the citizen who decided its request, then reads."""
        outcome = self.call(CONSENT_REQUEST, id=request_id)["consentRequest"]
        assert outcome["state"] == "GIVEN", outcome
        return dict(self.call(CITIZEN_DATA, id=outcome["citizenId"])["citizenData"])


def aino_signs_in_from_the_front_page(visitor: Visitor) -> None:
    visitor.goto("/")
    visitor.page.click("a[href='/oidc/authenticate/']")
    visitor.page.wait_for_url(f"{visitor.sandbox.base_url}/idp/login/**")
    visitor.sign_in("aino")
    assert visitor.page.url == f"{visitor.base_url}/"


def aino_approves(visitor: Visitor, service: DemoService) -> str:
    """demo-service asks for aino's data and she approves on the approval page: the request's
    id once the service can see her decision."""
    request = demo_service_request(citizen_hint=str(AINO.sub))
    visitor.goto(f"/consent/{request.pk}/")
    page = visitor.page
    assert page.locator("h1").inner_text().strip(), "the approval page has a heading"
    page.click("button[name=decision][value=approve]")
    eventually(lambda: service.state(request.pk) == "GIVEN", "her approval recorded", timeout=10)
    return str(request.pk)


def test_aino_signs_in_sees_her_card_approves_and_the_service_reads(visitor: Visitor) -> None:
    aino_signs_in_from_the_front_page(visitor)
    main = visitor.page.locator("main")
    assert AINO.first_name in main.inner_text()
    assert AINO_YOUTH_CARD.membership_number in main.inner_text(), "her youth card"

    service = DemoService(visitor)
    request_id = aino_approves(visitor, service)

    read = service.read(request_id)
    assert read["grantedFields"] == DEMO_SERVICE_FIELDS
    values = {v["fieldId"]: v["value"] for r in read["records"] for v in r["values"]}
    assert values["profile.email"] == AINO.email


def test_after_approving_the_browser_goes_back_to_the_service(visitor: Visitor) -> None:
    visitor.sign_in("aino")
    request = demo_service_request(citizen_hint=str(AINO.sub))
    visitor.goto(f"/consent/{request.pk}/")
    back_to = REDIRECT_URIS[DEMO_SERVICE]
    # nothing listens at the service's redirect URI: that the browser asks for it is enough
    with visitor.page.expect_request(lambda r: r.url.startswith(back_to), timeout=3000) as back:
        visitor.page.click("button[name=decision][value=approve]")
    assert f"consent_request={request.pk}" in back.value.url and "state=given" in back.value.url


def test_aino_switches_to_swedish_and_it_follows_her_to_another_browser(
    visitor: Visitor, new_visitor: Callable[[], Visitor]
) -> None:
    aino_signs_in_from_the_front_page(visitor)
    page = visitor.page
    assert page.evaluate("() => document.documentElement.lang") == "fi"  # the default
    with page.expect_navigation():
        page.click("form.language-switcher button[value=sv]")
    assert page.evaluate("() => document.documentElement.lang") == "sv"
    assert page.url == f"{visitor.base_url}/"
    current = page.locator("form.language-switcher [aria-current=true]")
    assert current.get_attribute("value") == "sv"

    # her choice is kept on her account: another browser, without the cookie, after sign-in
    elsewhere = new_visitor()
    elsewhere.sign_in("aino")
    assert elsewhere.page.evaluate("() => document.documentElement.lang") == "sv"


def test_aino_sees_the_services_read_in_her_log(visitor: Visitor) -> None:
    visitor.language_choose("en")
    aino_signs_in_from_the_front_page(visitor)
    service = DemoService(visitor)
    service.read(aino_approves(visitor, service))

    page_or_skip(visitor, ACCESS_LOG_PATH)
    log = visitor.page.locator("main").inner_text()
    assert "Youth centre bookings" in log, "the service that read, by name"


def test_aino_withdraws_and_the_service_gets_nothing_more(visitor: Visitor) -> None:
    visitor.language_choose("en")
    aino_signs_in_from_the_front_page(visitor)
    service = DemoService(visitor)
    request_id = aino_approves(visitor, service)
    assert service.read(request_id)["grantedFields"] == DEMO_SERVICE_FIELDS

    page_or_skip(visitor, CONSENTS_PATH)
    page = visitor.page
    assert "Youth centre bookings" in page.locator("main").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("withdraw", re.I)).first.click()
    after = service.read(request_id)
    assert after["grantedFields"] == []
    assert set(DEMO_SERVICE_FIELDS) <= set(after["withheldFields"])


def test_eero_links_his_library_card_and_sees_his_loans_and_his_berth(
    visitor: Visitor,
) -> None:
    visitor.language_choose("en")
    visitor.sign_in("eero")
    page_or_skip(visitor, LIBRARY_CARD_PATH)
    page = visitor.page
    page.get_by_label(re.compile("card number|barcode", re.I)).fill(EERO_LIBRARY.barcode)
    page.get_by_label(re.compile(r"\bPIN\b", re.I)).fill(EERO_LIBRARY.pin)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("link", re.I)).first.click()

    def dashboard_shows_loans_and_berth() -> bool:
        visitor.goto("/")
        shown = page.locator("main").inner_text()
        loans = all(c.call_number in shown for c in EERO_LIBRARY.checkouts)
        return loans and EERO_LEASE.harbor in shown

    eventually(dashboard_shows_loans_and_berth, "eero's loans and berth on his dashboard")


def test_admin_runs_a_sweep_and_watches_it_finish(visitor: Visitor) -> None:
    from connectors.models import SyncRun

    visitor.language_choose("en")
    visitor.sign_in("admin")
    page_or_skip(visitor, SYNC_DASHBOARD_PATH)
    page = visitor.page
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("sync", re.I)).first.click()

    def sweep_finished() -> bool:
        sweeps = SyncRun.objects.exclude(mode=SyncRun.Mode.CITIZEN)
        return sweeps.exists() and not sweeps.filter(status=SyncRun.Status.RUNNING).exists()

    eventually(sweep_finished, "the admin's sweep finishing", timeout=60)
    assert set(
        SyncRun.objects.exclude(mode=SyncRun.Mode.CITIZEN).values_list("status", flat=True)
    ) == {SyncRun.Status.SUCCEEDED}
    visitor.goto(SYNC_DASHBOARD_PATH)
    assert "Succeeded" in page.locator("main").inner_text(), "the finished run, on the dashboard"
