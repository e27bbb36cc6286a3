"""Erasing a citizen: crypto-shredding with one commit point, and a completion that is retried
until it is done. docs/erasure.md tells the whole story; in short:

1. The commit point: one transaction on the data database, holding the citizen row's lock. The
   apps act first (`wallet.hooks.before_erasure`: the consent app withdraws every consent and
   leaves the services a residue without personal data), then the access log's tombstone, the
   `Erasure` journal, and the citizen is closed (`is_active` false). Until it commits nothing has
   changed; once it has, every observer sees the citizen erased: sessions, sign-ins and tokens
   from before are refused, services learn that their consents were withdrawn, writes of the
   citizen's data (syncs, consents) are refused under the same lock.
2. The data key is destroyed in the key store: every ciphertext of the citizen, in this database
   and in its backups, becomes unreadable.
3. The citizen's rows are deleted, with their sessions (the apps' callbacks run once more first,
   and the tombstone is brought up to date, for whatever reached the citizen since step 1).

Steps 2 and 3 run straight after step 1 and, if they fail, again (each is idempotent) from
`erasures_complete` (a periodic task and a command), a later erase call, or the citizen's next
sign-in, until the journal says completed. A completed journal stays for
WALLET_ERASURE_MARKER_DAYS as the erasure marker: a bearer token issued before the erasure is
refused, and a new sign-in starts a new, empty wallet that says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from wallet import crypto, hooks, keys
from wallet.db_router import KEYSTORE
from wallet.models import (
    AccessLogHead,
    AccessLogTombstone,
    Citizen,
    CitizenKey,
    CitizenSession,
    Erasure,
)

logger = logging.getLogger(__name__)

IDENTITY_PURPOSE = "erased-identity"


def identity_index(*, issuer: str, subject: str) -> str:
    """The blind index an erasure marker keeps of (issuer, sub): exact, as `sub`s are."""
    return crypto.content_digest(purpose=IDENTITY_PURPOSE, value=[issuer, subject])


class IssuedBeforeErasure(Exception):
    """A credential issued before this (issuer, sub)'s wallet was erased: it brings nobody back."""


class ErasureIncomplete(Exception):
    """An erasure of this (issuer, sub) is still under way and could not be completed now (the
    journal notes why): a new wallet cannot start yet."""


@dataclass(frozen=True)
class ErasureResult:
    """What an erase call did (or, with `dry_run`, would do). `completed`: all three steps are
    done; if not, the citizen is erased for every observer and `erasures_complete` finishes the
    rest. `apps`: what the apps did at the commit point (consents and requests withdrawn)."""

    citizen_id: str
    erased_at: datetime
    completed: bool
    dry_run: bool = False
    key_destroyed: bool = False
    rows_deleted: int = 0
    apps: dict[str, int] = field(default_factory=dict)


def citizen_erase(*, citizen: Citizen, dry_run: bool = False) -> ErasureResult:
    """Erase everything the wallet holds about the citizen (see the module's docstring).

    A failure before the commit point raises, and nothing has changed. A failure after it is
    logged and reported (`completed` false), not raised: the citizen is erased for everyone, and
    the completion is retried. Erasing a citizen whose erasure is under way finishes it.

    `dry_run`: run the commit point's transaction (the apps' callbacks included) and roll it
    back, and ask the key store for the citizen's key: whatever would make the erasure fail
    raises here too, and nothing changes.
    """
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("citizen_erase must run outside a transaction: it commits in steps")
    erasure, apps = _commit(citizen_id=citizen.pk, dry_run=dry_run)
    if dry_run:
        return ErasureResult(
            citizen_id=str(citizen.pk),
            erased_at=erasure.erased_at,
            completed=erasure.state == Erasure.State.COMPLETED,
            dry_run=True,
            apps=apps,
        )
    citizen.is_active = False  # the caller's instance too: the rest of its request sees it
    key_destroyed, rows_deleted = False, 0
    try:
        key_destroyed, rows_deleted = erasure_complete(erasure=erasure)
    except Exception as error:  # past the commit point, every failure is retried, not raised
        _failure_note(erasure, error)
    return ErasureResult(
        citizen_id=str(citizen.pk),
        erased_at=erasure.erased_at,
        completed=erasure.state == Erasure.State.COMPLETED,
        key_destroyed=key_destroyed,
        rows_deleted=rows_deleted,
        apps=apps,
    )


