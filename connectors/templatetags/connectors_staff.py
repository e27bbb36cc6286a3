"""The staff pages' words for a run's status, mode, trigger and counts, in the page's language
(the model's choices are the admin's English)."""

from __future__ import annotations

from django import template
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from connectors.models import SyncRun
from connectors.selectors import SweepProgress

register = template.Library()

STATUS_LABELS: dict[str, Promise] = {
    SyncRun.Status.RUNNING: _("Running"),
    SyncRun.Status.SUCCEEDED: _("Succeeded"),
    SyncRun.Status.PARTIAL: _("Partly failed"),
    SyncRun.Status.FAILED: _("Failed"),
    SyncRun.Status.ABANDONED: _("Abandoned (worker lost)"),
}
MODE_LABELS: dict[str, Promise] = {
    SyncRun.Mode.CITIZEN: _("One citizen"),
    SyncRun.Mode.FULL: _("Full"),
    SyncRun.Mode.INCREMENTAL: _("Incremental"),
    SyncRun.Mode.RETENTION: _("Retention purge"),
}
TRIGGER_LABELS: dict[str, Promise] = {
    "admin": _("Staff member"),
    "schedule": _("Schedule"),
    "command": _("Command line"),
    "login": _("Sign-in"),
    "citizen": _("Citizen"),
}
COUNT_LABELS: dict[str, Promise] = {
    "citizens": _("Citizens"),
    "citizens_failed": _("Citizens failed"),
    "fetched": _("Fetched"),
    "created": _("Created"),
    "updated": _("Updated"),
    "unchanged": _("Unchanged"),
    "ended": _("Ended"),
    "failed": _("Failed records"),
    "purged": _("Deleted, retention passed"),
}


@register.filter
def run_status(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@register.filter
def run_mode(mode: str) -> str:
    return str(MODE_LABELS.get(mode, mode))


@register.filter
def run_trigger(trigger: str) -> str:
    """Who or what started a run; a staff member's id is not shown."""
    kind = trigger.split(":", 1)[0]
    return str(TRIGGER_LABELS.get(kind, kind))


@register.filter
def count_label(name: str) -> str:
    return str(COUNT_LABELS.get(name, name))


@register.filter
def progress_text(progress: SweepProgress) -> str:
    """A sweep's chunks done, out of how many (unknown while it is still enqueueing)."""
    if progress.total is None:
        return gettext("%(done)s chunks done; the rest are still being counted.") % {
            "done": progress.done
        }
    return gettext("%(done)s of %(total)s chunks done.") % {
        "done": progress.done,
        "total": progress.total,
    }
