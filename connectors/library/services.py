"""Linking a library card: the citizen proves barcode + PIN to the library.

The wallet keeps the patron id (sealed, with a blind index) and a blind index of the barcode;
it never stores the PIN, and neither value is logged.

Attempts are limited per citizen and per card (LINK_ATTEMPTS in a window of LINK_WINDOW_MINUTES,
the library's own settings), so neither one account trying many cards nor many accounts trying
one card gets more guesses. Each attempt is counted, on a locked counter row, before the library
is asked: parallel attempts queue on the row instead of all passing one read of the count. A
link clears both counters, so a citizen's typos do not hold up their next action.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.library.client import SierraClient
from connectors.library.connector import LibraryConnector, barcode_index, patron_index
from connectors.models import LIBRARY_PATRON_ID, LibraryLink, LinkAttempt, LinkAttemptCounter
from connectors.tasks import citizen_sync_enqueue
from connectors.transport import upstream_client
from wallet import crypto
from wallet.models import Citizen
from wallet.vault import citizen_writing

logger = logging.getLogger(__name__)

MAX_BARCODE = 32
MAX_PIN = 32
CLEANUP_BATCH = 100


class LinkErrorCode(StrEnum):
    """Why a card could not be linked: stable, and each one the API maps to its own code."""

    INVALID = "INVALID"
    WRONG_CREDENTIALS = "WRONG_CREDENTIALS"
    RATE_LIMITED = "RATE_LIMITED"
    ALREADY_LINKED = "ALREADY_LINKED"


class LinkError(Exception):
    """A linking failure the citizen can act on; `code` is stable, the message is for them."""

    def __init__(
        self,
        message: str,
        *,
        code: LinkErrorCode,
        field: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.retry_at = retry_at  # RATE_LIMITED: when the next attempt will be counted


def _card_key(barcode: str) -> str:
    # Its own purpose: the counter's key does not match the link's barcode_index.
    return crypto.blind_index(purpose="library-link-attempts", value=barcode)


def _counter_keys(citizen: Citizen, barcode: str) -> list[tuple[str, str]]:
    """Citizen first, card second: every reservation locks rows in this order."""
    return [
        (LinkAttemptCounter.Kind.CITIZEN, str(citizen.pk)),
        (LinkAttemptCounter.Kind.CARD, _card_key(barcode)),
    ]


def _link_setting(key: str) -> int:
    value: int = LibraryConnector().settings[key]
    return value


def _forget_ended_windows(now: datetime) -> None:
    """Delete counters whose window has ended. Rows an attempt holds are skipped, never waited
    for, so this cannot deadlock with a reservation."""
    window = timedelta(minutes=_link_setting("LINK_WINDOW_MINUTES"))
    with transaction.atomic():
        ended = LinkAttemptCounter.objects.filter(window_start__lte=now - window)
        pks = list(
            ended.select_for_update(skip_locked=True).values_list("pk", flat=True)[:CLEANUP_BATCH]
        )
        LinkAttemptCounter.objects.filter(pk__in=pks).delete()


def _reserve(*, kind: str, key: str, now: datetime) -> datetime | None:
    """Count one attempt against (kind, key), or refuse it: None if counted, else the time the
    window ends. The counter row stays locked until the count is written, and the count is
    committed before the library is asked (durable: never inside a caller's transaction, whose
    rollback on a wrong PIN would take the count back)."""
    window = timedelta(minutes=_link_setting("LINK_WINDOW_MINUTES"))
    with transaction.atomic(durable=True):
        counter, _ = LinkAttemptCounter.objects.select_for_update().get_or_create(
            kind=kind, key=key, defaults={"window_start": now}
        )
        if counter.window_start <= now - window:
            counter.window_start, counter.attempts = now, 0
        if counter.attempts >= _link_setting("LINK_ATTEMPTS"):
            return counter.window_start + window
        counter.attempts += 1
        counter.save(update_fields=["window_start", "attempts"])
    return None


def _attempt_reserve(citizen: Citizen, barcode: str) -> None:
    """Count this attempt for the citizen and for the card before the library is asked; raise
    RATE_LIMITED if either has used up its window. The answer is the same whichever limit was
    hit, and whether or not the card exists."""
    now = timezone.now()
    _forget_ended_windows(now)
    for kind, key in _counter_keys(citizen, barcode):
        retry_at = _reserve(kind=kind, key=key, now=now)
        if retry_at is not None:
            logger.warning(
                "library link refused: %s attempts used up (citizen %s)", kind, citizen.pk
            )
            minutes = max(1, math.ceil((retry_at - now).total_seconds() / 60))
            raise LinkError(
                f"Too many attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
                code=LinkErrorCode.RATE_LIMITED,
                retry_at=retry_at,
            )


def library_card_link(*, citizen: Citizen, barcode: str, pin: str) -> LibraryLink:
    barcode, pin = barcode.strip(), pin.strip()
    if not barcode or len(barcode) > MAX_BARCODE or not barcode.isalnum():
        raise LinkError(
            "Enter the number on your library card.", code=LinkErrorCode.INVALID, field="barcode"
        )
    if not pin or len(pin) > MAX_PIN:
        raise LinkError("Enter your library card PIN.", code=LinkErrorCode.INVALID, field="pin")
    _attempt_reserve(citizen, barcode)
    attempt = LinkAttempt.objects.create(citizen=citizen)

    with upstream_client() as client:
        sierra = SierraClient(client)
        if not sierra.validate(barcode=barcode, pin=pin):
            raise LinkError(
                "The card number or PIN is wrong.", code=LinkErrorCode.WRONG_CREDENTIALS
            )
        patron = sierra.find_by_barcode(barcode)
    if patron is None or patron.get("id") is None:
        raise LinkError(
            "The library does not know this card.", code=LinkErrorCode.WRONG_CREDENTIALS
        )
    patron_id = str(patron["id"])

    taken = LibraryLink.objects.filter(barcode_index=barcode_index(barcode)).exclude(
        citizen=citizen
    )
    if taken.exists():
        raise LinkError(
            "This card is linked to another account.", code=LinkErrorCode.ALREADY_LINKED
        )
    try:
        # Sealed holding the citizen's lock: a data-key rotation cannot retire the key between
        # sealing the patron id and storing it.
        with citizen_writing(citizen) as unit:
            sealed = unit.seal_text(LIBRARY_PATRON_ID, row_id=citizen.pk, text=patron_id)
            link, _ = LibraryLink.objects.update_or_create(
                citizen=unit.citizen,
                defaults={
                    "patron_id_sealed": sealed,
                    "patron_index": patron_index(patron_id),
                    "barcode_index": barcode_index(barcode),
                },
            )
            attempt.succeeded = True
            attempt.save(update_fields=["succeeded"])
            for kind, key in _counter_keys(citizen, barcode):  # in the reservations' order
                LinkAttemptCounter.objects.filter(kind=kind, key=key).delete()
    except IntegrityError:
        raise LinkError(
            "This card is linked to another account.", code=LinkErrorCode.ALREADY_LINKED
        ) from None
    citizen_sync_enqueue(citizen_id=citizen.pk, reason="library-linked")
    return link
