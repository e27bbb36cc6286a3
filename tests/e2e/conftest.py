import pytest


@pytest.fixture
def browser_settings(settings, sandbox):  # type: ignore[no-untyped-def]
    # The live server speaks plain HTTP, and httpx (like a browser) keeps Secure cookies off it.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return settings
