"""The pages keep the Content Security Policy without exceptions: no inline script, no inline
style, no event-handler attributes, nothing loaded from another origin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted(
    path
    for app in ("wallet", "consent", "connectors")
    for path in (ROOT / app / "templates").rglob("*.html")
)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
# loaded, not linked to: a link to a service's privacy policy may go anywhere
OTHER_ORIGIN = re.compile(r"""(?:<link[^>]*\shref|\ssrc)\s*=\s*["']?(?:https?:)?//""", re.I)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_template_needs_no_csp_exception(path):
    text = path.read_text()
    assert not INLINE_SCRIPT.search(text), "inline <script>: put it in a static file"
    assert not INLINE_STYLE.search(text), "inline style: put it in wallet.css"
    assert not EVENT_HANDLER.search(text), "an on* attribute is inline script"
    assert not OTHER_ORIGIN.search(text), "the pages load nothing from another origin"


def test_the_checks_would_see_a_violation():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/x.js" defer></script>')
    assert INLINE_STYLE.search('<p style="color:red">')
    assert EVENT_HANDLER.search('<button onclick="x()">')
    assert OTHER_ORIGIN.search('<link rel="stylesheet" href="https://cdn.example/x.css">')
    assert OTHER_ORIGIN.search('<img src="//cdn.example/x.png">')
    assert not OTHER_ORIGIN.search('<a href="https://example.org/privacy">')
    assert len(TEMPLATES) > 10
