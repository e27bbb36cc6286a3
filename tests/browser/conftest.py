"""Browser tests: Playwright (sync API) driving Debian's Chromium against the live wallet
(pytest-django's live server) and the sandbox over real HTTP.

Without Chromium at CHROMIUM_PATH (default /usr/bin/chromium) they skip with the reason; with
`CI` set or REQUIRE_SERVICES=1 they fail instead. No browser is ever downloaded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings

from tests.conftest import REQUIRE_SERVICES

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
LANGUAGES = [code for code, _ in django_settings.LANGUAGES]  # fi, sv, en
DESKTOP = {"width": 1280, "height": 800}
NARROW = {"width": 320, "height": 640}
TIMEOUT_MS = 20_000
SCREENSHOTS_DIR_ENV = "SCREENSHOTS_DIR"  # set by `make screenshots`
# A browser set to a language the wallet does not speak: the pages fall back to Finnish, the
# default, until a language is chosen (headless Chromium would otherwise ask for en-US).
BROWSER_LOCALE = "de-DE"


def _chromium_required() -> bool:
    """CI, REQUIRE_SERVICES=1 and `make screenshots` fail without Chromium instead of skipping."""
    return bool(os.environ.get("CI") or os.environ.get(SCREENSHOTS_DIR_ENV)) or REQUIRE_SERVICES


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One headless Chromium for the browser tests, closed when they are done.

    Playwright's sync API keeps an asyncio loop running in this thread while it lives, which
    makes Django refuse ORM calls ("async context"): the tests use the ORM synchronously, in
    this thread, as any test does, so the check is off for exactly as long as the browser runs.
    """
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        reason = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
        if _chromium_required():
            pytest.fail(f"CI or REQUIRE_SERVICES=1, but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class Visitor:
    """A person at a browser: one context (cookies), one tab, the live wallet's base URL."""

    context: Any
    page: Any
    base_url: str
    sandbox: Any

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def goto(self, path: str) -> Any:
        """Open a page of the wallet; the HTTP response of the final document."""
        return self.page.goto(self.url(path), wait_until="load")

    def language_choose(self, language: str) -> None:
        """The language a visitor's browser remembers (the wallet's language cookie), as if
        they had used the switcher before: the pages' default until a citizen chooses one."""
        self.context.add_cookies(
            [
                {
                    "name": django_settings.LANGUAGE_COOKIE_NAME,
                    "value": language,
                    "url": self.base_url,
                }
            ]
        )

    def sign_in(self, username: str) -> None:
        """Through the wallet's sign-in and the sandbox provider's login form, back to the
        wallet's front page (or wherever the sign-in was going)."""
        page = self.page
        if not page.url.startswith(f"{self.sandbox.base_url}/idp/login/"):
            self.goto("/oidc/authenticate/")
        assert page.url.startswith(f"{self.sandbox.base_url}/idp/login/"), page.url
        page.fill("#id_username", username)
        page.fill("#id_password", "demo")
        with page.expect_navigation(url=re.compile(re.escape(self.base_url)), wait_until="load"):
            page.click("button[type=submit]")

    def sign_in_state(self) -> str:
        """Start a sign-in without going to the provider: the `state` the wallet expects back."""
        response = self.context.request.get(self.url("/oidc/authenticate/"), max_redirects=0)
        assert response.status == 302, response.status
        return parse_qs(urlsplit(response.headers["location"]).query)["state"][0]


@pytest.fixture
def wallet_settings(settings, sandbox):  # type: ignore[no-untyped-def]
    """The live server speaks plain HTTP: its cookies cannot be Secure."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_COOKIE_SECURE = False
    return settings


@pytest.fixture
def visitor(browser, live_server, sandbox, wallet_settings) -> Iterator[Visitor]:  # type: ignore[no-untyped-def]
    """A fresh browser context at desktop width, signed out."""
    context = browser.new_context(viewport=DESKTOP, locale=BROWSER_LOCALE)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield Visitor(context=context, page=page, base_url=live_server.url, sandbox=sandbox)
    finally:
        context.close()


@pytest.fixture
def new_visitor(browser, live_server, sandbox, wallet_settings):  # type: ignore[no-untyped-def]
    """More browsers (another device of the same person, or another person)."""
    contexts = []

    def make() -> Visitor:
        context = browser.new_context(viewport=DESKTOP, locale=BROWSER_LOCALE)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return Visitor(
            context=context, page=context.new_page(), base_url=live_server.url, sandbox=sandbox
        )

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshots_dir() -> Path:
    path = Path(os.environ[SCREENSHOTS_DIR_ENV])
    path.mkdir(parents=True, exist_ok=True)
    return path
