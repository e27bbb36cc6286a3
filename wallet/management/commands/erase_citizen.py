import json
from dataclasses import asdict

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wallet.erasure import citizen_erase, erasure_complete
from wallet.management.commands._citizen import (
    add_citizen_arguments,
    citizen_from_options,
    erasure_from_options,
)


class Command(BaseCommand):
    help = (
        "Erase everything the wallet holds about one citizen (docs/erasure.md): consents "
        "withdrawn, the data key destroyed, then the rows deleted. Run again for a citizen whose "
        "erasure stopped half-way, it finishes it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_citizen_arguments(parser)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check that the erasure would go through, and change nothing",
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            citizen = citizen_from_options(options)
        except CommandError:
            # The rows are gone: an erasure that stopped after deleting them is finished here.
            erasure = erasure_from_options(options)
            if erasure is None:
                raise
            if not options["dry_run"]:
                erasure_complete(erasure=erasure)
            self.stdout.write(
                json.dumps({"citizen_id": str(erasure.citizen_id), "state": erasure.state})
            )
            return
        result = citizen_erase(citizen=citizen, dry_run=bool(options["dry_run"]))
        self.stdout.write(json.dumps(asdict(result), default=str))
        if not result.completed and not result.dry_run:
            raise CommandError(
                "the citizen is erased for everyone, but completing the erasure failed (see the "
                "log): run this again, or erasures_complete"
            )
