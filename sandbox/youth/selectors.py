from __future__ import annotations

import uuid

from django.db.models import QuerySet

from sandbox.youth.models import YouthProfile


def youth_profile_list(*, membership_number: str | None = None) -> QuerySet[YouthProfile]:
    """Profiles in a stable order, contact persons prefetched (one extra query per page)."""
    profiles = YouthProfile.objects.prefetch_related("additional_contact_persons").order_by(
        "membership_number", "id"
    )
    if membership_number:
        # As the real service's filter: a case-insensitive substring match.
        profiles = profiles.filter(membership_number__icontains=membership_number)
    return profiles


def youth_profile_get(*, citizen: uuid.UUID) -> YouthProfile | None:
    return youth_profile_list().filter(pk=citizen).first()
