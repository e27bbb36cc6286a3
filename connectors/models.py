import uuid

from django.conf import settings
from django.db import models


class SyncRun(models.Model):
    """One run of one connector: who started it, what it did, how it ended.

    Errors are short safe reasons (codes and field names), never upstream values.
    """

    class Mode(models.TextChoices):
        CITIZEN = "citizen", "One citizen"
        FULL = "full", "Full sweep"
        INCREMENTAL = "incremental", "Incremental sweep"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partly failed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=32)
    mode = models.CharField(max_length=16, choices=Mode.choices)
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sync_runs",
    )
    trigger = models.CharField(
        max_length=64, help_text="What started the run: login, citizen, admin, schedule"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    ended = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["source", "-started_at"], name="syncrun_source_recent"),
            models.Index(
                fields=["citizen", "source", "-started_at"], name="syncrun_citizen_recent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.mode} run {self.id} ({self.status})"
