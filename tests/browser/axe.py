"""axe-core (node_modules/axe-core, installed by `make assets`) run in the page, and the other
checks every page gets: keyboard entry through the skip link, visible focus, no sideways scroll.

The pages' CSP forbids inline script, so axe is not added as a <script>: its source is evaluated
through the DevTools protocol (page.evaluate), which the page's CSP does not govern.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = ("serious", "critical")


@functools.cache
def _axe_source() -> str:
    if not AXE_JS.is_file():
        raise AssertionError(f"{AXE_JS} is missing: run `make assets` (part of `make venv`)")
    return AXE_JS.read_text(encoding="utf-8")


def axe_run(page: Any) -> list[dict[str, Any]]:
    """axe's WCAG 2.1 A and AA violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    result = page.evaluate(
        """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                       resultTypes: ['violations']})
            .then(r => r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                targets: v.nodes.map(n => n.target.join(' ')),
            })))""",
        WCAG_21_AA,
    )
    return list(result)


def axe_failures(page: Any, where: str) -> list[str]:
    """One line per serious or critical violation: where, rule id, impact, targets, help URL."""
    return [
        f"{where}: {v['id']} ({v['impact']}) {v['help']} -- targets: "
        f"{', '.join(v['targets'][:5])}{' ...' if len(v['targets']) > 5 else ''} -- {v['helpUrl']}"
        for v in axe_run(page)
        if v["impact"] in FAILING_IMPACTS
    ]


_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), id: el.id, cls: el.className,
    role: el.getAttribute('role') || '',
    text: (el.innerText || '').trim().slice(0, 40),
    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
    boxShadow: style.boxShadow,
    // An HDS checkbox or radio button hides the input and draws it, and its focus ring, as the
    // ::before of the label that follows it.
    drawnBoxShadow: (['checkbox', 'radio'].includes(el.type)
        && el.nextElementSibling && el.nextElementSibling.tagName === 'LABEL')
      ? getComputedStyle(el.nextElementSibling, '::before').boxShadow : '',
  };
}"""


def _visible_focus(focused: dict[str, Any]) -> bool:
    """An outline, or the focus ring the Helsinki Design System draws on its text inputs
    (a box shadow), or on the box it draws for a checkbox (its label's ::before)."""
    outline = focused["outlineStyle"] != "none" and focused["outlineWidth"] > 0
    return (
        outline
        or focused["boxShadow"] not in ("", "none")
        or focused["drawnBoxShadow"] not in ("", "none")
    )


def keyboard_failures(page: Any, where: str, tabs: int = 8) -> list[str]:
    """From the page as loaded: the first Tab reaches the skip link, Enter on it moves focus to
    <main>, and every link, button or form field Tab reaches next shows a visible focus."""
    problems: list[str] = []
    page.keyboard.press("Tab")
    first = page.evaluate(_FOCUSED)
    if not first or "skip-link" not in str(first["cls"]):
        return [f"{where}: the first Tab should reach the skip link, it reached {first}"]
    if not _visible_focus(first):
        problems.append(f"{where}: the focused skip link has no visible outline: {first}")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'main'")
    checked = 0
    for _ in range(tabs):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None:
            break
        # controls, and regions made focusable so a wide table scrolls from the keyboard
        if focused["tag"] in ("a", "button", "input", "select", "textarea", "summary") or (
            focused["role"] == "region"
        ):
            checked += 1
            if not _visible_focus(focused):
                problems.append(f"{where}: focus is not visible on {focused}")
    if checked == 0:
        problems.append(f"{where}: Tab after the skip link reached nothing focusable")
    return problems


def sideways_scroll_failures(page: Any, where: str, width: int) -> list[str]:
    scroll_width = page.evaluate("() => document.scrollingElement.scrollWidth")
    if scroll_width <= width:
        return []
    widest = page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > width + 1
                         || e.scrollWidth > e.clientWidth + 1)
            .slice(-3).map(e => `${e.tagName.toLowerCase()}.${e.className} ` +
                               `(${(e.innerText || '').trim().slice(0, 30)})`)""",
        width,
    )
    return [f"{where}: scrolls sideways (scrollWidth {scroll_width}); too wide: {widest}"]
