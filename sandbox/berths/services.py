"""Seeding of berth-reservations records: the demo lease and boat, and bench customers."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from sandbox.berths.models import (
    Berth,
    BerthLease,
    Boat,
    BoatType,
    CustomerProfile,
    Harbor,
    LeaseStatus,
    Order,
    OrderStatus,
    Pier,
)
from sandbox.bulk import bulk_insert, delete_generated
from sandbox.demo import BERTH_LEASES, BOATS, bench_citizen, bench_has_berth, bench_modified_at
from sandbox.demo import BerthLease as DemoLease
from sandbox.demo import Boat as DemoBoat

# Names under which the simulator derives stable ids for harbors, piers, berths and orders.
_NAMESPACE = uuid.UUID("0b7e4c1d-9a2f-4e6b-8c3d-5f1a2b3c4d00")
_HARBORS = (
    "Pursiseuran venesatama",
    "Merisataman venesatama",
    "Lauttasaaren venesatama",
    "Vuosaaren venesatama",
    "Herttoniemen venesatama",
    "Kipparlahden venesatama",
)
_BOAT_TYPES = (
    "Purjevene / moottoripursi",
    "Perämoottorivene",
    "Sisäperämoottorivene",
    "Soutuvene",
    "Vesijetti",
)
_BOAT_NAMES = ("Ulpukka", "Kajava", "Tuulikki", "Merikotka", "Aallotar", "Sirkku", "Saukko")


def _uuid(*parts: object) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, "/".join(map(str, parts)))


def _boat_types() -> dict[str, BoatType]:
    for name in _BOAT_TYPES:
        BoatType.objects.get_or_create(name=name)
    return {boat_type.name: boat_type for boat_type in BoatType.objects.all()}


def _pier(harbor_name: str, identifier: str, *, generated: bool) -> Pier:
    harbor, _ = Harbor.objects.update_or_create(
        pk=_uuid("harbor", harbor_name), defaults={"name": harbor_name, "generated": generated}
    )
    pier, _ = Pier.objects.update_or_create(
        pk=_uuid("pier", harbor_name, identifier),
        defaults={"harbor": harbor, "identifier": identifier, "generated": generated},
    )
    return pier


def _demo_boat(boat: DemoBoat, boat_types: dict[str, BoatType]) -> Boat:
    row, _ = Boat.objects.update_or_create(
        pk=boat.id,
        defaults={
            "owner_id": boat.citizen,
            "boat_type": boat_types[boat.boat_type],
            "registration_number": boat.registration_number,
            "name": boat.name,
            "length": boat.length,
            "width": boat.width,
            "draught": boat.draught,
            "modified_at": boat.modified_at,
            "generated": False,
        },
    )
    return row


def _demo_lease(lease: DemoLease) -> None:
    pier = _pier(lease.harbor, lease.pier_identifier, generated=False)
    berth, _ = Berth.objects.update_or_create(
        pk=_uuid("berth", pier.pk, lease.berth_number),
        defaults={
            "pier": pier,
            "number": lease.berth_number,
            "width": lease.berth_width,
            "length": lease.berth_length,
            "depth": lease.berth_depth,
        },
    )
    order, _ = Order.objects.update_or_create(
        pk=_uuid("order", lease.id),
        defaults={
            "order_number": lease.order_number,
            "status": OrderStatus[lease.order_status],
            "price": lease.price,
            "total_price": lease.total_price,
            "due_date": lease.due_date,
            "paid_at": lease.paid_at,
        },
    )
    boat = Boat.objects.filter(owner_id=lease.citizen).order_by("id").first()
    BerthLease.objects.update_or_create(
        pk=lease.id,
        defaults={
            "customer_id": lease.citizen,
            "berth": berth,
            "boat": boat,
            "order": order,
            "status": LeaseStatus[lease.status],
            "start_date": lease.start_date,
            "end_date": lease.end_date,
            "is_active": lease.is_active,
            "created_at": lease.created_at,
            "modified_at": lease.modified_at,
        },
    )


@transaction.atomic
def berths_demo_seed() -> None:
    boat_types = _boat_types()
    citizens = {boat.citizen for boat in BOATS} | {lease.citizen for lease in BERTH_LEASES}
    for citizen in citizens:
        CustomerProfile.objects.update_or_create(pk=citizen, defaults={"generated": False})
    for boat in BOATS:
        _demo_boat(boat, boat_types)
    for lease in BERTH_LEASES:
        _demo_lease(lease)


def _batched(items: Iterator[int], size: int) -> Iterator[list[int]]:
    batch: list[int] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _delete_generated() -> None:
    # Children first, so that nothing points at the rows each statement deletes.
    for model in (BerthLease, Order, Boat, CustomerProfile, Berth, Pier, Harbor):
        delete_generated(model)


def _season(year: int) -> tuple[date, date]:
    return date(year, 6, 10), date(year, 9, 14)


@transaction.atomic
def berths_bench_seed(*, count: int, seed: int, batch_size: int = 2_000) -> None:
    """Replace the generated customers: one lease and boat for every second bench citizen."""
    _delete_generated()
    if count <= 0:
        return
    rng = random.Random(f"berths/{seed}")
    boat_types = list(_boat_types().values())
    piers = [
        _pier(f"{name} (bench)", identifier, generated=True)
        for name in _HARBORS
        for identifier in "ABCD"
    ]
    statuses = list(LeaseStatus)
    for batch in _batched(filter(bench_has_berth, range(count)), batch_size):
        profiles, boats, berths, orders, leases = [], [], [], [], []
        for index in batch:
            citizen = bench_citizen(seed, index)
            modified = bench_modified_at(index)
            status = rng.choices(statuses, weights=(3, 8, 3, 4, 1, 75, 6))[0]
            year = 2026 if index % 4 == 0 else 2027  # last season or the coming one
            start, end = _season(year)
            width = Decimal(rng.choice(("2.50", "3.00", "3.50", "4.00")))
            profiles.append(CustomerProfile(id=citizen, generated=True))
            boat = Boat(
                id=_uuid("bench-boat", seed, index),
                owner_id=citizen,
                boat_type=rng.choice(boat_types),
                registration_number=f"B-{10_000 + index}",
                name=rng.choice(_BOAT_NAMES),
                length=Decimal(rng.randrange(400, 1200)) / 100,
                width=width - Decimal("0.50"),
                draught=Decimal(rng.randrange(30, 180)) / 100,
                modified_at=modified,
                generated=True,
            )
            boats.append(boat)
            berth = Berth(
                id=_uuid("bench-berth", seed, index),
                pier=piers[index % len(piers)],
                number=str(index // len(piers) + 1),
                width=width,
                length=Decimal(rng.choice(("8.00", "10.00", "12.00"))),
                depth=Decimal(rng.choice(("1.50", "2.00", "2.50"))),
                generated=True,
            )
            berths.append(berth)
            price = Decimal(rng.randrange(180, 700))
            paid = status == LeaseStatus.PAID
            order = Order(
                id=_uuid("bench-order", seed, index),
                order_number=f"BB{seed}-{index:06d}",
                status=OrderStatus.PAID if paid else OrderStatus.OFFERED,
                price=price,
                total_price=price,
                due_date=start - timedelta(days=30),
                paid_at=modified if paid else None,
                generated=True,
            )
            orders.append(order)
            leases.append(
                BerthLease(
                    id=_uuid("bench-lease", seed, index),
                    customer_id=citizen,
                    berth=berth,
                    boat=boat,
                    order=order,
                    status=status,
                    start_date=start,
                    end_date=end,
                    is_active=paid and year == 2027,
                    created_at=modified - timedelta(days=20),
                    modified_at=modified,
                    generated=True,
                )
            )
        bulk_insert(CustomerProfile, profiles)
        bulk_insert(Boat, boats)
        bulk_insert(Berth, berths)
        bulk_insert(Order, orders)
        bulk_insert(BerthLease, leases)
