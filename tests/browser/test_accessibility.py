"""Every page (pages.PAGES) in every language, at desktop width and at 320 px: no serious or
critical axe-core violation of WCAG 2.1 A/AA, the skip link is the first Tab and moves focus to
the content, focus is visible, and nothing scrolls sideways on a narrow phone."""

from __future__ import annotations

import pytest

from tests.browser.axe import (
    axe_failures,
    keyboard_failures,
    sideways_scroll_failures,
)
from tests.browser.conftest import DESKTOP, LANGUAGES, NARROW
from tests.browser.pages import PAGES, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__"),
    # sign-ins sync in the request: a Celery worker left running would race the test's flush
    pytest.mark.usefixtures("in_process_tasks"),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("wallet_page", PAGES, ids=[p.name for p in PAGES])
def test_page_is_accessible(visitor, wallet_page: Page, language: str) -> None:
    visitor.language_choose(language)
    wallet_page.open(visitor)
    page = visitor.page
    where = f"{wallet_page.name} [{language}]"
    assert page.evaluate("() => document.documentElement.lang") == language, where

    problems = axe_failures(page, f"{where} at {DESKTOP['width']} px")
    problems += keyboard_failures(page, where)
    page.set_viewport_size(NARROW)
    narrow = f"{where} at {NARROW['width']} px"
    problems += axe_failures(page, narrow)
    problems += sideways_scroll_failures(page, narrow, NARROW["width"])

    assert not problems, "\n".join(problems)
