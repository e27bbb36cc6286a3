"""Every page of the wallet, once: what the accessibility tests check and `make screenshots`
photographs, in every language.

A new page is one line in PAGES: Page(name, how to reach it, who signs in). `reach` is the
page's path, or a function given the signed-in Visitor that sets up what the page needs (a
consent request, a failed sign-in) and returns the path. `status` is the HTTP status the page
answers with; `who` is a demo login (aino, eero, sofia, admin) or None for signed out.
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
    reach: str | Callable[[Visitor], str]
    who: str | None = None
    status: int = 200

    def open(self, visitor: Visitor) -> Any:
        """Sign in if the page is someone's, set it up, open it; the document's response."""
        if self.who:
            visitor.sign_in(self.who)
        path = self.reach if isinstance(self.reach, str) else self.reach(visitor)
        response = visitor.goto(path)
        assert response is not None and response.status == self.status, (
            f"{self.name}: {path} answered {response.status if response else None}, "
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


def _consent_request(visitor: Visitor) -> str:
    return f"/consent/{demo_service_request().pk}/"


def _sign_in_failed(visitor: Visitor) -> str:
    # the provider sends the browser back with an error (the person cancelled at the provider)
    return f"/oidc/callback/?error=access_denied&state={visitor.sign_in_state()}"


PAGES: list[Page] = [
    Page("welcome", "/"),
    Page("home", "/", who="aino"),
    Page("sign-in-failed", _sign_in_failed, status=401),
    Page("consent-request", _consent_request, who="aino"),
]
