"""Records as Sierra's JSON: camelCase names, ids of sub-records as URLs, money as numbers.

Date-times are ``yyyy-MM-ddTHH:mm:ssZ`` in UTC, dates ``yyyy-MM-dd``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from sandbox.library.models import Checkout, DeletedPatron, Fine, Hold, Patron

API_PATH = "/library/iii/sierra-api/v6"

PATRON_FIELDS: dict[str, Callable[[Patron], Any]] = {
    "id": lambda p: p.id,
    "updatedDate": lambda p: _datetime(p.updated_date),
    "createdDate": lambda p: _datetime(p.created_date),
    "deleted": lambda p: False,
    "names": lambda p: [f"{p.last_name.upper()}, {p.first_name}"],
    "barcodes": lambda p: [p.barcode],
    "expirationDate": lambda p: p.expiration_date.isoformat(),
    "patronType": lambda p: p.patron_type,
    "homeLibraryCode": lambda p: p.home_library_code,
    "homeLibrary": lambda p: {"code": p.home_library_code, "name": p.home_library_name},
    "moneyOwed": lambda p: _money(p.money_owed),
}
PATRON_DEFAULT_FIELDS = (
    "id",
    "updatedDate",
    "createdDate",
    "deleted",
    "names",
    "barcodes",
    "expirationDate",
    "patronType",
    "homeLibraryCode",
    "moneyOwed",
)

CHECKOUT_FIELDS: dict[str, Callable[[Checkout], Any]] = {
    "id": lambda c: api_url(f"patrons/checkouts/{c.id}"),
    "patron": lambda c: api_url(f"patrons/{c.patron_id}"),
    "item": lambda c: api_url(f"items/{c.item_id}"),
    "barcode": lambda c: c.barcode,
    "dueDate": lambda c: _datetime(c.due_date),
    "callNumber": lambda c: c.call_number,
    "numberOfRenewals": lambda c: c.number_of_renewals,
    "outDate": lambda c: _datetime(c.out_date),
}

HOLD_FIELDS: dict[str, Callable[[Hold], Any]] = {
    "id": lambda h: api_url(f"patrons/holds/{h.id}"),
    "record": lambda h: api_url(f"bibs/{h.record_id}"),
    "patron": lambda h: api_url(f"patrons/{h.patron_id}"),
    "frozen": lambda h: h.frozen,
    "placed": lambda h: h.placed.isoformat(),
    "notNeededAfterDate": lambda h: h.not_needed_after_date.isoformat(),
    "pickupByDate": lambda h: _datetime(h.pickup_by_date) if h.pickup_by_date else None,
    "pickupLocation": lambda h: {"code": h.pickup_location_code, "name": h.pickup_location_name},
    "status": lambda h: {"code": h.status_code, "name": h.status_name},
    "recordType": lambda h: "b",
    "priority": lambda h: 1,
}

FINE_FIELDS: dict[str, Callable[[Fine], Any]] = {
    "id": lambda f: api_url(f"patrons/fines/{f.id}"),
    "patron": lambda f: api_url(f"patrons/{f.patron_id}"),
    "item": lambda f: api_url(f"items/{f.item_id}") if f.item_id else None,
    "assessedDate": lambda f: _datetime(f.assessed_date),
    "description": lambda f: f.description,
    "chargeType": lambda f: {"code": f.charge_type_code, "display": f.charge_type_display},
    "itemCharge": lambda f: _money(f.item_charge),
    "processingFee": lambda f: _money(f.processing_fee),
    "billingFee": lambda f: _money(f.billing_fee),
    "paidAmount": lambda f: _money(f.paid_amount),
}


def api_url(path: str) -> str:
    return f"{settings.BASE_URL}{API_PATH}/{path}"


def _datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(value: Decimal) -> float:
    return float(value)


def record_json(
    record: Any, table: dict[str, Callable[[Any], Any]], fields: Collection[str]
) -> dict[str, Any]:
    """The record with the named fields; a field with no value is left out, as Sierra does."""
    shown = {name: table[name](record) for name in fields}
    return {name: value for name, value in shown.items() if value is not None}


def deleted_patron_json(patron: DeletedPatron) -> dict[str, Any]:
    return {"id": patron.id, "deletedDate": _date(patron.deleted_date), "deleted": True}


def _date(value: date) -> str:
    return value.isoformat()


def page_json(entries: list[dict[str, Any]], *, start: int) -> dict[str, Any]:
    """A Sierra result set: ``total`` counts the entries of this page (so a short page, one
    with fewer entries than the limit, is the last)."""
    return {"total": len(entries), "start": start, "entries": entries}