def _commit(*, citizen_id: UUID, dry_run: bool) -> tuple[Erasure, dict[str, int]]:
    """Step 1, the commit point. Returns the journal (an existing one if an erasure of the
    citizen is already under way, or done) and the apps' counts."""
    with transaction.atomic():
        citizen = Citizen.objects.select_for_update().filter(pk=citizen_id).first()
        erasure = Erasure.objects.filter(citizen_id=citizen_id).first()
        if erasure is not None:
            return erasure, {}
        if citizen is None:
            raise Citizen.DoesNotExist(f"no citizen {citizen_id} to erase")
        erased_at = timezone.now()
        apps = hooks.citizen_erasing(citizen=citizen, erased_at=erased_at)
        _tombstone_write(citizen=citizen, erased_at=erased_at)
        erasure = Erasure.objects.create(
            citizen_id=citizen.pk,
            identity_index=identity_index(issuer=citizen.issuer, subject=citizen.subject),
            erased_at=erased_at,
        )
        citizen.is_active = False
        citizen.save(update_fields=["is_active"])
        if dry_run:
            # the key store answers (step 2 would need it); then nothing of this commits
            CitizenKey.objects.filter(citizen_id=citizen.pk).exists()
            transaction.set_rollback(True)
    if not dry_run:
        logger.info("citizen %s erased (commit point); completing", citizen_id)
    return erasure, apps


def _tombstone_write(*, citizen: Citizen, erased_at: datetime) -> None:
    """Where the citizen's access-log chain ends now. The caller holds the citizen's lock; the
    head is locked too (after the citizen, in a data-key rotation's order), so no append moves
    it before this transaction ends."""
    head = AccessLogHead.objects.select_for_update().filter(citizen=citizen).first()
    AccessLogTombstone.objects.update_or_create(
        citizen_id=citizen.pk,
        defaults={
            "seq": head.seq if head else 0,
            "mac": head.mac if head else "",
            "erased_at": erased_at,
        },
    )


def erasure_complete(*, erasure: Erasure) -> tuple[bool, int]:
    """Steps 2 and 3 of a committed erasure, from wherever it stopped; each is idempotent, so
    two completions of one erasure meeting each other do no harm. Returns whether a key was
    destroyed, and how many rows were deleted. Raises whatever stopped it (the journal then
    says how far it got)."""
    key_destroyed, rows_deleted = False, 0
    if erasure.state == Erasure.State.STARTED:
        key_destroyed = keys.citizen_key_destroy(citizen_id=erasure.citizen_id)
        _state_move(erasure, Erasure.State.KEY_DESTROYED)
    if erasure.state == Erasure.State.KEY_DESTROYED:
        rows_deleted = _rows_delete(erasure)
        # A key made since step 2 (a read that looked the citizen up before the commit point
        # and appended to their log after it) goes too: nothing sealed under it is left.
        key_destroyed |= keys.citizen_key_destroy(citizen_id=erasure.citizen_id)
        _state_move(erasure, Erasure.State.COMPLETED)
        logger.info("erasure of citizen %s completed", erasure.citizen_id)
    return key_destroyed, rows_deleted


def _rows_delete(erasure: Erasure) -> int:
    """Step 3: the citizen's rows (their data, their consents and access log cascade with the
    citizen) and every session of theirs."""
    rows = 0
    with transaction.atomic():
        citizen = Citizen.objects.select_for_update().filter(pk=erasure.citizen_id).first()
        if citizen is not None:
            hooks.citizen_erasing(citizen=citizen, erased_at=erasure.erased_at)
            _tombstone_write(citizen=citizen, erased_at=erasure.erased_at)
            rows, _ = Citizen.objects.filter(pk=citizen.pk).delete()
        sessions, _ = CitizenSession.objects.filter(citizen_id=erasure.citizen_id).delete()
    return rows + sessions


