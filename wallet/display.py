"""Values of the catalogue's fields as a person reads them, in the page's language: dates and
numbers in the locale's format, yes and no in words, sensitive values held back below the
assurance they need."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from wallet import catalogue
from wallet.assurance import field_visible
from wallet.catalogue import ValueType
from wallet.i18n import localized
from wallet.selectors import RecordView


def _date(value: Any) -> str:
    parsed = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return formats.date_format(parsed, "SHORT_DATE_FORMAT")


def _datetime(value: Any) -> str:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if timezone.is_aware(parsed):
        parsed = timezone.localtime(parsed)
    return formats.date_format(parsed, "SHORT_DATETIME_FORMAT")


def _number(value: Any, decimals: int | None) -> str:
    return formats.number_format(Decimal(str(value)), decimals, use_l10n=True, force_grouping=True)


def display_value(field: catalogue.CatalogueField, value: Any) -> str:
    """One value as text; an upstream value that does not parse as its type is shown as sent."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return "; ".join(_item(item) for item in value)
    labels = catalogue.choice_label(field, value)
    if labels is not None:
        return localized(labels)
    try:
        if field.value_type == ValueType.DATE:
            return _date(value)
        if field.value_type == ValueType.DATETIME:
            return _datetime(value)
        if field.value_type == ValueType.DECIMAL:
            return _number(value, 2)
        if field.value_type == ValueType.INTEGER:
            return _number(value, None)
    except (ValueError, InvalidOperation):
        pass
    return _item(value)


def _item(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v not in (None, ""))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)


def record_rows(
    *, record: RecordView, kind: catalogue.RecordKind, loa: str | None
) -> list[tuple[str, str]]:
    """A record as (label, shown value) rows: empty fields left out, sensitive ones replaced by
    a notice below the assurance they need."""
    rows = []
    for field in kind.fields:
        value = record.get(field.key)
        if value in (None, "", []):
            continue
        shown = (
            display_value(field, value)
            if field_visible(field, loa)
            else _("Shown after a stronger sign-in")
        )
        rows.append((localized(field.labels), shown))
    return rows
