"""The library's writes: API clients and their tokens, PIN checks, and seeding."""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandbox.bulk import bulk_insert, delete_generated
from sandbox.demo import (
    DELETED_LIBRARY_PATRONS,
    LIBRARY_PATRONS,
    LibraryPatron,
    bench_is_patron,
    bench_modified_at,
    bench_patron_barcode,
    bench_patron_id,
    bench_patron_pin,
)
from sandbox.library.demo import LETTER_PIN_LIBRARY
from sandbox.library.models import (
    AccessToken,
    ApiClient,
    Checkout,
    DeletedPatron,
    Fine,
    Hold,
    Patron,
)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# Clients and tokens.


@transaction.atomic
def api_client_seed(*, key: str, secret: str) -> None:
    """Register the one client key the wallet uses (a re-seed replaces its secret)."""
    ApiClient.objects.update_or_create(key=key, defaults={"secret_sha256": _sha256(secret)})


def access_token_issue(*, key: str, secret: str) -> str | None:
    """A new opaque token for a client whose key and secret match, else None."""
    client = ApiClient.objects.filter(key=key).first()
    if client is None or not hmac.compare_digest(client.secret_sha256, _sha256(secret)):
        return None
    now = timezone.now()
    AccessToken.objects.filter(expires_at__lt=now).delete()
    token = secrets.token_urlsafe(48)
    AccessToken.objects.create(
        token_sha256=_sha256(token),
        client=client,
        expires_at=now + timedelta(seconds=settings.LIBRARY_TOKEN_SECONDS),
    )
    return token


def access_token_is_valid(*, token: str) -> bool:
    return AccessToken.objects.filter(
        token_sha256=_sha256(token), expires_at__gt=timezone.now()
    ).exists()


def _folded_sha256(pin: str) -> str:
    return _sha256(pin.casefold())


def patron_pin_matches(*, patron: Patron, pin: str, case_sensitive: bool = True) -> bool:
    """Sierra's `caseSensitivity`: true (its default) compares the PIN as typed; false ignores
    the case of its letters."""
    if case_sensitive:
        return hmac.compare_digest(patron.pin_sha256, _sha256(pin))
    return bool(patron.pin_folded_sha256) and hmac.compare_digest(
        patron.pin_folded_sha256, _folded_sha256(pin)
    )


# Seeding.


def _demo_patron(demo: LibraryPatron) -> None:
    patron, _ = Patron.objects.update_or_create(
        pk=demo.patron_id,
        defaults={
            "barcode": demo.barcode,
            "pin_sha256": _sha256(demo.pin),
            "pin_folded_sha256": _folded_sha256(demo.pin),
            "last_name": demo.last_name,
            "first_name": demo.first_name,
            "expiration_date": demo.expiration_date,
            "home_library_code": demo.home_library_code,
            "home_library_name": demo.home_library_name,
            "money_owed": demo.money_owed,
            "created_date": demo.created_date,
            "updated_date": demo.updated_date,
            "generated": False,
        },
    )
    patron.checkouts.all().delete()
    patron.holds.all().delete()
    patron.fines.all().delete()
    Checkout.objects.bulk_create(
        Checkout(
            id=c.id,
            patron=patron,
            item_id=c.item_id,
            barcode=c.barcode,
            call_number=c.call_number,
            due_date=c.due_date,
            number_of_renewals=c.number_of_renewals,
            out_date=c.out_date,
        )
        for c in demo.checkouts
    )
    Hold.objects.bulk_create(
        Hold(
            id=h.id,
            patron=patron,
            record_id=h.record_id,
            placed=h.placed,
            not_needed_after_date=h.not_needed_after_date,
            pickup_by_date=h.pickup_by_date,
            status_code=h.status_code,
            status_name=h.status_name,
            pickup_location_code=h.pickup_location_code,
            pickup_location_name=h.pickup_location_name,
            frozen=h.frozen,
        )
        for h in demo.holds
    )
    Fine.objects.bulk_create(
        Fine(
            id=f.id,
            patron=patron,
            item_id=f.item_id,
            assessed_date=f.assessed_date,
            charge_type_code=f.charge_type_code,
            charge_type_display=f.charge_type_display,
            item_charge=f.item_charge,
            processing_fee=f.processing_fee,
            billing_fee=f.billing_fee,
            paid_amount=f.paid_amount,
            description=f.description,
        )
        for f in demo.fines
    )