def _state_move(erasure: Erasure, state: str) -> None:
    completed_at = timezone.now() if state == Erasure.State.COMPLETED else None
    Erasure.objects.filter(pk=erasure.pk).update(state=state, completed_at=completed_at, failure="")
    erasure.state, erasure.completed_at, erasure.failure = state, completed_at, ""


def _failure_note(erasure: Erasure, error: Exception) -> None:
    """A completion failed: log it by type (an error's text may quote values) and note it in the
    journal, for `erasures_complete` and the admin to see."""
    failure = type(error).__name__[:100]
    logger.error(
        "erasure of citizen %s stopped at %s (%s); erasures_complete will finish it",
        erasure.citizen_id,
        erasure.state,
        failure,
        exc_info=error,
    )
    try:
        Erasure.objects.filter(pk=erasure.pk).update(failure=failure)
    except Exception:  # the database may be what failed; the log has it
        logger.warning("could not note the failure in the erasure journal")


# Completion sweep


@dataclass
class ErasureSweep:
    completed: int = 0
    failed: int = 0
    markers_purged: int = 0


SWEEP_BATCH = 500


def erasures_complete(*, now: datetime | None = None) -> ErasureSweep:
    """Finish every erasure that stopped after its commit point (oldest first, at most
    SWEEP_BATCH a run), then drop the markers older than WALLET_ERASURE_MARKER_DAYS."""
    sweep = ErasureSweep()
    pending = Erasure.objects.exclude(state=Erasure.State.COMPLETED).order_by("erased_at")
    for erasure in pending[:SWEEP_BATCH]:
        try:
            erasure_complete(erasure=erasure)
        except Exception as error:  # one erasure's failure never stops the others
            _failure_note(erasure, error)
            sweep.failed += 1
        else:
            sweep.completed += 1
    sweep.markers_purged = erasure_markers_purge(now=now)
    return sweep


def marker_lifetime() -> timedelta:
    return timedelta(days=settings.WALLET_ERASURE_MARKER_DAYS)


def erasure_markers_purge(*, now: datetime | None = None) -> int:
    """Forget completed erasures older than the marker's lifetime: every token issued before
    them has expired (a system check keeps the lifetime longer than any token's). The
    tombstones stay. A key the citizen might still have (none should) goes first."""
    cutoff = (now or timezone.now()) - marker_lifetime()
    expired = Erasure.objects.filter(state=Erasure.State.COMPLETED, erased_at__lt=cutoff)
    citizen_ids = list(expired.values_list("citizen_id", flat=True)[:SWEEP_BATCH])
    if not citizen_ids:
        return 0
    with transaction.atomic(using=KEYSTORE):
        CitizenKey.objects.filter(citizen_id__in=citizen_ids).delete()
    deleted, _ = Erasure.objects.filter(citizen_id__in=citizen_ids).delete()
    return deleted


# Sign-ins and tokens after an erasure


def erasure_latest(*, issuer: str, subject: str) -> Erasure | None:
    """The newest erasure of a wallet of (issuer, sub) the wallet still remembers."""
    return (
        Erasure.objects.filter(identity_index=identity_index(issuer=issuer, subject=subject))
        .order_by("-erased_at")
        .first()
    )


def erasures_finish(*, issuer: str, subject: str) -> None:
    """Complete an erasure of (issuer, sub) still under way, so that a new sign-in can start a
    new wallet. ErasureIncomplete if it cannot be completed now."""
    pending = Erasure.objects.filter(
        identity_index=identity_index(issuer=issuer, subject=subject)
    ).exclude(state=Erasure.State.COMPLETED)
    for erasure in pending:
        try:
            erasure_complete(erasure=erasure)
        except Exception as error:
            _failure_note(erasure, error)
            raise ErasureIncomplete from error


def issued_before(issued_at: datetime | None, erased_at: datetime | None) -> bool:
    """A credential issued at `issued_at` (a token's `iat`, whole seconds) is from before the
    erasure at `erased_at`: the same second counts as before (refused, never let in)."""
    return issued_at is not None and erased_at is not None and issued_at <= erased_at
