"""Seeding of youth-membership records (the demo cards and the bench citizens' cards)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from django.db import transaction

from sandbox.bulk import bulk_insert, delete_generated
from sandbox.demo import (
    YOUTH_CARDS,
    ContactPerson,
    YouthCard,
    bench_citizen,
    bench_membership_number,
)
from sandbox.youth.models import (
    AdditionalContactPerson,
    LanguageAtHome,
    MembershipStatus,
    YouthProfile,
)

_FIRST_NAMES = ("Aada", "Eino", "Helmi", "Leo", "Oona", "Onni", "Venla", "Väinö", "Ella", "Elias")
_LAST_NAMES = ("Korhonen", "Mäkinen", "Nieminen", "Hämäläinen", "Koskinen", "Heikkinen", "Salo")
_SCHOOLS = ("Kallion yhteiskoulu", "Ressun peruskoulu", "Vuosaaren peruskoulu", "Munkkiniemen yk")


def _card_fields(card: YouthCard) -> dict[str, object]:
    return {
        "membership_number": card.membership_number,
        "membership_status": MembershipStatus[card.membership_status],
        "expiration": card.expiration,
        "birth_date": card.birth_date,
        "school_name": card.school_name,
        "school_class": card.school_class,
        "language_at_home": LanguageAtHome[card.language_at_home],
        "photo_usage_approved": card.photo_usage_approved,
        "approver_first_name": card.approver_first_name,
        "approver_last_name": card.approver_last_name,
        "approver_phone": card.approver_phone,
        "approver_email": card.approver_email,
        "approved_time": card.approved_time,
        "generated": False,
    }


def _contact(profile: YouthProfile, person: ContactPerson) -> AdditionalContactPerson:
    return AdditionalContactPerson(
        youth_profile=profile,
        first_name=person.first_name,
        last_name=person.last_name,
        phone=person.phone,
        email=person.email,
    )


@transaction.atomic
def youth_demo_cards_seed() -> None:
    for card in YOUTH_CARDS:
        profile, _ = YouthProfile.objects.update_or_create(
            pk=card.citizen, defaults=_card_fields(card)
        )
        profile.additional_contact_persons.all().delete()
        AdditionalContactPerson.objects.bulk_create(
            [_contact(profile, person) for person in card.additional_contact_persons]
        )


def _bench_profile(rng: random.Random, *, seed: int, index: int) -> YouthProfile:
    birth_date = date(2008, 9, 1) + timedelta(days=rng.randrange(0, 5 * 365))
    status = rng.choices(list(MembershipStatus), weights=(80, 8, 6, 6))[0]
    expiration = date(2026, 8, 31) if status == MembershipStatus.EXPIRED else date(2027, 8, 31)
    approver_first = rng.choice(_FIRST_NAMES)
    approver_last = rng.choice(_LAST_NAMES)
    return YouthProfile(
        pk=bench_citizen(seed, index),
        membership_number=bench_membership_number(index),
        membership_status=status,
        expiration=expiration,
        birth_date=birth_date,
        school_name=rng.choice(_SCHOOLS),
        school_class=f"{rng.randint(7, 9)}{rng.choice('ABCD')}",
        language_at_home=rng.choices(list(LanguageAtHome), weights=(70, 8, 6, 4, 4, 3, 3, 2))[0],
        photo_usage_approved=rng.choice((True, False, None)),
        approver_first_name=approver_first,
        approver_last_name=approver_last,
        approver_phone=f"+358 40 {rng.randrange(1_000_000, 9_999_999)}",
        approver_email=f"{approver_first}.{approver_last}.{index}@example.com".lower(),
        approved_time=None
        if status == MembershipStatus.PENDING
        else datetime(2026, 9, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=index),
        generated=True,
    )


@transaction.atomic
def youth_bench_members_seed(*, count: int, seed: int, batch_size: int = 2_000) -> None:
    """Replace the generated members with ``count`` made deterministically from ``seed``:
    every bench citizen is a youth member."""
    delete_generated(AdditionalContactPerson, parent="youth_profile")
    delete_generated(YouthProfile)
    rng = random.Random(seed)
    for start in range(0, count, batch_size):
        batch = [
            _bench_profile(rng, seed=seed, index=index)
            for index in range(start, min(start + batch_size, count))
        ]
        bulk_insert(YouthProfile, batch)
