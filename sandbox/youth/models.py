from __future__ import annotations

from django.db import models


class MembershipStatus(models.TextChoices):
    ACTIVE = "active"
    PENDING = "pending"
    RENEWING = "renewing"
    EXPIRED = "expired"


class LanguageAtHome(models.TextChoices):
    FINNISH = "fi"
    SWEDISH = "sv"
    ENGLISH = "en"
    SOMALI = "so"
    ARABIC = "ar"
    ESTONIAN = "et"
    RUSSIAN = "ru"
    FRENCH = "fr"


class YouthProfile(models.Model):
    """A youth membership card, keyed (like the real service's id) on the citizen's UUID.

    The real service derives the status from ``expiration`` and ``approved_time``; the
    simulator stores it, so every state can be seeded regardless of today's date.
    """

    id = models.UUIDField(primary_key=True)
    membership_number = models.CharField(max_length=16, unique=True)
    membership_status = models.CharField(max_length=16, choices=MembershipStatus.choices)
    expiration = models.DateField()
    birth_date = models.DateField()
    school_name = models.CharField(max_length=128, blank=True)
    school_class = models.CharField(max_length=10, blank=True)
    language_at_home = models.CharField(
        max_length=32, choices=LanguageAtHome.choices, default=LanguageAtHome.FINNISH
    )
    photo_usage_approved = models.BooleanField(null=True)
    approver_first_name = models.CharField(max_length=255, blank=True)
    approver_last_name = models.CharField(max_length=255, blank=True)
    approver_phone = models.CharField(max_length=50, blank=True)
    approver_email = models.EmailField(blank=True)
    approved_time = models.DateTimeField(null=True, blank=True)
    # Rows made by ``seed --citizens``; replaced as a whole on every seed.
    generated = models.BooleanField(default=False)

    class Meta:
        ordering = ("membership_number",)

    def __str__(self) -> str:
        return self.membership_number


class AdditionalContactPerson(models.Model):
    youth_profile = models.ForeignKey(
        YouthProfile, on_delete=models.CASCADE, related_name="additional_contact_persons"
    )
    first_name = models.CharField(max_length=255)
    last_name = models.CharField(max_length=255)
    phone = models.CharField(max_length=50)
    email = models.EmailField()

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"
