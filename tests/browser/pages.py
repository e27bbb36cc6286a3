"""Every page of the wallet, once: what the accessibility tests check and `make screenshots`
photographs, in every language.

A new page is one line in PAGES: Page(name, how to reach it, who signs in). `reach` is the
page's path, or a function given the signed-in Visitor that sets up what the page needs (a
consent request, a failed sign-in) and returns the path, or that opens the page itself (submits
a form) and returns the document's response. `status` is the HTTP status the page answers with;
`who` is a demo login (aino, eero, sofia, admin) or None for signed out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.browser.conftest import Visitor

DEMO_SERVICE = "demo-service"
DEMO_SERVICE_FIELDS = ["profile.email", "youth.membership.status"]
DEMO_SERVICE_PURPOSE = "membership-check"


@dataclass(frozen=True)
class Page:
    name: str  # test id, and the screenshot's file name: docs/screenshots/<name>-<lang>.png
    reach: str | Callable[[Visitor], Any]  # a path, or a function returning one or a response
    who: str | None = None
    status: int = 200

    def open(self, visitor: Visitor) -> Any:
        """Sign in if the page is someone's, set it up, open it; the document's response."""
        if self.who:
            visitor.sign_in(self.who)
        reached = self.reach if isinstance(self.reach, str) else self.reach(visitor)
        response = visitor.goto(reached) if isinstance(reached, str) else reached
        assert response is not None and response.status == self.status, (
            f"{self.name}: {visitor.page.url} answered {response.status if response else None}, "
            f"expected {self.status}"
        )
        return response


def demo_service_request(citizen_hint: str | None = None) -> Any:
    """demo-service asks (as it would over the API) for two fields, for its registered purpose
    and redirect URI: the ConsentRequest."""
    from consent.demo import demo_services_seed
    from consent.selectors import service_cache_clear
    from consent.services import consent_request_create

    service_cache_clear()
    service = next(s for s in demo_services_seed() if s.slug == DEMO_SERVICE)
    return consent_request_create(
        service=service,
        field_ids=DEMO_SERVICE_FIELDS,
        purpose_code=DEMO_SERVICE_PURPOSE,
        redirect_uri=service.redirect_uri_list()[0],
        citizen_hint=citizen_hint,
    )


def aino_consents_and_demo_service_reads() -> None:
    """aino (signed in: she exists) has given demo-service a consent, and it has read once."""
    from consent.selectors import service_cache_clear
    from consent.services import citizen_data_read, consent_request_decide
    from sandbox.demo import AINO
    from wallet.models import Citizen

    request = demo_service_request(citizen_hint=str(AINO.sub))
    aino = Citizen.objects.get(subject=str(AINO.sub))
    consent = consent_request_decide(
        citizen=aino, loa="substantial", request_id=request.pk, approve=True
    ).consent
    assert consent is not None
    service_cache_clear()
    citizen_data_read(
        service=request.service,
        pairwise_id=consent.subject.pairwise_id,
        request_id="browser-tests-read",
        field_ids=None,
    )


def _consent_requests(visitor: Visitor) -> str:
    from sandbox.demo import AINO

    demo_service_request(citizen_hint=str(AINO.sub))
    return "/consent-requests/"


def _consents(visitor: Visitor) -> str:
    aino_consents_and_demo_service_reads()
    return "/consents/"


def _access_log(visitor: Visitor) -> str:
    aino_consents_and_demo_service_reads()
    return "/log/"


def _sync_run(visitor: Visitor) -> Any:
    """The admin starts a sweep of every source from the dashboard: its run page."""
    visitor.goto("/staff/syncs/")
    with visitor.page.expect_navigation() as navigation:
        visitor.page.click("main form[method=post] button[type=submit]")
    return navigation.value


def _consent_request(visitor: Visitor) -> str:
    return f"/consent/{demo_service_request().pk}/"


def _sign_in_failed(visitor: Visitor) -> str:
    # the provider sends the browser back with an error (the person cancelled at the provider)
    return f"/oidc/callback/?error=access_denied&state={visitor.sign_in_state()}"


def _profile_with_errors(visitor: Visitor) -> Any:
    """The profile form sent back with its error summary and a field marked invalid."""
    visitor.goto("/profile/")
    visitor.page.fill("input[name=email]", "not an email address")
    with visitor.page.expect_navigation() as navigation:
        visitor.page.click("main form[method=post] button[type=submit]")
    assert visitor.page.locator("[aria-invalid=true]").count() >= 1, "the email is not refused"
    return navigation.value


PAGES: list[Page] = [
    Page("welcome", "/"),
    Page("home", "/", who="aino"),
    Page("sign-in-failed", _sign_in_failed, status=401),
    Page("consent-request", _consent_request, who="aino"),
    Page("profile", "/profile/", who="aino"),
    Page("profile-errors", _profile_with_errors, who="aino"),
    Page("consent-requests", _consent_requests, who="aino"),
    Page("consents", _consents, who="aino"),
    Page("access-log", _access_log, who="aino"),
    Page("library-link", "/library/link/", who="eero"),
    Page("sync-dashboard", "/staff/syncs/", who="admin"),
    Page("sync-run", _sync_run, who="admin"),
    Page("processing", "/processing/"),
    Page("erase", "/erase/", who="sofia"),
    Page("erased", "/erased/"),
]
