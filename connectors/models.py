import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from wallet import sealed


class ConnectorConfig(models.Model):
    """An admin's settings for one upstream, over the defaults from the environment.

    Blank fields fall back to settings, so a connector moves from the sandbox to production by
    configuration alone. The client secret is sealed (see connectors.config); it is never shown
    back, only replaced.
    """

    source = models.CharField(max_length=32, unique=True)
    enabled = models.BooleanField(default=True)
    sweep_interval_minutes = models.PositiveIntegerField(
        default=0, help_text="Run an incremental sweep this often; 0 = only when started by hand."
    )
    base_url = models.URLField(blank=True, help_text="Blank: the URL from the environment.")
    token_url = models.URLField(
        blank=True,
        help_text="Blank: the URL from the environment; for the library, `token` under the "
        "effective base URL.",
    )
    client_id = models.CharField(max_length=200, blank=True)
    pin_case_sensitive = models.BooleanField(
        "PINs are case-sensitive",
        default=True,
        help_text="Library only: how the library compares PINs when a citizen links a card "
        "(Sierra's caseSensitivity in patrons/validate; Sierra's default is case-sensitive).",
    )
    client_secret_sealed = models.BinaryField(blank=True, null=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.source} connector"


# What a sync run counts, in the order summaries show them.
RUN_COUNTS = (
    "citizens",
    "citizens_failed",
    "fetched",
    "created",
    "updated",
    "unchanged",
    "ended",
    "failed",
)
# What a retention run counts: the ended records it deleted.
RETENTION_COUNTS = ("purged",)


class SyncRun(models.Model):
    """One run of one connector: who started it, what it did, how it ended. A `retention` run is
    the source's retention purge (connectors.services.records_retention_purge): it fetches
    nothing and counts only the ended records it deleted (`purged`).

    A running sweep row is also the per-source lock: at most one full or incremental sweep of a
    source can be running (a partial unique index), and a sweep whose heartbeat stopped (a
    killed worker) is marked abandoned before the next one starts. Errors are short safe
    reasons (codes and field names), never upstream values.
    """

    class Mode(models.TextChoices):
        CITIZEN = "citizen", "One citizen"
        FULL = "full", "Full sweep"
        INCREMENTAL = "incremental", "Incremental sweep"
        RETENTION = "retention", "Retention purge"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partly failed"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned (worker lost)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=32)
    mode = models.CharField(max_length=16, choices=Mode.choices)
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sync_runs",
        db_index=False,  # syncrun_citizen_recent leads with it
    )
    trigger = models.CharField(
        max_length=64,
        help_text="What started the run: login, citizen, admin:<id>, command, schedule",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    since = models.DateTimeField(null=True, blank=True, help_text="Incremental: changes since")
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    citizens = models.PositiveIntegerField(default=0)
    citizens_failed = models.PositiveIntegerField(
        default=0, help_text="Citizens whose fetch failed outright (upstream error)"
    )
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    ended = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    purged = models.PositiveIntegerField(
        default=0, help_text="Retention: ended records deleted, their retention having passed"
    )
    error_code = models.CharField(max_length=64, blank=True)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["source", "-started_at"], name="syncrun_source_recent"),
            models.Index(
                fields=["citizen", "source", "-started_at"], name="syncrun_citizen_recent"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source"],
                condition=Q(status="running", mode__in=["full", "incremental"]),
                name="one_running_sweep_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.mode} run {self.id} ({self.status})"

    @property
    def counts(self) -> tuple[str, ...]:
        """The counts a run of its mode keeps."""
        return RETENTION_COUNTS if self.mode == self.Mode.RETENTION else RUN_COUNTS


class LibraryLink(models.Model):
    """A citizen's library card, linked by proving barcode + PIN to the library.

    The patron id is sealed under the citizen's key; blind indexes of the patron id and the
    barcode allow exact look-ups (a sweep's changed patrons, a card already linked elsewhere)
    without storing either. The PIN is never stored.
    """

    citizen = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="library_link",
    )
    patron_id_sealed = models.BinaryField()
    patron_index = models.CharField(max_length=64, unique=True)
    barcode_index = models.CharField(max_length=64, unique=True)
    linked_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Library card of {self.citizen_id}"


class LinkAttempt(models.Model):
    """One library-card linking attempt that went to the library: who and when, whether it
    succeeded (no barcode, no PIN). The history; the limit is kept by LinkAttemptCounter."""

    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    attempted_at = models.DateTimeField(auto_now_add=True, db_index=True)
    succeeded = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Link attempt by {self.citizen_id} at {self.attempted_at}"


class LinkAttemptCounter(models.Model):
    """Library-card linking attempts in the current window, for one citizen or for one card.

    An attempt is counted here (its row locked, in a transaction of its own) before the library
    is asked, so parallel attempts cannot all pass one check. A card is keyed by the blind index
    of its barcode, a citizen by their id; neither the barcode nor the PIN is stored. A window
    starts at the first attempt after the previous one ended.
    """

    class Kind(models.TextChoices):
        CITIZEN = "citizen", "Citizen"
        CARD = "card", "Library card"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    key = models.CharField(max_length=64, help_text="Citizen id, or blind index of the barcode")
    window_start = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="one_link_counter_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.attempts} link attempts ({self.kind}) since {self.window_start}"


# The sealed columns (wallet.sealed): every read and write of them names one of these.
LIBRARY_PATRON_ID = sealed.field(LibraryLink, "patron_id_sealed")
# An admin's client secret, under the wallet's own system key, not a citizen's.
CONNECTOR_CLIENT_SECRET = sealed.field(
    ConnectorConfig, "client_secret_sealed", row="source", per_citizen=False
)
