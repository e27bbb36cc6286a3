import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wallet.keys import kek_rotate


class Command(BaseCommand):
    help = (
        "Re-wrap every citizen's data key under the newest key-encryption key, in batches "
        "(WALLET_KEK_ROTATION_BATCH_SIZE, or --batch-size). No data row is rewritten. Safe to "
        "interrupt and run again, and to run while the wallet serves. Prints a JSON summary."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args: object, **options: object) -> None:
        batch_size = options["batch_size"]
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise CommandError("--batch-size must be a positive number")
        summary = kek_rotate(batch_size=batch_size)
        self.stdout.write(json.dumps(summary.as_dict()))
        if summary.failed:
            raise CommandError(
                f"{summary.failed} data keys could not be unwrapped with any configured KEK "
                "(a retired KEK is still needed); see failed_citizens"
            )
        if summary.left_behind:
            raise CommandError(
                f"{summary.left_behind} data keys were written under an older KEK while the "
                "rotation ran (a process without the new KEK?): run it again"
            )
