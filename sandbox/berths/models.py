"""Berth-reservations records, trimmed to what the wallet reads. Ids are UUIDs, as upstream.

``generated`` marks rows made by ``seed --citizens``; they are replaced as a whole on every seed.
"""

from __future__ import annotations

from django.db import models


class LeaseStatus(models.TextChoices):
    DRAFTED = "drafted"
    OFFERED = "offered"
    REFUSED = "refused"
    EXPIRED = "expired"
    ERROR = "error"
    PAID = "paid"
    TERMINATED = "terminated"


class OrderStatus(models.TextChoices):
    DRAFTED = "drafted"
    OFFERED = "offered"
    PAID = "paid"
    PAID_MANUALLY = "paid_manually"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    ERROR = "error"
    REFUNDED = "refunded"


class Harbor(models.Model):
    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=200)
    generated = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


class Pier(models.Model):
    id = models.UUIDField(primary_key=True)
    harbor = models.ForeignKey(Harbor, on_delete=models.CASCADE, related_name="piers")
    identifier = models.CharField(max_length=30)
    generated = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.identifier


class Berth(models.Model):
    id = models.UUIDField(primary_key=True)
    pier = models.ForeignKey(Pier, on_delete=models.CASCADE, related_name="berths")
    number = models.CharField(max_length=20)
    width = models.DecimalField(max_digits=5, decimal_places=2)
    length = models.DecimalField(max_digits=5, decimal_places=2)
    depth = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    generated = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.number


class BoatType(models.Model):
    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class CustomerProfile(models.Model):
    """A berth customer, keyed (like the real ProfileNode) on the Helsinki profile UUID."""

    id = models.UUIDField(primary_key=True)
    generated = models.BooleanField(default=False)

    def __str__(self) -> str:
        return str(self.id)


class Boat(models.Model):
    id = models.UUIDField(primary_key=True)
    owner = models.ForeignKey(CustomerProfile, on_delete=models.CASCADE, related_name="boats")
    boat_type = models.ForeignKey(BoatType, on_delete=models.PROTECT, related_name="boats")
    registration_number = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=255, blank=True)
    length = models.DecimalField(max_digits=5, decimal_places=2)
    width = models.DecimalField(max_digits=5, decimal_places=2)
    draught = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    modified_at = models.DateTimeField()
    generated = models.BooleanField(default=False)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.registration_number


class Order(models.Model):
    id = models.UUIDField(primary_key=True)
    order_number = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=32, choices=OrderStatus.choices)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    total_price = models.DecimalField(max_digits=8, decimal_places=2)
    due_date = models.DateField()
    paid_at = models.DateTimeField(null=True)
    generated = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.order_number


class BerthLease(models.Model):
    id = models.UUIDField(primary_key=True)
    customer = models.ForeignKey(
        CustomerProfile, on_delete=models.CASCADE, related_name="berth_leases"
    )
    berth = models.ForeignKey(Berth, on_delete=models.PROTECT, related_name="leases")
    boat = models.ForeignKey(Boat, on_delete=models.SET_NULL, null=True, related_name="leases")
    order = models.OneToOneField(Order, on_delete=models.SET_NULL, null=True, related_name="lease")
    status = models.CharField(max_length=16, choices=LeaseStatus.choices)
    start_date = models.DateField()
    end_date = models.DateField()
    # The real service computes this from status and today's date; stored here so that seeded
    # leases keep their meaning whatever the date (as youth memberships keep their status).
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()
    generated = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["created_at", "id"])]

    def __str__(self) -> str:
        return str(self.id)
