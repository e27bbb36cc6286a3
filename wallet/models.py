"""The wallet's core tables. No column holds a personal value in plaintext: payloads are sealed
with `wallet.crypto`, identifiers that need exact-match look-ups are blind indexes."""

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone

from wallet import sealed


class CitizenManager(BaseUserManager["Citizen"]):
    def get_by_natural_key(self, username: str | None) -> "Citizen":
        if username is None:
            raise self.model.DoesNotExist
        return self.get(pk=username)


class Citizen(AbstractBaseUser, PermissionsMixin):
    """A person known to the city's OpenID Connect provider, keyed by (issuer, sub), never email.

    Admins are citizens too: staff status comes from a role claim at login. There is no password:
    the column inherited from AbstractBaseUser always holds an unusable marker.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Which generation of the data key the citizen's data is sealed under. It lives here, in the
    # data database, so writers can lock it together with the data (see keys.data_key_rotate).
    data_key_generation = models.PositiveIntegerField(default=1)
    # The language the citizen chose for the pages (a code of settings.LANGUAGES), blank until
    # they choose: then the browser's or the default. Not personal data of the kind we seal.
    language = models.CharField(max_length=8, blank=True, default="")
    # Set when this wallet was started after an earlier wallet of the same (issuer, sub) was
    # erased: a token issued before then is refused, and the citizen is told the wallet is new.
    previous_wallet_erased_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "id"
    REQUIRED_FIELDS = ["issuer", "subject"]

    objects = CitizenManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="citizen_unique_identity")
        ]

    def __str__(self) -> str:
        return f"Citizen {self.id}"


class CitizenKey(models.Model):
    """The citizen's data key, only ever stored wrapped by a key-encryption key.

    Lives in the key store database ("keys"), never beside the data it opens, so it holds the
    citizen's id rather than a foreign key. `generation` counts data-key replacements (it is part
    of every ciphertext's associated data); `kek_version` names the KEK that wrapped this copy.
    Deleting this row crypto-shreds the citizen: every ciphertext of theirs, including copies in
    backups of the data database, becomes unreadable.
    """

    citizen_id = models.UUIDField(primary_key=True)
    generation = models.PositiveIntegerField(default=1)
    # Not indexed: every KEK rotation rewrites this column in every row, and an index on it would
    # make each of those updates a non-HOT one (a new entry in every index). Nothing looks keys
    # up by it: the rotation walks the primary key.
    kek_version = models.PositiveIntegerField()
    wrapped_key = models.BinaryField()
    # The next generation's key while a data-key rotation is under way.
    pending_generation = models.PositiveIntegerField(null=True, blank=True)
    pending_kek_version = models.PositiveIntegerField(null=True, blank=True)
    pending_wrapped_key = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    wrapped_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Data key of {self.citizen_id} (gen {self.generation}, KEK v{self.kek_version})"


class Profile(models.Model):
    """Self-entered and provider-supplied profile, sealed as one payload (one decryption a read).

    The payload maps each field to {"value", "source", "updated_at"} so the citizen sees where
    every value came from.
    """

    citizen = models.OneToOneField(
        Citizen, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    payload = models.BinaryField()
    # Blind index of the email, for exact-match look-ups (support finding an account).
    email_index = models.CharField(max_length=64, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Profile of {self.citizen_id}"


class DataRecord(models.Model):
    """One record a connector brought from an upstream system, sealed whole.

    `external_key` is a blind index of (source, kind, upstream id): upstream ids such as
    membership numbers are personal data. `content_digest` (keyed) lets an unchanged record be
    skipped without decrypting it.
    """

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended upstream"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey(
        Citizen,
        on_delete=models.CASCADE,
        related_name="records",
        db_index=False,  # record_citizen_kind leads with it
    )
    source = models.CharField(max_length=32)
    kind = models.CharField(max_length=64)
    external_key = models.CharField(max_length=64)
    payload = models.BinaryField()
    content_digest = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    fetched_at = models.DateTimeField()
    upstream_modified_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "external_key"], name="record_unique_upstream_identity"
            )
        ]
        indexes = [
            models.Index(fields=["citizen", "source", "kind"], name="record_citizen_kind"),
            # The retention purge's walk: a source's ended records, oldest first (small: only
            # ended records are in it).
            models.Index(
                fields=["source", "ended_at", "id"],
                name="record_ended",
                condition=models.Q(state="ended"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}.{self.kind} record {self.id}"


class AccessLogEntry(models.Model):
    """One read of a citizen's data by a service: append-only and hash-chained per citizen.

    `mac` is a keyed HMAC over this entry (its plaintext details included) and the previous
    entry's mac, so a removed, reordered or altered entry breaks the chain (`verify_access_log`).
    What was read (service name, fields, purpose, request id) is sealed under the citizen's data
    key; the row id in the associated data is `seq`. The service and consent ids are plain
    references (the consent app owns those tables; the wallet does not depend on it).
    """

    id = models.BigAutoField(primary_key=True)
    citizen = models.ForeignKey(
        Citizen,
        on_delete=models.CASCADE,
        related_name="access_log",
        db_index=False,  # access_log_unique_seq (citizen, seq) leads with it
    )
    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    service_id = models.UUIDField()
    consent_id = models.UUIDField(null=True, blank=True)
    details = models.BinaryField()
    previous_mac = models.CharField(max_length=64, blank=True)
    mac = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["citizen", "seq"], name="access_log_unique_seq")
        ]

    def __str__(self) -> str:
        return f"Access log entry {self.seq} of {self.citizen_id}"


class AccessLogHead(models.Model):
    """The newest link of a citizen's access-log chain: deleting the last entry shows too.

    Appends move it with a compare-and-swap on (seq, generation), so `generation` mirrors the
    citizen's `data_key_generation`: a data-key rotation moves both under one lock, and an entry
    sealed under the old key can then never be appended after the log was re-sealed.
    """

    citizen = models.OneToOneField(
        Citizen, on_delete=models.CASCADE, primary_key=True, related_name="access_log_head"
    )
    seq = models.PositiveBigIntegerField()
    mac = models.CharField(max_length=64)
    generation = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"Access log head of {self.citizen_id}"


class AccessLogTombstone(models.Model):
    """Where an erased citizen's access-log chain ended: the verifier (`verify_access_log`) tells
    an erased chain from a removed one by it. No personal data: the citizen's internal id, the
    last entry's sequence number and mac (a keyed HMAC), and when they were erased."""

    citizen_id = models.UUIDField(primary_key=True)
    seq = models.PositiveBigIntegerField()
    mac = models.CharField(max_length=64, blank=True)
    erased_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Access log of {self.citizen_id}, erased after entry {self.seq}"


