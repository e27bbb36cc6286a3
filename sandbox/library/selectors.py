from __future__ import annotations

from datetime import date, datetime
from typing import TypeVar

from django.db.models import Model, QuerySet

from sandbox.library.models import Checkout, DeletedPatron, Fine, Hold, Patron
from sandbox.library.params import IdSelection, Range

M = TypeVar("M", bound=Model)


def patron_get(*, patron_id: int) -> Patron | None:
    return Patron.objects.filter(pk=patron_id).first()


def patron_find_by_barcode(*, barcode: str) -> Patron | None:
    return Patron.objects.filter(barcode=barcode).first()


def _by_id(records: QuerySet[M], ids: IdSelection | None) -> QuerySet[M]:
    if ids is None:
        return records
    if ids.range is None:
        return records.filter(id__in=ids.ids)
    start, end = ids.range
    if start is not None:
        records = records.filter(id__gte=start)
    if end is not None:
        records = records.filter(id__lte=end)
    return records


def patron_list(
    *, updated: Range[datetime] | None = None, ids: IdSelection | None = None
) -> QuerySet[Patron]:
    """Live patrons by id, optionally only those updated within ``updated`` (inclusive) and
    those ``ids`` selects."""
    patrons = _by_id(Patron.objects.order_by("id"), ids)
    if updated and updated.start:
        patrons = patrons.filter(updated_date__gte=updated.start)
    if updated and updated.end:
        patrons = patrons.filter(updated_date__lte=updated.end)
    return patrons


def deleted_patron_list(
    *, deleted: Range[date] | None = None, ids: IdSelection | None = None
) -> QuerySet[DeletedPatron]:
    patrons = _by_id(DeletedPatron.objects.order_by("id"), ids)
    if deleted and deleted.start:
        patrons = patrons.filter(deleted_date__gte=deleted.start)
    if deleted and deleted.end:
        patrons = patrons.filter(deleted_date__lte=deleted.end)
    return patrons


def checkout_list(*, patron: Patron) -> QuerySet[Checkout]:
    return Checkout.objects.filter(patron=patron).order_by("id")


def hold_list(*, patron: Patron) -> QuerySet[Hold]:
    return Hold.objects.filter(patron=patron).order_by("id")


def fine_list(*, patron: Patron) -> QuerySet[Fine]:
    return Fine.objects.filter(patron=patron).order_by("id")
