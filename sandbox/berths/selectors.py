from __future__ import annotations

import uuid

from django.db.models import QuerySet

from sandbox.berths.models import BerthLease, Boat, CustomerProfile

# The real service's only ordering choices for ``berthLeases(orderBy:)``.
ORDER_BY_CHOICES = {"createdAt": ("created_at", "id"), "-createdAt": ("-created_at", "-id")}
DEFAULT_ORDER = ("-start_date", "-end_date", "created_at", "id")


def berth_lease_list(
    *,
    customer: uuid.UUID | None = None,
    statuses: list[str] | None = None,
    start_year: int | None = None,
    order_by: str | None = None,
) -> QuerySet[BerthLease]:
    """Leases in a stable order (ties broken by id), with everything a node shows joined in.

    Upstream orders by ``startDate``/``endDate`` descending, then ``createdAt``, unless
    ``orderBy`` (``createdAt`` / ``-createdAt``) is given. ``order_by`` must be a key of
    ORDER_BY_CHOICES (the caller validates it).
    """
    leases = BerthLease.objects.select_related("berth__pier__harbor", "order")
    if customer is not None:
        leases = leases.filter(customer_id=customer)
    if statuses:
        leases = leases.filter(status__in=statuses)
    if start_year is not None:
        leases = leases.filter(start_date__year=start_year)
    ordering = ORDER_BY_CHOICES[order_by] if order_by else DEFAULT_ORDER
    return leases.order_by(*ordering)


def boat_list(*, owner: uuid.UUID) -> QuerySet[Boat]:
    return Boat.objects.select_related("boat_type").filter(owner_id=owner).order_by("id")


def customer_profile_get(*, citizen: uuid.UUID) -> CustomerProfile | None:
    return CustomerProfile.objects.filter(pk=citizen).first()
