"""`manage.py purge_expired_records [--dry-run] [--source NAME ...]`

The retention purge without a broker (from cron, say, once a day): every source's records that
ended upstream longer ago than the source keeps them are deleted, and each source's count is
printed. With a broker, Celery beat runs the same purge daily (`CELERY_BEAT_SCHEDULE`). Exits 1
when a source's purge failed (its run says why), else 0.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors import base, services


class Command(BaseCommand):
    help = (
        "Delete the records that ended upstream longer ago than their source's retention "
        "(every source, or those named); --dry-run only counts them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            action="append",
            metavar="NAME",
            help="only this source (repeatable); default: every source",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be deleted; delete nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        known = [connector.source for connector in base.connectors()]
        sources = options["source"] or known
        unknown = sorted(set(sources) - set(known))
        if unknown:
            raise CommandError(
                f"unknown source {', '.join(unknown)}; the sources are {', '.join(known)}"
            )
        dry_run = options["dry_run"]
        outcomes = services.records_retention_purge(
            trigger="command", sources=sources, dry_run=dry_run
        )
        for outcome in outcomes:
            days = outcome.retention.days
            if dry_run:
                line = (
                    f"{outcome.source}: {outcome.purged} ended records older than {days} days "
                    "would be deleted (dry run)"
                )
            elif outcome.error_code:
                line = (
                    f"{outcome.source}: FAILED ({outcome.error_code}) after deleting "
                    f"{outcome.purged} ended records older than {days} days"
                )
            else:
                line = (
                    f"{outcome.source}: {outcome.purged} ended records older than {days} days "
                    "deleted"
                )
            self.stdout.write(line)
        if any(outcome.error_code for outcome in outcomes):
            raise CommandError("the purge failed for a source: see its run on the sync dashboard")
