"""`manage.py sync --source <source>|all [--citizen SUB] [--incremental] [--json]`

Exits 0 when every run succeeded, 1 otherwise. With a broker the sweep's chunks run on Celery
workers and this command waits for them (up to --timeout seconds).
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors import base, services
from connectors.models import RUN_COUNTS, SyncRun
from wallet.models import Citizen

SUMMARY_FIELDS = ("source", "mode", "status", *RUN_COUNTS, "error_code", "errors")


def run_summary(run: SyncRun) -> dict[str, Any]:
    summary = {name: getattr(run, name) for name in SUMMARY_FIELDS}
    summary["run"] = str(run.pk)
    summary["seconds"] = (
        round((run.finished_at - run.started_at).total_seconds(), 3) if run.finished_at else None
    )
    return summary


class Command(BaseCommand):
    help = "Sync one citizen or sweep all citizens from one source or all of them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source", required=True, choices=[*(c.source for c in base.connectors()), "all"]
        )
        parser.add_argument("--citizen", metavar="SUB", help="only this citizen (their `sub`)")
        parser.add_argument("--issuer", default=None, help="the citizen's identity provider")
        parser.add_argument("--incremental", action="store_true", help="only what changed upstream")
        parser.add_argument(
            "--json", action="store_true", help="print the summary as one JSON object"
        )
        parser.add_argument(
            "--timeout", type=float, default=3600, help="seconds to wait for workers"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sources = (
            [c.source for c in base.connectors()]
            if options["source"] == "all"
            else [options["source"]]
        )
        if options["citizen"]:
            citizen = Citizen.objects.filter(
                issuer=options["issuer"] or settings.OIDC_ISSUER, subject=options["citizen"]
            ).first()
            if citizen is None:
                raise CommandError("no citizen with that sub at that issuer")
            runs = services.citizen_sync(citizen=citizen, trigger="command", sources=sources)
        else:
            runs = []
            for source in sources:
                try:
                    runs.append(
                        services.sweep_start(
                            source=source, incremental=options["incremental"], trigger="command"
                        )
                    )
                except (services.SweepAlreadyRunning, services.SourceDisabled) as exc:
                    raise CommandError(str(exc)) from None
            runs = [self._wait(run, options["timeout"]) for run in runs]
        summaries = [run_summary(run) for run in runs]
        ok = all(run.status == SyncRun.Status.SUCCEEDED for run in runs)
        if options["json"]:
            self.stdout.write(json.dumps({"ok": ok, "runs": summaries, **_totals(summaries)}))
        else:
            for s in summaries:
                self.stdout.write(
                    f"{s['source']:8} {s['mode']:11} {s['status']:9} citizens={s['citizens']} "
                    f"fetched={s['fetched']} created={s['created']} updated={s['updated']} "
                    f"unchanged={s['unchanged']} ended={s['ended']} failed={s['failed']} "
                    f"{s['error_code']}"
                )
        if not ok:
            raise SystemExit(1)

    def _wait(self, run: SyncRun, timeout: float) -> SyncRun:
        deadline = time.monotonic() + timeout
        while run.status == SyncRun.Status.RUNNING:
            if time.monotonic() > deadline:
                raise CommandError(f"run {run.pk} still running after {timeout:.0f}s")
            time.sleep(0.5)
            run.refresh_from_db()
        return run


def _totals(summaries: list[dict[str, Any]]) -> dict[str, int]:
    return {name: sum(s[name] for s in summaries) for name in RUN_COUNTS}