class Erasure(models.Model):
    """A citizen's erasure (wallet.erasure): its journal while it is under way, then for
    WALLET_ERASURE_MARKER_DAYS the marker that refuses tokens issued before it.

    Written at the erasure's commit point, in the transaction that closes the citizen. Holds no
    personal data: the erased citizen's internal id, a blind index of their (issuer, sub), times
    and the step reached. `failure` is the type name of the last error a completion met.
    """

    class State(models.TextChoices):
        STARTED = "started", "Committed; the data key is next"
        KEY_DESTROYED = "key_destroyed", "Data key destroyed; the rows are next"
        COMPLETED = "completed", "Completed"

    citizen_id = models.UUIDField(primary_key=True)
    identity_index = models.CharField(max_length=64, db_index=True)
    erased_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.STARTED)
    completed_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"Erasure of {self.citizen_id} ({self.state})"


class CitizenSession(AbstractBaseSession):
    """A browser session (wallet.sessions seals its payload), with the id of the citizen signed
    in to it, so an erasure can delete every session of theirs: a session holds their ID token."""

    citizen_id = models.UUIDField(null=True, blank=True, db_index=True)

    @classmethod
    def get_session_store_class(cls) -> type:
        from wallet.sessions import SessionStore

        return SessionStore


# The sealed columns (wallet.sealed): every read and write of them names one of these.
PROFILE_PAYLOAD = sealed.field(Profile, "payload")
RECORD_PAYLOAD = sealed.field(DataRecord, "payload")
# An entry is sealed before it has an id: its place in the citizen's chain names it.
ACCESS_LOG_DETAILS = sealed.field(AccessLogEntry, "details", row="seq")
