"""Linking a library card: the citizen proves barcode + PIN to the library.

The wallet keeps the patron id (sealed, with a blind index) and a blind index of the barcode;
it never stores the PIN, and neither value is logged. Attempts are limited per citizen.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.library.client import SierraClient
from connectors.library.connector import LINK_TABLE, barcode_index, patron_index
from connectors.models import LibraryLink, LinkAttempt
from connectors.tasks import citizen_sync_enqueue
from connectors.transport import client_timeout
from wallet.keys import citizen_cipher
from wallet.models import Citizen

MAX_BARCODE = 32
MAX_PIN = 32


class LinkError(Exception):
    """A linking failure the citizen can act on; `code` is stable, the message is for them."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


def _check_rate(citizen: Citizen) -> None:
    window_start = timezone.now() - timedelta(minutes=settings.LIBRARY_LINK_WINDOW_MINUTES)
    recent = LinkAttempt.objects.filter(
        citizen=citizen, attempted_at__gte=window_start, succeeded=False
    ).count()
    if recent >= settings.LIBRARY_LINK_ATTEMPTS:
        raise LinkError(
            f"Too many attempts. Try again in {settings.LIBRARY_LINK_WINDOW_MINUTES} minutes.",
            code="RATE_LIMITED",
        )


def library_card_link(*, citizen: Citizen, barcode: str, pin: str) -> LibraryLink:
    barcode, pin = barcode.strip(), pin.strip()
    if not barcode or len(barcode) > MAX_BARCODE or not barcode.isalnum():
        raise LinkError("Enter the number on your library card.", code="INVALID", field="barcode")
    if not pin or len(pin) > MAX_PIN:
        raise LinkError("Enter your library card PIN.", code="INVALID", field="pin")
    _check_rate(citizen)
    attempt = LinkAttempt.objects.create(citizen=citizen)

    with httpx.Client(timeout=client_timeout()) as client:
        sierra = SierraClient(client)
        if not sierra.validate(barcode=barcode, pin=pin):
            raise LinkError("The card number or PIN is wrong.", code="WRONG_CREDENTIALS")
        patron = sierra.find_by_barcode(barcode)
    if patron is None or patron.get("id") is None:
        raise LinkError("The library does not know this card.", code="WRONG_CREDENTIALS")
    patron_id = str(patron["id"])

    taken = LibraryLink.objects.filter(barcode_index=barcode_index(barcode)).exclude(
        citizen=citizen
    )
    if taken.exists():
        raise LinkError("This card is linked to another account.", code="ALREADY_LINKED")
    cipher = citizen_cipher(citizen=citizen)
    sealed = cipher.seal(
        table=LINK_TABLE, row_id=citizen.pk, field="patron_id_sealed", plaintext=patron_id.encode()
    )
    try:
        with transaction.atomic():
            link, _ = LibraryLink.objects.update_or_create(
                citizen=citizen,
                defaults={
                    "patron_id_sealed": sealed,
                    "patron_index": patron_index(patron_id),
                    "barcode_index": barcode_index(barcode),
                },
            )
            attempt.succeeded = True
            attempt.save(update_fields=["succeeded"])
    except IntegrityError:
        raise LinkError("This card is linked to another account.", code="ALREADY_LINKED") from None
    citizen_sync_enqueue(citizen_id=citizen.pk, reason="library-linked")
    return link
