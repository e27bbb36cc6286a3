from __future__ import annotations

from datetime import date, datetime

from django.db.models import QuerySet

from sandbox.library.models import Checkout, DeletedPatron, Fine, Hold, Patron
from sandbox.library.params import Range


def patron_get(*, patron_id: int) -> Patron | None:
    return Patron.objects.filter(pk=patron_id).first()


def patron_find_by_barcode(*, barcode: str) -> Patron | None:
    return Patron.objects.filter(barcode=barcode).first()


def patron_list(*, updated: Range[datetime] | None = None) -> QuerySet[Patron]:
    """Live patrons by id, optionally only those updated within ``updated`` (inclusive)."""
    patrons = Patron.objects.order_by("id")
    if updated and updated.start:
        patrons = patrons.filter(updated_date__gte=updated.start)
    if updated and updated.end:
        patrons = patrons.filter(updated_date__lte=updated.end)
    return patrons


def deleted_patron_list(*, deleted: Range[date] | None = None) -> QuerySet[DeletedPatron]:
    patrons = DeletedPatron.objects.order_by("id")
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