@transaction.atomic
def library_demo_seed() -> None:
    for demo in (*LIBRARY_PATRONS, LETTER_PIN_LIBRARY):
        _demo_patron(demo)
    for deleted in DELETED_LIBRARY_PATRONS:
        DeletedPatron.objects.update_or_create(
            pk=deleted.patron_id, defaults={"deleted_date": deleted.deleted_date}
        )


_FIRST_NAMES = ("Aino", "Eino", "Helmi", "Leo", "Oona", "Onni", "Venla", "Väinö", "Ella", "Elias")
_LAST_NAMES = ("Korhonen", "Mäkinen", "Nieminen", "Hämäläinen", "Koskinen", "Heikkinen", "Salo")
_LIBRARIES = (
    ("oodi", "Keskustakirjasto Oodi"),
    ("kallio", "Kallion kirjasto"),
    ("pasila", "Pasilan kirjasto"),
    ("itis", "Itäkeskuksen kirjasto"),
)
# Ids of generated sub-records, far from the demo ones.
_FIRST_CHECKOUT_ID = 50_000_000
_FIRST_HOLD_ID = 60_000_000
_FIRST_FINE_ID = 70_000_000


def _bench_rows(
    rng: random.Random, index: int
) -> tuple[Patron, list[Checkout], list[Hold], list[Fine]]:
    modified = bench_modified_at(index)
    library_code, library_name = rng.choice(_LIBRARIES)
    patron = Patron(
        id=bench_patron_id(index),
        barcode=bench_patron_barcode(index),
        pin_sha256=_sha256(bench_patron_pin(index)),
        pin_folded_sha256=_folded_sha256(bench_patron_pin(index)),
        first_name=rng.choice(_FIRST_NAMES),
        last_name=rng.choice(_LAST_NAMES),
        expiration_date=date(2027 + index % 3, 1 + index % 12, 1),
        home_library_code=library_code,
        home_library_name=library_name,
        created_date=modified - timedelta(days=400 + index % 1000),
        updated_date=modified,
        generated=True,
    )
    checkouts = [
        Checkout(
            id=_FIRST_CHECKOUT_ID + index * 4 + number,
            patron=patron,
            item_id=5_000_000 + index * 4 + number,
            barcode=f"3300{index:08d}{number:02d}",
            call_number=rng.choice(("84.2", "79.2", "N", "99.1", "L 84.2")) + " ABC",
            due_date=modified + timedelta(days=28),
            number_of_renewals=rng.randrange(0, 4),
            out_date=modified,
        )
        for number in range((index // 3) % 3)
    ]
    holds = []
    if index % 2 == 0:
        ready = index % 4 == 0
        holds.append(
            Hold(
                id=_FIRST_HOLD_ID + index,
                patron=patron,
                record_id=1_600_000 + index,
                placed=modified.date(),
                not_needed_after_date=modified.date() + timedelta(days=180),
                pickup_by_date=modified + timedelta(days=7) if ready else None,
                status_code="b" if ready else "0",
                status_name="Bib hold ready for pickup." if ready else "on hold.",
                pickup_location_code=library_code,
                pickup_location_name=library_name,
            )
        )
    fines = []
    if index % 5 == 0:
        fines.append(
            Fine(
                id=_FIRST_FINE_ID + index,
                patron=patron,
                item_id=5_000_000 + index * 4,
                assessed_date=modified,
                charge_type_code="2",
                charge_type_display="Overdue",
                item_charge=Decimal(rng.randrange(20, 600)) / 100,
                description="Overdue",
            )
        )
    patron.money_owed = sum((fine.item_charge for fine in fines), Decimal("0.00"))
    return patron, checkouts, holds, fines


@transaction.atomic
def library_bench_seed(*, count: int, seed: int, batch_size: int = 2_000) -> None:
    """Replace the generated patrons: one for every third bench citizen (``bench_*``).

    Patron ids, barcodes and PINs follow from the citizen's index alone; names and the rest
    come from ``seed``.
    """
    for model in (Checkout, Hold, Fine):
        delete_generated(model, parent="patron")
    delete_generated(Patron)
    delete_generated(DeletedPatron)
    rng = random.Random(f"library/{seed}")
    indexes = [index for index in range(count) if bench_is_patron(index)]
    for start in range(0, len(indexes), batch_size):
        rows = [_bench_rows(rng, index) for index in indexes[start : start + batch_size]]
        bulk_insert(Patron, (patron for patron, _, _, _ in rows))
        bulk_insert(Checkout, (c for _, checkouts, _, _ in rows for c in checkouts))
        bulk_insert(Hold, (h for _, _, holds, _ in rows for h in holds))
        bulk_insert(Fine, (f for _, _, _, fines in rows for f in fines))
