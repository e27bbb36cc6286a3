"""`make screenshots`: docs/screenshots/<page>-<language>.png of every page in pages.PAGES, in
every language, at desktop width, the full page. Skipped unless SCREENSHOTS_DIR is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import LANGUAGES, SCREENSHOTS_DIR_ENV
from tests.browser.pages import PAGES, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.screenshots,
    # decided before any fixture runs: no database set up and flushed for nothing
    pytest.mark.skipif(
        not os.environ.get(SCREENSHOTS_DIR_ENV),
        reason=f"screenshots are taken by `make screenshots` ({SCREENSHOTS_DIR_ENV} unset)",
    ),
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks"),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("wallet_page", PAGES, ids=[p.name for p in PAGES])
def test_screenshot(screenshots_dir: Path, visitor, wallet_page: Page, language: str) -> None:
    visitor.language_choose(language)
    wallet_page.open(visitor)
    target = screenshots_dir / f"{wallet_page.name}-{language}.png"
    visitor.page.screenshot(path=str(target), full_page=True, animations="disabled")
    assert target.stat().st_size > 0
