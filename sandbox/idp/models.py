from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class LevelOfAssurance(models.TextChoices):
    LOW = "low"
    SUBSTANTIAL = "substantial"
    HIGH = "high"


class User(AbstractUser):
    """A citizen (or staff member) of the provider.

    The primary key is the Helsinki profile UUID: it is the OIDC ``sub``, and the upstream
    systems key their records on it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    loa = models.CharField(
        max_length=16, choices=LevelOfAssurance.choices, default=LevelOfAssurance.LOW
    )
    roles = models.JSONField(default=list, blank=True)
    birth_date = models.DateField(null=True, blank=True)

    class Meta:
        db_table = "sandbox_idp_user"
