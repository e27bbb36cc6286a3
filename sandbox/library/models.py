"""Sierra ILS records, trimmed to what the wallet reads. Ids are Sierra's numeric record ids.

``generated`` marks rows made by ``seed --citizens``; they are replaced as a whole on every seed.
"""

from __future__ import annotations

from django.db import models


class ApiClient(models.Model):
    """A client key allowed to ask for tokens (Sierra's API keys); the secret is kept hashed."""

    key = models.CharField(max_length=100, unique=True)
    secret_sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.key


class AccessToken(models.Model):
    """An opaque bearer token, stored as its SHA-256 like a password would be."""

    token_sha256 = models.CharField(max_length=64, primary_key=True)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.token_sha256[:8]


class Patron(models.Model):
    id = models.PositiveIntegerField(primary_key=True)
    barcode = models.CharField(max_length=32, unique=True)
    pin_sha256 = models.CharField(max_length=64)
    # The PIN case-folded, for `patrons/validate` with `caseSensitivity: false`.
    pin_folded_sha256 = models.CharField(max_length=64, default="")
    last_name = models.CharField(max_length=100)
    first_name = models.CharField(max_length=100)
    expiration_date = models.DateField()
    home_library_code = models.CharField(max_length=20)
    home_library_name = models.CharField(max_length=100)
    patron_type = models.PositiveSmallIntegerField(default=0)
    money_owed = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    created_date = models.DateTimeField()
    updated_date = models.DateTimeField(db_index=True)
    generated = models.BooleanField(default=False)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return str(self.id)


class DeletedPatron(models.Model):
    """A patron record deleted from the library: only its id and the day it went."""

    id = models.PositiveIntegerField(primary_key=True)
    deleted_date = models.DateField(db_index=True)
    generated = models.BooleanField(default=False)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return str(self.id)


class Checkout(models.Model):
    id = models.PositiveIntegerField(primary_key=True)
    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="checkouts")
    item_id = models.PositiveIntegerField()
    barcode = models.CharField(max_length=32)
    call_number = models.CharField(max_length=100)
    due_date = models.DateTimeField()
    number_of_renewals = models.PositiveSmallIntegerField(default=0)
    out_date = models.DateTimeField()

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return str(self.id)


class Hold(models.Model):
    id = models.PositiveIntegerField(primary_key=True)
    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="holds")
    record_id = models.PositiveIntegerField()
    placed = models.DateField()
    not_needed_after_date = models.DateField()
    pickup_by_date = models.DateTimeField(null=True)
    status_code = models.CharField(max_length=4)
    status_name = models.CharField(max_length=100)
    pickup_location_code = models.CharField(max_length=20)
    pickup_location_name = models.CharField(max_length=100)
    frozen = models.BooleanField(default=False)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return str(self.id)


class Fine(models.Model):
    id = models.PositiveIntegerField(primary_key=True)
    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="fines")
    item_id = models.PositiveIntegerField(null=True)
    assessed_date = models.DateTimeField()
    charge_type_code = models.CharField(max_length=4)
    charge_type_display = models.CharField(max_length=100)
    item_charge = models.DecimalField(max_digits=8, decimal_places=2)
    processing_fee = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    billing_fee = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    paid_amount = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return str(self.id)
