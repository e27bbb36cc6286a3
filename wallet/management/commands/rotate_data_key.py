import json
from dataclasses import asdict

from django.core.management.base import BaseCommand, CommandParser

from wallet.keys import data_key_rotate
from wallet.management.commands._citizen import add_citizen_arguments, citizen_from_options


class Command(BaseCommand):
    help = "Replace one citizen's data key and re-encrypt their data (after a suspected leak)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_citizen_arguments(parser)

    def handle(self, *args: object, **options: object) -> None:
        summary = data_key_rotate(citizen=citizen_from_options(options))
        self.stdout.write(json.dumps(asdict(summary)))
