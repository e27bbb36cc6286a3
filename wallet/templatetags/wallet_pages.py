"""Template helpers for the pages: text from the catalogue in the page's language."""

from __future__ import annotations

from django import template

from wallet.catalogue import Labels
from wallet.i18n import localized as localized_text

register = template.Library()


@register.filter
def localized(labels: Labels | None) -> str:
    """`{{ field.labels|localized }}`: the label in the page's language."""
    return localized_text(labels) if labels is not None else ""
